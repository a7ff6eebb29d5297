//! Litecoin: BTC's scheme with Litecoin's version bytes (`Ltub`/`ttub`
//! xpubs, `L…` addresses). The SDK's testnet writes addresses with BTC
//! testnet's version byte 0x6f. Pending transactions are bitcore-lib-ltc JSON,
//! serialized without bitcore's fee and dust checks.

use kms_core::Chain;

use super::bitcore::Rules;
use super::{AddressStyle, Network, Profile, ScriptAddresses, Signing};

pub(crate) static LTC: Profile = Profile {
    chain: Chain::LTC,
    mainnet: Network {
        coin: 2,
        xpub_version: [0x01, 0x9d, 0xa4, 0x62], // Ltub
        xpub_address: AddressStyle::P2pkh { version: 0x30 },
        key_address: AddressStyle::P2pkh { version: 0x30 },
        wif_version: 0xb0,
        script_addresses: ScriptAddresses::Base58 {
            p2pkh: 0x30,
            p2sh: 0x32,
            segwit_hrp: Some("ltc"),
        },
    },
    testnet: Network {
        coin: 1,
        xpub_version: [0x04, 0x36, 0xf6, 0xe1], // ttub
        xpub_address: AddressStyle::P2pkh { version: 0x6f },
        key_address: AddressStyle::P2pkh { version: 0x6f },
        wif_version: 0xef,
        script_addresses: ScriptAddresses::Base58 {
            p2pkh: 0x6f,
            p2sh: 0x3a,
            segwit_hrp: Some("tltc"),
        },
    },
    // bitcore-lib-ltc signs P2WPKH inputs too.
    signing: Signing::Bitcore(Rules {
        segwit: true,
        checks: None,
    }),
};
