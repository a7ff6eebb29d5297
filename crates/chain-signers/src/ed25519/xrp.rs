//! XRP Ledger. Wallets are `{address, secret}`: a family seed (`s…`), ed25519
//! by default (`sEd…`, as xrpl.js `Wallet.generate()`), secp256k1 seeds also
//! accepted. Keys follow rippled's derivation; addresses are base58check
//! (Ripple alphabet) of RIPEMD160(SHA256(public key)).

use async_trait::async_trait;
use bitcoin::hashes::{ripemd160, sha256, Hash};
use bitcoin::secp256k1::{PublicKey, Scalar, SecretKey};
use kms_core::{Chain, Intent, Network, Transfer, WalletEntry};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use super::xrp_codec;
use crate::secp_hd::secp;
use crate::{Mnemonic, Prepared, SignInput, SignedTx, Signer, SignerError};

pub(crate) struct Xrp;
pub(crate) static XRP: Xrp = Xrp;

const ED25519_SEED_PREFIX: [u8; 3] = [0x01, 0xe1, 0x4b];
const SECP256K1_SEED_PREFIX: u8 = 0x21;

/// A key pair derived from a family seed.
pub(crate) enum XrpKey {
    Ed25519(ed25519_dalek::SigningKey),
    Secp256k1(SecretKey),
}

impl XrpKey {
    /// The 33-byte public key as the ledger writes it (`ED…` for ed25519).
    pub(crate) fn public_key(&self) -> [u8; 33] {
        match self {
            XrpKey::Ed25519(k) => {
                let mut out = [0u8; 33];
                out[0] = 0xed;
                out[1..].copy_from_slice(k.verifying_key().as_bytes());
                out
            }
            XrpKey::Secp256k1(k) => PublicKey::from_secret_key(secp(), k).serialize(),
        }
    }
}

fn sha512_half(parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let mut h = Sha512::new();
    for p in parts {
        h.update(p);
    }
    let full = Zeroizing::new(h.finalize());
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&full[..32]);
    out
}

fn base58check(data: &[u8]) -> String {
    bs58::encode(data)
        .with_alphabet(bs58::Alphabet::RIPPLE)
        .with_check()
        .into_string()
}

pub(crate) fn address(public: &[u8; 33]) -> String {
    let id = ripemd160::Hash::hash(&sha256::Hash::hash(public).to_byte_array()).to_byte_array();
    let mut data = [0u8; 21];
    data[1..].copy_from_slice(&id);
    base58check(&data)
}

/// First valid secp256k1 scalar of sha512half(prefix ‖ seq) for seq = 0, 1, …
fn first_valid_scalar(prefix: &[&[u8]]) -> Result<SecretKey, SignerError> {
    for seq in 0u32..=u32::MAX {
        let seq = seq.to_be_bytes();
        let mut parts = prefix.to_vec();
        parts.push(&seq);
        if let Ok(k) = SecretKey::from_slice(sha512_half(&parts).as_ref()) {
            return Ok(k);
        }
    }
    Err(SignerError::key(Chain::XRP, "no valid key for this seed"))
}

pub(crate) fn key_from_secret(secret: &str) -> Result<XrpKey, SignerError> {
    let raw = Zeroizing::new(
        bs58::decode(secret.trim())
            .with_alphabet(bs58::Alphabet::RIPPLE)
            .with_check(None)
            .into_vec()
            .map_err(|_| SignerError::key(Chain::XRP, "not an XRP family seed (base58check)"))?,
    );
    if raw.len() == 19 && raw[..3] == ED25519_SEED_PREFIX {
        let key = sha512_half(&[&raw[3..]]);
        return Ok(XrpKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&key)));
    }
    if raw.len() == 17 && raw[0] == SECP256K1_SEED_PREFIX {
        let root = first_valid_scalar(&[&raw[1..]])?;
        let root_public = PublicKey::from_secret_key(secp(), &root).serialize();
        let tweak = first_valid_scalar(&[&root_public, &0u32.to_be_bytes()])?;
        let account = root
            .add_tweak(&Scalar::from(tweak))
            .map_err(|_| SignerError::key(Chain::XRP, "derived key is invalid"))?;
        return Ok(XrpKey::Secp256k1(account));
    }
    Err(SignerError::key(
        Chain::XRP,
        "not an XRP family seed (wrong length or prefix)",
    ))
}

