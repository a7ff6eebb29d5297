//! Dogecoin. Mainnet xpubs carry BTC's `xpub` version bytes (not `dgub`),
//! as the SDK writes them. Pending transactions are bitcore-lib-doge JSON
//! with P2PKH inputs; unlike BTC and LTC, the SDK serializes them with
//! bitcore's default checks, so a fee or an output bitcore-lib-doge would
//! refuse is refused here too.

use kms_core::Chain;

use super::bitcore::{Checks, Rules};
use super::{AddressStyle, Network, Profile, ScriptAddresses, Signing};
use crate::secp_hd::{TPUB, XPUB};

/// bitcore-lib-doge 10.0's `Transaction` constants.
const BITCORE_DOGE_CHECKS: Checks = Checks {
    dust: 100_000_000,       // Transaction.DUST_AMOUNT: 1 DOGE
    fee_per_kb: 100_000_000, // Transaction.FEE_PER_KB: 1 DOGE
    fee_security_margin: 15, // Transaction.FEE_SECURITY_MARGIN
};

pub(crate) static DOGE: Profile = Profile {
    chain: Chain::DOGE,
    mainnet: Network {
        coin: 3,
        xpub_version: XPUB,
        xpub_address: AddressStyle::P2pkh { version: 0x1e },
        key_address: AddressStyle::P2pkh { version: 0x1e },
        wif_version: 0x9e,
        script_addresses: ScriptAddresses::Base58 {
            p2pkh: 0x1e,
            p2sh: 0x16,
            segwit_hrp: None,
        },
    },
    testnet: Network {
        coin: 1,
        xpub_version: TPUB,
        xpub_address: AddressStyle::P2pkh { version: 0x71 },
        key_address: AddressStyle::P2pkh { version: 0x71 },
        wif_version: 0xf1,
        script_addresses: ScriptAddresses::Base58 {
            p2pkh: 0x71,
            p2sh: 0xc4,
            segwit_hrp: None,
        },
    },
    signing: Signing::Bitcore(Rules {
        segwit: false,
        checks: Some(BITCORE_DOGE_CHECKS),
    }),
};
