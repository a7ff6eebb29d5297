//! Cardano. Wallets are `{mnemonic, xpub}` on the Icarus master key
//! (PBKDF2-HMAC-SHA512 of the mnemonic's entropy, 4096 rounds, clamped) with
//! Cardano's BIP32-Ed25519 (the `ed25519-bip32` crate, derivation scheme V2),
//! account m/1852'/1815'/0'. The original's "xpub" is two extended public
//! keys, the payment chain …/0 then the stake key …/2/0, each public key ‖
//! chain code (256 hex in all); private key at i = the extended secret ‖
//! public key ‖ chain code of …/0/i (128 bytes, 256 hex); address at i = the Shelley base address of payment key
//! …/0/i and stake key …/2/0.

use async_trait::async_trait;
use bech32::{Bech32, Hrp};
use blake2::digest::consts::U28;
use blake2::{Blake2b, Digest};
use ed25519_bip32::{DerivationScheme, XPrv, XPub, XPRV_SIZE};
use kms_core::{Chain, WalletEntry};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::mnemonic::GivenOrFresh;
use crate::{Account, Mnemonic, Prepared, SignInput, SignedTx, Signer, SignerError, MAX_INDEX};

pub(crate) struct Ada;
pub(crate) static ADA: Ada = Ada;

const HARDENED: u32 = 0x8000_0000;

/// (`XPrv` zeroes itself on drop.)
fn account_xprv(mnemonic: &Mnemonic) -> XPrv {
    let entropy = mnemonic.entropy();
    let mut bytes = Zeroizing::new([0u8; XPRV_SIZE]);
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(b"", &entropy, 4096, bytes.as_mut());
    let master = XPrv::normalize_bytes_force3rd(*bytes);
    master
        .derive(DerivationScheme::V2, 1852 | HARDENED)
        .derive(DerivationScheme::V2, 1815 | HARDENED)
        .derive(DerivationScheme::V2, HARDENED)
}

fn soft(index: u32) -> Result<u32, SignerError> {
    if index > MAX_INDEX {
        return Err(SignerError::InvalidIndex(index.to_string()));
    }
    Ok(index)
}

fn key_hash(public: &[u8]) -> [u8; 28] {
    Blake2b::<U28>::digest(public).into()
}

fn base_address(testnet: bool, payment: &XPub, stake: &XPub) -> String {
    let mut data = Vec::with_capacity(57);
    // Header: base address, key hash / key hash, network 1 (mainnet) or 0.
    data.push(if testnet { 0x00 } else { 0x01 });
    data.extend_from_slice(&key_hash(payment.public_key_slice()));
    data.extend_from_slice(&key_hash(stake.public_key_slice()));
    let hrp = Hrp::parse_unchecked(if testnet { "addr_test" } else { "addr" });
    bech32::encode::<Bech32>(hrp, &data).expect("57 bytes fit a bech32 string")
}

fn derive_pub(key: &XPub, index: u32) -> Result<XPub, SignerError> {
    key.derive(DerivationScheme::V2, index)
        .map_err(|e| SignerError::InvalidXpub {
            chain: Chain::ADA,
            reason: format!("{e:?}"),
        })
}

/// The payment chain …/0 and the stake key …/2/0 of an account.
fn chains(account: &XPub) -> Result<(XPub, XPub), SignerError> {
    Ok((
        derive_pub(account, 0)?,
        derive_pub(&derive_pub(account, 2)?, 0)?,
    ))
}

fn address_at(
    testnet: bool,
    payment_chain: &XPub,
    stake: &XPub,
    index: u32,
) -> Result<String, SignerError> {
    let payment = derive_pub(payment_chain, soft(index)?)?;
    Ok(base_address(testnet, &payment, stake))
}

struct AdaAccount {
    testnet: bool,
    xprv: XPrv,
}

impl Account for AdaAccount {
    fn private_key(&self, index: u32) -> Result<SecretString, SignerError> {
        let key = self
            .xprv
            .derive(DerivationScheme::V2, 0)
            .derive(DerivationScheme::V2, soft(index)?);
        let mut bytes = Zeroizing::new(Vec::with_capacity(128));
        bytes.extend_from_slice(key.extended_secret_key_slice());
        bytes.extend_from_slice(key.public().public_key_slice());
        bytes.extend_from_slice(key.chain_code_slice());
        Ok(SecretString::from(hex::encode(&bytes[..])))
    }
    fn address(&self, index: u32) -> Result<String, SignerError> {
        let (payment, stake) = chains(&self.xprv.public())?;
        address_at(self.testnet, &payment, &stake, index)
    }
}