#[async_trait]
impl Signer for Xrp {
    fn chain(&self) -> Chain {
        Chain::XRP
    }

    fn generate_wallet(
        &self,
        _network: Network,
        _mnemonic: Option<&Mnemonic>,
    ) -> Result<WalletEntry, SignerError> {
        let mut entropy = Zeroizing::new([0u8; 16]);
        getrandom::fill(entropy.as_mut()).expect("the operating system's random source failed");
        let mut raw = Zeroizing::new(ED25519_SEED_PREFIX.to_vec());
        raw.extend_from_slice(entropy.as_ref());
        let secret = Zeroizing::new(base58check(&raw));
        let key = key_from_secret(&secret)?;
        Ok(WalletEntry::new()
            .with("address", address(&key.public_key()))
            .with("secret", secret.as_str()))
    }

    fn address_from_private_key(
        &self,
        _network: Network,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        Ok(address(&key_from_secret(key.expose_secret())?.public_key()))
    }

    /// The Tatum API sends xrpl.js' transaction JSON, complete (Fee,
    /// Sequence, LastLedgerSequence). As xrpl.js' `Wallet.sign`: add
    /// `SigningPubKey`, sign `STX\0` ‖ the binary form (ed25519 signs it
    /// whole; secp256k1 its SHA-512-half, DER), add `TxnSignature`; the
    /// output is the binary form as uppercase hex (`tx_blob`).
    fn sign(&self, input: &SignInput<'_>, _prepared: &Prepared) -> Result<SignedTx, SignerError> {
        let mut tx = unsigned_tx(&input.pending.serialized_transaction)?;
        let secret = input.keys.first().ok_or_else(|| SignerError::MissingKey {
            chain: Chain::XRP,
            reason: "no secret was resolved for this transaction".into(),
        })?;
        let key = key_from_secret(secret.expose_secret())?;
        let public = key.public_key();
        let ours = address(&public);
        if tx.get("Account").and_then(|a| a.as_str()) != Some(ours.as_str()) {
            return Err(SignerError::tx(
                Chain::XRP,
                format!("Account is not {ours}, the address of the stored secret"),
            ));
        }
        tx.insert("SigningPubKey".into(), hex::encode_upper(public).into());
        let mut message = b"STX\0".to_vec();
        message.extend_from_slice(&xrp_codec::serialize(&tx, &["TxnSignature"])?);
        let signature = match &key {
            XrpKey::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                k.sign(&message).to_bytes().to_vec()
            }
            XrpKey::Secp256k1(k) => {
                let digest = sha512_half(&[&message]);
                let msg = bitcoin::secp256k1::Message::from_digest(*digest);
                secp().sign_ecdsa(&msg, k).serialize_der().to_vec()
            }
        };
        tx.insert("TxnSignature".into(), hex::encode_upper(signature).into());
        Ok(SignedTx::plain(hex::encode_upper(xrp_codec::serialize(
            &tx,
            &[],
        )?)))
    }

    /// Decoded from the same JSON `sign` signs (nothing is prepared): the
    /// codec must accept it, so a field it would refuse is refused here too.
    fn intent(&self, input: &SignInput<'_>, _prepared: &Prepared) -> Result<Intent, SignerError> {
        let tx = unsigned_tx(&input.pending.serialized_transaction)?;
        xrp_codec::serialize(&tx, &[])?;
        intent_of(&tx, input.network)
    }
}

/// The transaction JSON the API sent, refused if it is already signed.
fn unsigned_tx(text: &str) -> Result<serde_json::Map<String, serde_json::Value>, SignerError> {
    let tx: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| {
            SignerError::tx(
                Chain::XRP,
                format!("serializedTransaction is not a JSON object: {e}"),
            )
        })?;
    if tx.contains_key("TxnSignature") || tx.contains_key("Signers") {
        return Err(SignerError::tx(
            Chain::XRP,
            "the transaction is already signed",
        ));
    }
    Ok(tx)
}

/// tfPartialPayment: the ledger may deliver less than `Amount`.
const PARTIAL_PAYMENT: u64 = 0x0002_0000;

