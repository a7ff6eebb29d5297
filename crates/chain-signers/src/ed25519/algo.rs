//! Algorand. Wallets are `{address, secret}`: a random ed25519 key; the
//! secret is unpadded RFC 4648 base32 of the 64-byte seed ‖ public key (103
//! characters), the address base32 of public key ‖ last 4 bytes of its
//! SHA-512/256 (58 characters).

use async_trait::async_trait;
use kms_core::{Chain, Intent, Network, WalletEntry};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha512_256};
use zeroize::Zeroizing;

use super::algo_tx;
use crate::{Mnemonic, Prepared, SignInput, SignedTx, Signer, SignerError};

pub(crate) struct Algo;
pub(crate) static ALGO: Algo = Algo;

const ALPHABET: base32::Alphabet = base32::Alphabet::Rfc4648 { padding: false };

pub(crate) fn address(public: &[u8; 32]) -> String {
    let checksum = Sha512_256::digest(public);
    let mut data = Vec::with_capacity(36);
    data.extend_from_slice(public);
    data.extend_from_slice(&checksum[28..]);
    base32::encode(ALPHABET, &data)
}

pub(crate) fn signing_key(secret: &str) -> Result<ed25519_dalek::SigningKey, SignerError> {
    let bytes = Zeroizing::new(
        base32::decode(ALPHABET, secret.trim())
            .ok_or_else(|| SignerError::key(Chain::ALGO, "not base32"))?,
    );
    let pair: [u8; 64] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| SignerError::key(Chain::ALGO, "expected 64 bytes (seed and public key)"))?;
    ed25519_dalek::SigningKey::from_keypair_bytes(&pair)
        .map_err(|_| SignerError::key(Chain::ALGO, "its public half does not match its seed"))
}

#[async_trait]
impl Signer for Algo {
    fn chain(&self) -> Chain {
        Chain::ALGO
    }

    fn generate_wallet(
        &self,
        _network: Network,
        _mnemonic: Option<&Mnemonic>,
    ) -> Result<WalletEntry, SignerError> {
        let seed = super::random_seed();
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        let pair = Zeroizing::new(signing.to_keypair_bytes());
        let secret = Zeroizing::new(base32::encode(ALPHABET, pair.as_ref()));
        Ok(WalletEntry::new()
            .with("address", address(signing.verifying_key().as_bytes()))
            .with("secret", secret.as_str()))
    }

    fn address_from_private_key(
        &self,
        _network: Network,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        Ok(address(
            signing_key(key.expose_secret())?.verifying_key().as_bytes(),
        ))
    }

    /// ed25519 over `TX` ‖ the canonical msgpack of the transaction; the
    /// output is the hex of the msgpack `{sig, txn}`.
    fn sign(&self, input: &SignInput<'_>, _prepared: &Prepared) -> Result<SignedTx, SignerError> {
        let (txn, sender) = algo_tx::txn(&input.pending.serialized_transaction)?;
        let secret = input.keys.first().ok_or_else(|| SignerError::MissingKey {
            chain: Chain::ALGO,
            reason: "no secret was resolved for this transaction".into(),
        })?;
        let key = signing_key(secret.expose_secret())?;
        if key.verifying_key().as_bytes() != &sender {
            return Err(SignerError::tx(
                Chain::ALGO,
                format!(
                    "from is {}, not the address of the stored secret",
                    address(&sender)
                ),
            ));
        }
        let mut message = b"TX".to_vec();
        txn.write(&mut message);
        let signature = ed25519_dalek::Signer::sign(&key, &message).to_bytes();
        Ok(SignedTx::plain(hex::encode(algo_tx::signed(
            &txn, &signature,
        ))))
    }

    /// Decoded from the msgpack map `sign` signs.
    fn intent(&self, input: &SignInput<'_>, _prepared: &Prepared) -> Result<Intent, SignerError> {
        let (txn, _) = algo_tx::txn(&input.pending.serialized_transaction)?;
        algo_tx::intent(&txn, input.network)
    }
}