#[async_trait]
impl Signer for Ada {
    fn chain(&self) -> Chain {
        Chain::ADA
    }

    fn generate_wallet(
        &self,
        _testnet: bool,
        mnemonic: Option<&Mnemonic>,
    ) -> Result<WalletEntry, SignerError> {
        let mnemonic = &*GivenOrFresh::new(mnemonic);
        let (payment, stake) = chains(&account_xprv(mnemonic).public())?;
        let xpub = format!(
            "{}{}",
            hex::encode(payment.as_ref()),
            hex::encode(stake.as_ref())
        );
        Ok(WalletEntry::new()
            .with("mnemonic", mnemonic.phrase())
            .with("xpub", xpub))
    }

    fn account(&self, testnet: bool, mnemonic: &Mnemonic) -> Result<Box<dyn Account>, SignerError> {
        Ok(Box::new(AdaAccount {
            testnet,
            xprv: account_xprv(mnemonic),
        }))
    }

    fn address_from_xpub(
        &self,
        testnet: bool,
        xpub: &str,
        index: u32,
    ) -> Result<String, SignerError> {
        let bad = |reason: &str| SignerError::InvalidXpub {
            chain: Chain::ADA,
            reason: reason.into(),
        };
        let bytes = hex::decode(xpub.trim()).map_err(|_| bad("not hexadecimal"))?;
        let (payment, stake) =
            match bytes.len() {
                // The original's shape: payment chain ‖ stake key.
                128 => (
                    XPub::from_slice(&bytes[..64]).map_err(|_| bad("bad payment key"))?,
                    XPub::from_slice(&bytes[64..]).map_err(|_| bad("bad stake key"))?,
                ),
                // An account-level key, as other Cardano wallets export it.
                64 => chains(&XPub::from_slice(&bytes).map_err(|_| bad("bad account key"))?)?,
                _ => return Err(bad(
                    "expected 128 bytes (payment and stake extended keys) or 64 (an account key)",
                )),
            };
        address_at(testnet, &payment, &stake, index)
    }

    fn address_from_private_key(
        &self,
        testnet: bool,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        // A stored key is a payment key alone: the enterprise address (no stake part) is its honest answer.
        let bytes = Zeroizing::new(
            hex::decode(key.expose_secret().trim())
                .map_err(|_| SignerError::key(Chain::ADA, "not hexadecimal"))?,
        );
        // 128 bytes (extended secret ‖ public key ‖ chain code, the original's
        // shape) or 96 (extended secret ‖ chain code).
        let xprv = match bytes.len() {
            128 => {
                let mut xprv = Zeroizing::new([0u8; XPRV_SIZE]);
                xprv[..64].copy_from_slice(&bytes[..64]);
                xprv[64..].copy_from_slice(&bytes[96..]);
                let key = XPrv::from_bytes_verified(*xprv).map_err(|_| {
                    SignerError::key(Chain::ADA, "not a valid extended private key")
                })?;
                if key.public().public_key_slice() != &bytes[64..96] {
                    return Err(SignerError::key(
                        Chain::ADA,
                        "its public key does not match its secret",
                    ));
                }
                key
            }
            96 => XPrv::from_slice_verified(&bytes)
                .map_err(|_| SignerError::key(Chain::ADA, "not a valid extended private key"))?,
            _ => {
                return Err(SignerError::key(
                    Chain::ADA,
                    "expected 128 bytes (256 hexadecimal characters)",
                ))
            }
        };
        let mut data = Vec::with_capacity(29);
        data.push(if testnet { 0x60 } else { 0x61 });
        data.extend_from_slice(&key_hash(xprv.public().public_key_slice()));
        let hrp = Hrp::parse_unchecked(if testnet { "addr_test" } else { "addr" });
        Ok(bech32::encode::<Bech32>(hrp, &data).expect("29 bytes fit a bech32 string"))
    }

    fn sign(&self, _input: &SignInput<'_>, _prepared: &Prepared) -> Result<SignedTx, SignerError> {
        Err(SignerError::unsupported(
            Chain::ADA,
            "signing (not built yet)",
        ))
    }
}
