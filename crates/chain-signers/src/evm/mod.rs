//! The EVM family: ETH, MATIC, BSC, CELO, KLAY, ONE, XDC, KCS, and VET.
//! Same keys and addresses, different BIP44 coin types; XDC writes its
//! addresses with an `xdc` prefix.

use bitcoin::secp256k1::PublicKey;
use kms_core::Chain;

use crate::secp_account::{eth_address_bytes, hex_0x, AccountChain};
use crate::secp_hd::secret_from_hex;

fn address_0x(key: &PublicKey) -> String {
    format!("0x{}", hex::encode(eth_address_bytes(key)))
}

fn address_xdc(key: &PublicKey) -> String {
    format!("xdc{}", hex::encode(eth_address_bytes(key)))
}

const fn evm(chain: Chain, coin: u32, address: fn(&PublicKey) -> String) -> AccountChain {
    AccountChain {
        chain,
        coin_mainnet: coin,
        coin_testnet: 1,
        xpub_first: true,
        address,
        key_text: hex_0x,
        parse_key: secret_from_hex,
    }
}

pub(crate) static ETH: AccountChain = evm(Chain::ETH, 60, address_0x);
pub(crate) static MATIC: AccountChain = evm(Chain::MATIC, 966, address_0x);
pub(crate) static BSC: AccountChain = evm(Chain::BSC, 60, address_0x);
pub(crate) static CELO: AccountChain = evm(Chain::CELO, 52752, address_0x);
pub(crate) static KLAY: AccountChain = evm(Chain::KLAY, 8217, address_0x);
pub(crate) static ONE: AccountChain = evm(Chain::ONE, 1023, address_0x);
pub(crate) static XDC: AccountChain = evm(Chain::XDC, 550, address_xdc);
pub(crate) static KCS: AccountChain = evm(Chain::KCS, 60, address_0x);
pub(crate) static VET: AccountChain = evm(Chain::VET, 818, address_0x);
