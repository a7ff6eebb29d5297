//! The EVM family: ETH, MATIC, BSC, CELO, KLAY, ONE, XDC, KCS, and VET.
//! Same keys and addresses, different BIP44 coin types; XDC writes its
//! addresses with an `xdc` prefix. Signing ([`tx`]) differs in where each
//! chain's SDK filled missing fields from.

mod celo;
mod intent;
mod tx;
mod vet;

use bitcoin::secp256k1::PublicKey;
use kms_core::{Chain, Network};

use crate::secp_account::{eth_address_bytes, hex_0x, AccountChain, TxSigning};
use crate::secp_hd::secret_from_hex;
use tx::EvmSigning;

/// The chain ids a chain's network signs for: a transaction for any other
/// id (another chain's, the other network's) is refused, whoever filled it
/// in. Testnets list the current ones and those retired since the
/// original's SDK, whose transactions are harmless if replayed there.
pub(crate) fn chain_ids(chain: Chain, network: Network) -> &'static [u64] {
    match (chain, network) {
        (Chain::ETH, Network::Mainnet) => &[1],
        // Sepolia, Hoodi; Holesky (retired September 2025), Goerli (retired).
        (Chain::ETH, Network::Testnet) => &[11_155_111, 17_000, 560_048, 5],
        (Chain::MATIC, Network::Mainnet) => &[137],
        // Amoy; Mumbai (retired).
        (Chain::MATIC, Network::Testnet) => &[80_002, 80_001],
        (Chain::BSC, Network::Mainnet) => &[56],
        (Chain::BSC, Network::Testnet) => &[97],
        (Chain::CELO, Network::Mainnet) => &[42_220],
        // Celo Sepolia; Alfajores (retired).
        (Chain::CELO, Network::Testnet) => &[11_142_220, 44_787],
        (Chain::KLAY, Network::Mainnet) => &[8_217],
        // Kairos (formerly Baobab).
        (Chain::KLAY, Network::Testnet) => &[1_001],
        // Harmony shard 0, where Tatum's endpoints are.
        (Chain::ONE, Network::Mainnet) => &[1_666_600_000],
        (Chain::ONE, Network::Testnet) => &[1_666_700_000],
        (Chain::XDC, Network::Mainnet) => &[50],
        // Apothem.
        (Chain::XDC, Network::Testnet) => &[51],
        (Chain::KCS, Network::Mainnet) => &[321],
        (Chain::KCS, Network::Testnet) => &[322],
        _ => &[],
    }
}

fn address_0x(key: &PublicKey) -> String {
    format!("0x{}", hex::encode(eth_address_bytes(key)))
}

fn address_xdc(key: &PublicKey) -> String {
    format!("xdc{}", hex::encode(eth_address_bytes(key)))
}

const fn evm(
    chain: Chain,
    coin: u32,
    address: fn(&PublicKey) -> String,
    signing: Option<&'static dyn TxSigning>,
) -> AccountChain {
    AccountChain {
        chain,
        coin_mainnet: coin,
        coin_testnet: 1,
        xpub_first: true,
        address,
        key_text: hex_0x,
        parse_key: secret_from_hex,
        signing,
    }
}

const fn signing(chain: Chain, rpc: &'static str) -> EvmSigning {
    EvmSigning {
        chain,
        rpc,
        count: None,
        fee: None,
        rpc_prefix: "eth",
        always_estimate_gas: false,
        celo: false,
    }
}

static ETH_SIGNING: EvmSigning = EvmSigning {
    count: Some("/v3/ethereum/transaction/count/"),
    fee: Some("ETH"),
    ..signing(Chain::ETH, "/v3/ethereum/web3/{apiKey}")
};
static MATIC_SIGNING: EvmSigning = EvmSigning {
    fee: Some("MATIC"),
    ..signing(Chain::MATIC, "/v3/polygon/web3/{apiKey}")
};
static BSC_SIGNING: EvmSigning = EvmSigning {
    count: Some("/v3/bsc/transaction/count/"),
    fee: Some("BSC"),
    ..signing(Chain::BSC, "/v3/bsc/web3/{apiKey}")
};
static XDC_SIGNING: EvmSigning = EvmSigning {
    count: Some("/v3/xdc/transaction/count/"),
    always_estimate_gas: true,
    ..signing(Chain::XDC, "/v3/xdc/web3/{apiKey}")
};
static ONE_SIGNING: EvmSigning = signing(Chain::ONE, "/v3/one/web3/{apiKey}");
static KCS_SIGNING: EvmSigning = signing(Chain::KCS, "/v3/blockchain/node/KCS/{apiKey}");
static KLAY_SIGNING: EvmSigning = EvmSigning {
    rpc_prefix: "klay",
    ..signing(Chain::KLAY, "/v3/blockchain/node/KLAY/{apiKey}")
};
static CELO_SIGNING: EvmSigning = EvmSigning {
    celo: true,
    ..signing(Chain::CELO, "/v3/blockchain/node/CELO/{apiKey}")
};

pub(crate) static ETH: AccountChain = evm(Chain::ETH, 60, address_0x, Some(&ETH_SIGNING));
pub(crate) static MATIC: AccountChain = evm(Chain::MATIC, 966, address_0x, Some(&MATIC_SIGNING));
pub(crate) static BSC: AccountChain = evm(Chain::BSC, 60, address_0x, Some(&BSC_SIGNING));
pub(crate) static CELO: AccountChain = evm(Chain::CELO, 52752, address_0x, Some(&CELO_SIGNING));
pub(crate) static KLAY: AccountChain = evm(Chain::KLAY, 8217, address_0x, Some(&KLAY_SIGNING));
pub(crate) static ONE: AccountChain = evm(Chain::ONE, 1023, address_0x, Some(&ONE_SIGNING));
pub(crate) static XDC: AccountChain = evm(Chain::XDC, 550, address_xdc, Some(&XDC_SIGNING));
pub(crate) static KCS: AccountChain = evm(Chain::KCS, 60, address_0x, Some(&KCS_SIGNING));
pub(crate) static VET: AccountChain = evm(Chain::VET, 818, address_0x, Some(&vet::VET_SIGNING));
