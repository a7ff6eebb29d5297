//! Stellar. Wallets are `{address, secret}`: a random ed25519 key as strkeys
//! (`G…` public key, `S…` seed): base32 of version ‖ payload ‖ CRC16-XModem (LE).

use async_trait::async_trait;
use kms_core::{Chain, WalletEntry};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::{Account, Mnemonic, Prepared, SignInput, SignedTx, Signer, SignerError};

pub(crate) struct Xlm;
pub(crate) static XLM: Xlm = Xlm;

const ACCOUNT_ID: u8 = 6 << 3; // G
const SEED: u8 = 18 << 3; // S
const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);
const ALPHABET: base32::Alphabet = base32::Alphabet::Rfc4648 { padding: false };

fn strkey(version: u8, payload: &[u8; 32]) -> Zeroizing<String> {
    let mut data = Zeroizing::new(Vec::with_capacity(35));
    data.push(version);
    data.extend_from_slice(payload);
    let crc = CRC16.checksum(&data);
    data.extend_from_slice(&crc.to_le_bytes());
    Zeroizing::new(base32::encode(ALPHABET, &data))
}

/// Decodes a strkey of `version`, checking its checksum.
fn parse_strkey(text: &str, version: u8) -> Option<Zeroizing<[u8; 32]>> {
    let data = Zeroizing::new(base32::decode(ALPHABET, text.trim())?);
    if data.len() != 35 || data[0] != version {
        return None;
    }
    let crc = u16::from_le_bytes([data[33], data[34]]);
    if CRC16.checksum(&data[..33]) != crc {
        return None;
    }
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&data[1..33]);
    Some(out)
}

pub(crate) fn signing_key(secret: &str) -> Result<ed25519_dalek::SigningKey, SignerError> {
    let seed = parse_strkey(secret, SEED)
        .ok_or_else(|| SignerError::key(Chain::XLM, "not a Stellar secret seed (S…)"))?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

pub(crate) fn account_id(key: &ed25519_dalek::VerifyingKey) -> String {
    strkey(ACCOUNT_ID, key.as_bytes()).to_string()
}

#[async_trait]
impl Signer for Xlm {
    fn chain(&self) -> Chain {
        Chain::XLM
    }

    fn generate_wallet(
        &self,
        _testnet: bool,
        _mnemonic: Option<&Mnemonic>,
    ) -> Result<WalletEntry, SignerError> {
        let seed = super::random_seed();
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        Ok(WalletEntry::new()
            .with("address", account_id(&signing.verifying_key()))
            .with("secret", strkey(SEED, &seed).as_str()))
    }

    fn account(&self, _: bool, _: &Mnemonic) -> Result<Box<dyn Account>, SignerError> {
        Err(SignerError::unsupported(
            Chain::XLM,
            "mnemonics (XLM wallets are single keys)",
        ))
    }

    fn address_from_xpub(&self, _: bool, _: &str, _: u32) -> Result<String, SignerError> {
        Err(SignerError::unsupported(
            Chain::XLM,
            "extended public keys (XLM wallets store their address)",
        ))
    }

    fn address_from_private_key(
        &self,
        _testnet: bool,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        Ok(account_id(
            &signing_key(key.expose_secret())?.verifying_key(),
        ))
    }

    fn sign(&self, _input: &SignInput<'_>, _prepared: &Prepared) -> Result<SignedTx, SignerError> {
        Err(SignerError::unsupported(
            Chain::XLM,
            "signing (not built yet)",
        ))
    }
}
