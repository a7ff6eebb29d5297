//! The UTXO chains: BTC, LTC, DOGE, BCH. They share BIP44 derivation and
//! differ in version bytes and address encodings, which each chain's
//! [`Profile`] lists.

mod cashaddr;

use async_trait::async_trait;
use bitcoin::hashes::{hash160, Hash};
use bitcoin::secp256k1::{PublicKey, SecretKey};
use kms_core::{Chain, WalletEntry};
use secrecy::{ExposeSecret, SecretString};

use crate::secp_hd::{self, AccountKey, TPUB, XPUB};
use crate::{Account, Mnemonic, Prepared, SignInput, SignedTx, Signer, SignerError};

/// How a UTXO chain writes its addresses.
#[derive(Clone, Copy)]
enum AddressStyle {
    /// Native segwit v0 with this bech32 prefix (BTC's xpub addresses).
    P2wpkh { hrp: bitcoin::KnownHrp },
    /// Base58check pay-to-pubkey-hash with this version byte.
    P2pkh { version: u8 },
    /// Bitcoin Cash CashAddr P2PKH with this prefix.
    CashAddr { prefix: &'static str },
}

/// One network of a UTXO chain, as the original's SDK configures it.
#[derive(Clone, Copy)]
struct Network {
    coin: u32,
    xpub_version: [u8; 4],
    xpub_address: AddressStyle,
    /// `generateAddressFromPrivatekey` answers legacy P2PKH even where the
    /// xpub addresses are segwit.
    key_address: AddressStyle,
    wif_version: u8,
}

pub(crate) struct Profile {
    chain: Chain,
    mainnet: Network,
    testnet: Network,
}

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
    },
    testnet: Network {
        coin: 1,
        xpub_version: TPUB,
        xpub_address: AddressStyle::P2wpkh {
            hrp: bitcoin::KnownHrp::Testnets,
        },
        key_address: AddressStyle::P2pkh { version: 0x6f },
        wif_version: 0xef,
    },
};

pub(crate) static LTC: Profile = Profile {
    chain: Chain::LTC,
    mainnet: Network {
        coin: 2,
        xpub_version: [0x01, 0x9d, 0xa4, 0x62], // Ltub
        xpub_address: AddressStyle::P2pkh { version: 0x30 },
        key_address: AddressStyle::P2pkh { version: 0x30 },
        wif_version: 0xb0,
    },
    testnet: Network {
        coin: 1,
        xpub_version: [0x04, 0x36, 0xf6, 0xe1], // ttub
        // The SDK's LTC testnet uses BTC testnet's version byte (m…/n…).
        xpub_address: AddressStyle::P2pkh { version: 0x6f },
        key_address: AddressStyle::P2pkh { version: 0x6f },
        wif_version: 0xef,
    },
};

pub(crate) static DOGE: Profile = Profile {
    chain: Chain::DOGE,
    mainnet: Network {
        coin: 3,
        // Dogecoin's own dgub is not what the SDK writes: it uses BTC's xpub.
        xpub_version: XPUB,
        xpub_address: AddressStyle::P2pkh { version: 0x1e },
        key_address: AddressStyle::P2pkh { version: 0x1e },
        wif_version: 0x9e,
    },
    testnet: Network {
        coin: 1,
        xpub_version: TPUB,
        xpub_address: AddressStyle::P2pkh { version: 0x71 },
        key_address: AddressStyle::P2pkh { version: 0x71 },
        wif_version: 0xf1,
    },
};

pub(crate) static BCH: Profile = Profile {
    chain: Chain::BCH,
    mainnet: Network {
        coin: 145,
        xpub_version: XPUB,
        xpub_address: AddressStyle::CashAddr {
            prefix: "bitcoincash",
        },
        key_address: AddressStyle::CashAddr {
            prefix: "bitcoincash",
        },
        wif_version: 0x80,
    },
    testnet: Network {
        // The SDK derives BCH testnet wallets on the mainnet path.
        coin: 145,
        xpub_version: TPUB,
        xpub_address: AddressStyle::CashAddr { prefix: "bchtest" },
        key_address: AddressStyle::CashAddr { prefix: "bchtest" },
        wif_version: 0xef,
    },
};

impl Profile {
    fn network(&self, testnet: bool) -> &Network {
        if testnet {
            &self.testnet
        } else {
            &self.mainnet
        }
    }