/// What a Payment, TrustSet or AccountSet does. Amounts: XRP in drops as
/// written; issued currencies as `value` written, asset `CUR.issuer`.
fn intent_of(
    tx: &serde_json::Map<String, serde_json::Value>,
    network: Network,
) -> Result<Intent, SignerError> {
    use serde_json::Value;
    let bad = |reason: String| SignerError::tx(Chain::XRP, reason);
    let text = |name: &str| tx.get(name).and_then(Value::as_str);
    let number = |name: &str| match tx.get(name) {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    // (amount, asset) of an Amount field: drops, or an issued currency.
    let amount = |name: &str| -> Result<(String, Option<String>), SignerError> {
        match tx.get(name) {
            Some(Value::String(drops)) => Ok((drops.clone(), None)),
            Some(Value::Object(iou)) => {
                let part = |k: &str| {
                    iou.get(k)
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad(format!("{name}.{k} is missing")))
                };
                Ok((
                    part("value")?.to_string(),
                    Some(format!("{}.{}", part("currency")?, part("issuer")?)),
                ))
            }
            _ => Err(bad(format!("{name} is missing or not an amount"))),
        }
    };
    let describe = |(amount, asset): (String, Option<String>)| match asset {
        Some(asset) => format!("{amount} {asset}"),
        None => format!("{amount} drops"),
    };
    let mut intent = Intent::new(Chain::XRP, network);
    intent.senders.push(
        text("Account")
            .ok_or_else(|| bad("Account is missing".into()))?
            .to_string(),
    );
    intent.fee = Some(amount("Fee")?.0);
    intent.nonce = number("Sequence");
    let mut memo = Vec::new();
    match text("TransactionType") {
        Some("Payment") => {
            let (amount_, asset) = amount("Amount")?;
            intent.transfers.push(Transfer {
                to: text("Destination")
                    .ok_or_else(|| bad("Destination is missing".into()))?
                    .to_string(),
                amount: amount_,
                asset,
            });
            // Cross-currency payments spend up to SendMax of another asset.
            if tx.contains_key("SendMax") {
                memo.push(format!("SendMax {}", describe(amount("SendMax")?)));
            }
            let flags = tx.get("Flags").and_then(Value::as_u64).unwrap_or(0);
            if flags & PARTIAL_PAYMENT != 0 {
                memo.push("partial payment".to_string());
            }
        }
        // Trust lines and account settings move nothing: the memo says what
        // they change, with every setting the codec writes.
        Some("TrustSet") => {
            memo.push(format!(
                "TrustSet limit {}",
                describe(amount("LimitAmount")?)
            ));
            for name in ["QualityIn", "QualityOut"] {
                if let Some(v) = number(name) {
                    memo.push(format!("{name} {v}"));
                }
            }
        }
        Some("AccountSet") => {
            memo.push("AccountSet".to_string());
            for name in ["SetFlag", "ClearFlag", "TransferRate", "Domain"] {
                if let Some(v) = number(name) {
                    memo.push(format!("{name} {v}"));
                }
            }
        }
        other => {
            return Err(SignerError::unsupported(
                Chain::XRP,
                format!("decoding transaction type {other:?}"),
            ))
        }
    }
    if let Some(flags) = number("Flags").filter(|f| f != "0") {
        memo.push(format!("Flags {flags}"));
    }
    for name in ["DestinationTag", "SourceTag", "InvoiceID", "TicketSequence"] {
        if let Some(v) = number(name) {
            memo.push(format!("{name} {v}"));
        }
    }
    if let Some(memos) = tx.get("Memos").and_then(Value::as_array) {
        for m in memos {
            let data = m["Memo"]["MemoData"].as_str().unwrap_or_default();
            // MemoData is hex; shown as text where it is UTF-8.
            let shown = hex::decode(data)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_else(|| data.to_string());
            memo.push(format!("Memo {shown}"));
        }
    }
    intent.memo = (!memo.is_empty()).then(|| memo.join("; "));
    Ok(intent)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signing_vectors_wallet() {
        // signing.json xrp-payment-ed25519: sEdTmJFqE6ncQ2WLHJETwjiBtTD2hCi → rGVCddjtEYJTSAry5XyJC15rLUtbdB7jU7.
        let key = super::key_from_secret("sEdTmJFqE6ncQ2WLHJETwjiBtTD2hCi").unwrap();
        assert_eq!(
            super::address(&key.public_key()),
            "rGVCddjtEYJTSAry5XyJC15rLUtbdB7jU7"
        );
    }
}
