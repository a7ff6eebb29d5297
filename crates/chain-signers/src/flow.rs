//! FLOW. The original's "address" is not a Flow address (accounts are created
//! on chain) but the uncompressed public key without its `04` prefix; its
//! private keys are hex of a big number, without leading zeros. Both are
//! reproduced because users' stored data and the Tatum API depend on them.

use bitcoin::secp256k1::{PublicKey, SecretKey};
use kms_core::Chain;

use crate::secp_account::AccountChain;
use crate::secp_hd::secret_from_unpadded_hex;

fn public_key_hex(key: &PublicKey) -> String {
    hex::encode(&key.serialize_uncompressed()[1..])
}

fn unpadded_hex(key: &SecretKey) -> String {
    let full = hex::encode(key.secret_bytes());
    let trimmed = full.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.to_string()
    }
}

pub(crate) static FLOW: AccountChain = AccountChain {
    chain: Chain::FLOW,
    coin_mainnet: 539,
    coin_testnet: 539,
    xpub_first: false,
    address: public_key_hex,
    key_text: unpadded_hex,
    parse_key: secret_from_unpadded_hex,
};
