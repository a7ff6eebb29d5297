//! TRON: Ethereum-style key hashing, base58check addresses with version 0x41,
//! keys as 64 hex without `0x`, the same path on both networks.

use bitcoin::secp256k1::PublicKey;
use kms_core::Chain;

use crate::secp_account::{eth_address_bytes, hex_plain, AccountChain};
use crate::secp_hd::secret_from_hex;

fn address(key: &PublicKey) -> String {
    let mut payload = Vec::with_capacity(21);
    payload.push(0x41);
    payload.extend_from_slice(&eth_address_bytes(key));
    bitcoin::base58::encode_check(&payload)
}

pub(crate) static TRON: AccountChain = AccountChain {
    chain: Chain::TRON,
    coin_mainnet: 195,
    coin_testnet: 195,
    xpub_first: false,
    address,
    key_text: hex_plain,
    parse_key: secret_from_hex,
    signing: None,
};
