//! Solana. Wallets are `{mnemonic, address, privateKey}`: the key at
//! m/44'/501'/0'/0' (SLIP-0010), the private key as base58 of the 64-byte
//! secret key (seed ‖ public key), the address as base58 of the public key.
//! The original's `index` does not apply to SOL wallets; `getprivatekey`
//! at index i answers m/44'/501'/i'/0', the common wallets' convention, so
//! index 0 is the stored key.

use async_trait::async_trait;
use kms_core::{Chain, WalletEntry};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::Slip10Node;
use crate::mnemonic::GivenOrFresh;
use crate::{Account, Mnemonic, Prepared, SignInput, SignedTx, Signer, SignerError};

pub(crate) struct Sol;
pub(crate) static SOL: Sol = Sol;

fn key_at(mnemonic: &Mnemonic, account: u32) -> Result<Slip10Node, SignerError> {
    Slip10Node::path(mnemonic.seed(), &[44, 501, account, 0])
}

fn encode(node: &Slip10Node) -> (String, SecretString) {
    let signing = node.signing_key();
    let mut secret = Zeroizing::new([0u8; 64]);
    secret.copy_from_slice(&signing.to_keypair_bytes());
    let address = bs58::encode(signing.verifying_key().as_bytes()).into_string();
    (
        address,
        SecretString::from(bs58::encode(&secret[..]).into_string()),
    )
}

/// A Solana secret key as the SDK accepts it: 128 hex characters or base58,
/// of the 64-byte seed ‖ public key.
pub(crate) fn parse_secret(text: &str) -> Result<ed25519_dalek::SigningKey, SignerError> {
    let text = text.trim();
    let bytes = Zeroizing::new(if text.len() == 128 {
        hex::decode(text)
            .map_err(|_| SignerError::key(Chain::SOL, "128 characters but not hexadecimal"))?
    } else {
        bs58::decode(text)
            .into_vec()
            .map_err(|_| SignerError::key(Chain::SOL, "not base58"))?
    });
    let pair: [u8; 64] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| SignerError::key(Chain::SOL, "expected a 64-byte secret key"))?;
    ed25519_dalek::SigningKey::from_keypair_bytes(&pair)
        .map_err(|_| SignerError::key(Chain::SOL, "its public half does not match its seed"))
}

struct SolAccount {
    mnemonic_seed: Zeroizing<[u8; 64]>,
}

impl Account for SolAccount {
    fn private_key(&self, index: u32) -> Result<SecretString, SignerError> {
        let node = Slip10Node::path(self.mnemonic_seed.as_ref(), &[44, 501, index, 0])?;
        Ok(encode(&node).1)
    }
    fn address(&self, index: u32) -> Result<String, SignerError> {
        let node = Slip10Node::path(self.mnemonic_seed.as_ref(), &[44, 501, index, 0])?;
        Ok(encode(&node).0)
    }
}

#[async_trait]
impl Signer for Sol {
    fn chain(&self) -> Chain {
        Chain::SOL
    }

    fn generate_wallet(
        &self,
        _testnet: bool,
        mnemonic: Option<&Mnemonic>,
    ) -> Result<WalletEntry, SignerError> {
        let mnemonic = &*GivenOrFresh::new(mnemonic);
        let (address, private_key) = encode(&key_at(mnemonic, 0)?);
        Ok(WalletEntry::new()
            .with("mnemonic", mnemonic.phrase())
            .with("address", address)
            .with("privateKey", private_key.expose_secret()))
    }

    fn account(
        &self,
        _testnet: bool,
        mnemonic: &Mnemonic,
    ) -> Result<Box<dyn Account>, SignerError> {
        Ok(Box::new(SolAccount {
            mnemonic_seed: Zeroizing::new(*mnemonic.seed()),
        }))
    }

    fn address_from_xpub(&self, _: bool, _: &str, _: u32) -> Result<String, SignerError> {
        Err(SignerError::unsupported(
            Chain::SOL,
            "extended public keys (SOL wallets store their address)",
        ))
    }

    fn address_from_private_key(
        &self,
        _testnet: bool,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        let signing = parse_secret(key.expose_secret())?;
        Ok(bs58::encode(signing.verifying_key().as_bytes()).into_string())
    }

    fn sign(&self, _input: &SignInput<'_>, _prepared: &Prepared) -> Result<SignedTx, SignerError> {
        Err(SignerError::unsupported(
            Chain::SOL,
            "signing (not built yet)",
        ))
    }
}
