//! Bitcoin. Addresses from the xpub are native segwit (P2WPKH); an address
//! from a private key is legacy P2PKH, as in the original. Pending
//! transactions are bitcore-lib JSON with P2PKH or P2WPKH (also
//! P2SH-wrapped) inputs, serialized without bitcore's fee and dust checks.

use kms_core::Chain;

use super::bitcore::Rules;
use super::{AddressStyle, Network, Profile, ScriptAddresses, Signing};
use crate::secp_hd::{TPUB, XPUB};

pub(crate) static BTC: Profile = Profile {
    chain: Chain::BTC,
    mainnet: Network {
        coin: 0,
        xpub_version: XPUB,
        xpub_address: AddressStyle::P2wpkh {
            hrp: bitcoin::KnownHrp::Mainnet,
        },
        key_address: AddressStyle::P2pkh { version: 0x00 },
        wif_version: 0x80,
        script_addresses: ScriptAddresses::Base58 {
            p2pkh: 0x00,
            p2sh: 0x05,
            segwit_hrp: Some("bc"),
        },
    },
    testnet: Network {
        coin: 1,
        xpub_version: TPUB,
        xpub_address: AddressStyle::P2wpkh {
            hrp: bitcoin::KnownHrp::Testnets,
        },
        key_address: AddressStyle::P2pkh { version: 0x6f },
        wif_version: 0xef,
        script_addresses: ScriptAddresses::Base58 {
            p2pkh: 0x6f,
            p2sh: 0xc4,
            segwit_hrp: Some("tb"),
        },
    },
    signing: Signing::Bitcore(Rules {
        segwit: true,
        checks: None,
    }),
};