    /// Parses a WIF of this chain and network: the key and whether its public
    /// key is compressed.
    pub(crate) fn parse_wif(
        &self,
        testnet: bool,
        wif: &str,
    ) -> Result<(SecretKey, bool), SignerError> {
        let chain = self.chain;
        let raw = zeroize::Zeroizing::new(
            bitcoin::base58::decode_check(wif.trim())
                .map_err(|_| SignerError::key(chain, "not a WIF (base58check) key"))?,
        );
        let expected = self.network(testnet).wif_version;
        let compressed = match raw.len() {
            34 if raw[33] == 0x01 => true,
            33 => false,
            _ => return Err(SignerError::key(chain, "not a WIF key (wrong length)")),
        };
        if raw[0] != expected {
            let other = self.network(!testnet).wif_version;
            let hint = if raw[0] == other {
                if testnet {
                    "it is a mainnet key; drop --testnet"
                } else {
                    "it is a testnet key; add --testnet"
                }
            } else {
                "its version byte belongs to another chain"
            };
            return Err(SignerError::key(chain, hint));
        }
        let key = SecretKey::from_slice(&raw[1..33])
            .map_err(|_| SignerError::key(chain, "not a valid secp256k1 key"))?;
        Ok((key, compressed))
    }
}

fn address(style: AddressStyle, key: &PublicKey) -> String {
    match style {
        AddressStyle::P2wpkh { hrp } => {
            bitcoin::Address::p2wpkh(&bitcoin::CompressedPublicKey(*key), hrp).to_string()
        }
        AddressStyle::P2pkh { version } => p2pkh(version, &key.serialize()),
        AddressStyle::CashAddr { prefix } => cashaddr::encode_p2pkh(
            prefix,
            &hash160::Hash::hash(&key.serialize()).to_byte_array(),
        ),
    }
}

/// Wallet import format of a compressed-key secret.
fn wif(version: u8, key: &SecretKey) -> SecretString {
    let mut payload = zeroize::Zeroizing::new(Vec::with_capacity(34));
    payload.push(version);
    payload.extend_from_slice(&key.secret_bytes());
    payload.push(0x01);
    SecretString::from(bitcoin::base58::encode_check(&payload))
}

fn p2pkh(version: u8, pubkey: &[u8]) -> String {
    let mut payload = Vec::with_capacity(21);
    payload.push(version);
    payload.extend_from_slice(&hash160::Hash::hash(pubkey).to_byte_array());
    bitcoin::base58::encode_check(&payload)
}

struct UtxoAccount {
    network: Network,
    key: AccountKey,
}

impl Account for UtxoAccount {
    fn private_key(&self, index: u32) -> Result<SecretString, SignerError> {
        let secret = self.key.child_secret(index)?;
        Ok(wif(self.network.wif_version, &secret))
    }

    fn address(&self, index: u32) -> Result<String, SignerError> {
        let public = secp_hd::child_public(&self.key.xpub(), index)?;
        Ok(address(self.network.xpub_address, &public))
    }
}

#[async_trait]
impl Signer for Profile {
    fn chain(&self) -> Chain {
        self.chain
    }

    fn generate_wallet(
        &self,
        testnet: bool,
        mnemonic: Option<&Mnemonic>,
    ) -> Result<WalletEntry, SignerError> {
        let fresh;
        let mnemonic = match mnemonic {
            Some(m) => m,
            None => {
                fresh = Mnemonic::generate();
                &fresh
            }
        };
        let network = self.network(testnet);
        let key = AccountKey::derive(mnemonic, &secp_hd::bip44_change_path(network.coin))?;
        Ok(WalletEntry::new().with("mnemonic", mnemonic.phrase()).with(
            "xpub",
            secp_hd::encode_xpub(&key.xpub(), network.xpub_version),
        ))
    }

    fn account(&self, testnet: bool, mnemonic: &Mnemonic) -> Result<Box<dyn Account>, SignerError> {
        let network = *self.network(testnet);
        let key = AccountKey::derive(mnemonic, &secp_hd::bip44_change_path(network.coin))?;
        Ok(Box::new(UtxoAccount { network, key }))
    }

    fn address_from_xpub(
        &self,
        testnet: bool,
        xpub: &str,
        index: u32,
    ) -> Result<String, SignerError> {
        let network = self.network(testnet);
        let parsed = secp_hd::decode_xpub(self.chain, xpub, &[network.xpub_version])?;
        let public = secp_hd::child_public(&parsed, index)?;
        Ok(address(network.xpub_address, &public))
    }

    fn address_from_private_key(
        &self,
        testnet: bool,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        let (secret, compressed) = self.parse_wif(testnet, key.expose_secret())?;
        let public = PublicKey::from_secret_key(secp_hd::secp(), &secret);
        let network = self.network(testnet);
        Ok(match network.key_address {
            AddressStyle::P2pkh { version } if !compressed => {
                p2pkh(version, &public.serialize_uncompressed())
            }
            style => address(style, &public),
        })
    }

    fn sign(&self, _input: &SignInput<'_>, _prepared: &Prepared) -> Result<SignedTx, SignerError> {
        Err(SignerError::unsupported(
            self.chain,
            "signing (not built yet)",
        ))
    }
}
