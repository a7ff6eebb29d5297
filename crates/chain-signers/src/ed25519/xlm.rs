//! Stellar. Wallets are `{address, secret}`: a random ed25519 key as strkeys
//! (`G…` public key, `S…` seed): base32 of version ‖ payload ‖ CRC16-XModem (LE).

use async_trait::async_trait;
use base64::Engine;
use ed25519_dalek::Signer as _;
use kms_core::{Chain, Intent, Network, Transfer, WalletEntry};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use stellar_xdr as xdr;
use zeroize::Zeroizing;

use crate::{Mnemonic, Prepared, SignInput, SignedTx, Signer, SignerError};

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
        _network: Network,
        _mnemonic: Option<&Mnemonic>,
    ) -> Result<WalletEntry, SignerError> {
        let seed = super::random_seed();
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        Ok(WalletEntry::new()
            .with("address", account_id(&signing.verifying_key()))
            .with("secret", strkey(SEED, &seed).as_str()))
    }

    fn address_from_private_key(
        &self,
        _network: Network,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        Ok(account_id(
            &signing_key(key.expose_secret())?.verifying_key(),
        ))
    }

    /// The Tatum API sends the unsigned `TransactionEnvelope` (v1, type
    /// `ENVELOPE_TYPE_TX`) as base64 XDR. The signature is over
    /// SHA-256(SHA-256(network passphrase) ‖ ENVELOPE_TYPE_TX ‖ Transaction);
    /// the output is the envelope with one `DecoratedSignature` (the public
    /// key's last 4 bytes as hint, then the 64-byte signature), as base64 XDR.
    fn sign(&self, input: &SignInput<'_>, _prepared: &Prepared) -> Result<SignedTx, SignerError> {
        let (envelope, _) = unsigned_envelope(&input.pending.serialized_transaction)?;
        let body = &envelope[..envelope.len() - 4];
        let transaction = &body[4..];
        let key = input.keys.first().ok_or_else(|| SignerError::MissingKey {
            chain: Chain::XLM,
            reason: "no secret was resolved for this transaction".into(),
        })?;
        let signing = signing_key(key.expose_secret())?;
        let passphrase = passphrase(input.network);
        let mut payload = Sha256::new();
        payload.update(Sha256::digest(passphrase.as_bytes()));
        payload.update(ENVELOPE_TYPE_TX);
        payload.update(transaction);
        let signature = signing.sign(&payload.finalize());
        let public = signing.verifying_key().to_bytes();

        let mut signed = body.to_vec();
        signed.extend_from_slice(&1u32.to_be_bytes());
        signed.extend_from_slice(&public[28..]);
        signed.extend_from_slice(&64u32.to_be_bytes());
        signed.extend_from_slice(&signature.to_bytes());
        Ok(SignedTx::plain(
            base64::engine::general_purpose::STANDARD.encode(signed),
        ))
    }

    /// Decoded from the envelope `sign` signs (nothing is prepared).
    fn intent(&self, input: &SignInput<'_>, _prepared: &Prepared) -> Result<Intent, SignerError> {
        let (_, tx) = unsigned_envelope(&input.pending.serialized_transaction)?;
        intent_of(&tx, input.network)
    }
}

fn passphrase(network: Network) -> &'static str {
    if network.is_testnet() {
        TESTNET_PASSPHRASE
    } else {
        PUBLIC_PASSPHRASE
    }
}

/// The envelope's bytes and its decoded transaction. The Tatum API sends
/// the unsigned `TransactionEnvelope` (v1, type `ENVELOPE_TYPE_TX`) as
/// base64 XDR; it must decode whole, so the bytes `sign` signs are exactly
/// the transaction `intent` describes.
fn unsigned_envelope(text: &str) -> Result<(Vec<u8>, xdr::Transaction), SignerError> {
    use xdr::ReadXdr;
    let bad = |reason: &str| SignerError::tx(Chain::XLM, reason);
    let envelope = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| bad("serializedTransaction is not base64"))?;
    if envelope.len() < 16 || envelope.len() % 4 != 0 {
        return Err(bad("serializedTransaction is not a transaction envelope"));
    }
    if envelope[..4] != ENVELOPE_TYPE_TX {
        return Err(bad(
            "only v1 transaction envelopes (ENVELOPE_TYPE_TX) are signed; v0 and fee-bump envelopes are not",
        ));
    }
    // A bounded read: the envelope's own length, and XDR's nesting depth.
    let limits = xdr::Limits {
        depth: 500,
        len: envelope.len(),
    };
    let decoded = xdr::TransactionEnvelope::from_xdr(&envelope, limits)
        .map_err(|e| SignerError::tx(Chain::XLM, format!("the envelope does not decode: {e}")))?;
    let xdr::TransactionEnvelope::Tx(v1) = decoded else {
        return Err(bad("only v1 transaction envelopes are signed"));
    };
    if !v1.signatures.is_empty() {
        return Err(bad("the envelope already carries signatures"));
    }
    Ok((envelope, v1.tx))
}

/// What a transaction does: each Payment (stroops of the native coin, or
/// of `CODE:ISSUER`) and CreateAccount (starting balance in stroops). Any
/// other operation is refused: it is not signed.
fn intent_of(tx: &xdr::Transaction, network: Network) -> Result<Intent, SignerError> {
    let mut intent = Intent::new(Chain::XLM, network);
    intent.chain_id = Some(passphrase(network).to_string());
    let source = tx.source_account.to_string();
    intent.senders.push(source.clone());
    intent.fee = Some(tx.fee.to_string());
    intent.nonce = Some(tx.seq_num.0.to_string());
    intent.memo = match &tx.memo {
        xdr::Memo::None => None,
        xdr::Memo::Text(text) => Some(String::from_utf8_lossy(text.as_slice()).into_owned()),
        xdr::Memo::Id(id) => Some(format!("id {id}")),
        xdr::Memo::Hash(hash) => Some(format!("hash {}", hex::encode(hash.0))),
        xdr::Memo::Return(hash) => Some(format!("return {}", hex::encode(hash.0))),
    };
    for op in tx.operations.iter() {
        // An operation may spend from another account than the transaction's.
        if let Some(op_source) = &op.source_account {
            let op_source = op_source.to_string();
            if !intent.senders.contains(&op_source) {
                intent.senders.push(op_source);
            }
        }
        let transfer = match &op.body {
            xdr::OperationBody::Payment(payment) => Transfer {
                to: payment.destination.to_string(),
                amount: payment.amount.to_string(),
                asset: match &payment.asset {
                    xdr::Asset::Native => None,
                    xdr::Asset::CreditAlphanum4(a) => {
                        Some(format!("{}:{}", a.asset_code, a.issuer))
                    }
                    xdr::Asset::CreditAlphanum12(a) => {
                        Some(format!("{}:{}", a.asset_code, a.issuer))
                    }
                },
            },
            xdr::OperationBody::CreateAccount(create) => Transfer {
                to: create.destination.to_string(),
                amount: create.starting_balance.to_string(),
                asset: None,
            },
            other => {
                return Err(SignerError::unsupported(
                    Chain::XLM,
                    format!("decoding the operation {}", other.name()),
                ))
            }
        };
        intent.transfers.push(transfer);
    }
    Ok(intent)
}

const ENVELOPE_TYPE_TX: [u8; 4] = [0, 0, 0, 2];
const PUBLIC_PASSPHRASE: &str = "Public Global Stellar Network ; September 2015";
const TESTNET_PASSPHRASE: &str = "Test SDF Network ; September 2015";
