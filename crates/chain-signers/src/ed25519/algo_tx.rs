//! Algorand transactions as the Tatum API sends them — `JSON.stringify` of
//! an algosdk 1.16 `Transaction` (addresses as `{publicKey: {"0": b0, …}}`,
//! byte strings as Node Buffer JSON or index-keyed objects) — rebuilt as
//! algosdk rebuilt them and written in Algorand's canonical msgpack (keys
//! sorted, empty fields left out). Payments and asset transfers.

use std::collections::BTreeMap;

use base64::Engine;
use kms_core::{Chain, Intent, Network, Transfer};
use serde_json::{Map, Value};

use crate::SignerError;

fn bad(reason: impl Into<String>) -> SignerError {
    SignerError::tx(Chain::ALGO, reason)
}

/// The fewest microAlgos a transaction pays (algosdk's ALGORAND_MIN_TX_FEE).
const MIN_FEE: u64 = 1000;

/// A canonical msgpack value: maps are kept sorted by key.
#[derive(Clone, Debug)]
pub(crate) enum Pack {
    Uint(u64),
    Str(String),
    Bin(Vec<u8>),
    Map(BTreeMap<&'static str, Pack>),
}

impl Pack {
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        // Writing into a Vec cannot fail.
        match self {
            Pack::Uint(v) => {
                rmp::encode::write_uint(out, *v).expect("write to Vec");
            }
            Pack::Str(s) => rmp::encode::write_str(out, s).expect("write to Vec"),
            Pack::Bin(b) => rmp::encode::write_bin(out, b).expect("write to Vec"),
            Pack::Map(m) => {
                rmp::encode::write_map_len(out, m.len() as u32).expect("write to Vec");
                for (k, v) in m {
                    rmp::encode::write_str(out, k).expect("write to Vec");
                    v.write(out);
                }
            }
        }
    }

    pub(crate) fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }
}

/// Bytes from `{"type":"Buffer","data":[…]}`, `{"0": b0, "1": b1, …}` or `[…]`.
fn byte_field(name: &str, value: &Value) -> Result<Vec<u8>, SignerError> {
    let byte = |v: &Value| {
        v.as_u64()
            .and_then(|b| u8::try_from(b).ok())
            .ok_or_else(|| bad(format!("{name} holds something that is not a byte")))
    };
    match value {
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("Buffer") => o
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| bad(format!("{name}: Buffer without data")))?
            .iter()
            .map(byte)
            .collect(),
        // One pass over the entries (keys in any order), rather than a
        // formatted-key lookup per byte: this parse is a third of a signature.
        Value::Object(o) => {
            let mut bytes = vec![None; o.len()];
            for (key, v) in o {
                let canonical = key.bytes().all(|b| b.is_ascii_digit())
                    && !(key.len() > 1 && key.starts_with('0'));
                let slot = canonical
                    .then(|| key.parse::<usize>().ok())
                    .flatten()
                    .and_then(|i| bytes.get_mut(i))
                    .ok_or_else(|| bad(format!("{name}: '{key}' is not a byte index")))?;
                *slot = Some(byte(v)?);
            }
            // Distinct canonical keys, each below n: all n indices are filled.
            bytes
                .into_iter()
                .enumerate()
                .map(|(i, b)| b.ok_or_else(|| bad(format!("{name}: byte {i} is missing"))))
                .collect()
        }
        Value::Array(a) => a.iter().map(byte).collect(),
        _ => Err(bad(format!("{name} is not a byte string"))),
    }
}

/// The 32-byte public key of an algosdk address object.
fn address_field(name: &str, value: &Value) -> Result<[u8; 32], SignerError> {
    let key = value
        .get("publicKey")
        .ok_or_else(|| bad(format!("{name} has no publicKey")))?;
    byte_field(name, key)?
        .try_into()
        .map_err(|_| bad(format!("{name}.publicKey is not 32 bytes")))
}

fn uint_field(tx: &Map<String, Value>, name: &str) -> Result<Option<u64>, SignerError> {
    match tx.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad(format!("{name} must be a whole, non-negative number"))),
    }
}

/// The `txn` map of a transaction JSON, and its sender.
pub(crate) fn txn(json: &str) -> Result<(Pack, [u8; 32]), SignerError> {
    let tx: Map<String, Value> = serde_json::from_str(json)
        .map_err(|e| bad(format!("serializedTransaction is not a JSON object: {e}")))?;
    let kind = tx
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("type is missing"))?;
    let mut m: BTreeMap<&'static str, Pack> = BTreeMap::new();
    let put_uint = |m: &mut BTreeMap<_, _>, key, v: Option<u64>| {
        if let Some(v) = v.filter(|v| *v != 0) {
            m.insert(key, Pack::Uint(v));
        }
    };
    let from = address_field(
        "from",
        tx.get("from").ok_or_else(|| bad("from is missing"))?,
    )?;
    let to = tx.get("to").map(|t| address_field("to", t)).transpose()?;
    let close = tx
        .get("closeRemainderTo")
        .filter(|v| !v.is_null())
        .map(|t| address_field("closeRemainderTo", t))
        .transpose()?;
    match kind {
        "pay" => {
            put_uint(&mut m, "amt", uint_field(&tx, "amount")?);
            if let Some(to) = to {
                m.insert("rcv", Pack::Bin(to.to_vec()));
            }
            if let Some(c) = close {
                m.insert("close", Pack::Bin(c.to_vec()));
            }
        }
        "axfer" => {
            put_uint(&mut m, "aamt", uint_field(&tx, "amount")?);
            put_uint(&mut m, "xaid", uint_field(&tx, "assetIndex")?);
            if let Some(to) = to {
                m.insert("arcv", Pack::Bin(to.to_vec()));
            }
            if let Some(c) = close {
                m.insert("aclose", Pack::Bin(c.to_vec()));
            }
        }
        other => {
            return Err(bad(format!(
                "transaction type '{other}' is not supported (pay and axfer are)"
            )))
        }
    }
    m.insert("snd", Pack::Bin(from.to_vec()));
    m.insert("type", Pack::Str(kind.to_string()));
    put_uint(&mut m, "fv", uint_field(&tx, "firstRound")?);
    put_uint(&mut m, "lv", uint_field(&tx, "lastRound")?);
    if let Some(gen) = tx
        .get("genesisID")
        .and_then(Value::as_str)
        .filter(|g| !g.is_empty())
    {
        m.insert("gen", Pack::Str(gen.to_string()));
    }
    let gh = byte_field(
        "genesisHash",
        tx.get("genesisHash")
            .ok_or_else(|| bad("genesisHash is missing"))?,
    )?;
    if gh.len() != 32 {
        return Err(bad("genesisHash is not 32 bytes"));
    }
    m.insert("gh", Pack::Bin(gh));
    if let Some(note) = tx.get("note").filter(|n| !n.is_null()) {
        let note = byte_field("note", note)?;
        if note.len() > 1024 {
            return Err(bad("note is longer than 1024 bytes"));
        }
        if !note.is_empty() {
            m.insert("note", Pack::Bin(note));
        }
    }
    if let Some(group) = tx.get("group").filter(|g| !g.is_null()) {
        let group = byte_field("group", group)?;
        if !group.is_empty() {
            m.insert("grp", Pack::Bin(group));
        }
    }
    let fee = uint_field(&tx, "fee")?.unwrap_or(0);
    let flat = tx.get("flatFee").and_then(Value::as_bool).unwrap_or(false);
    if flat {
        put_uint(&mut m, "fee", Some(fee));
    } else {
        // algosdk: a fee per byte of the signed transaction, at least the minimum.
        m.insert("fee", Pack::Uint(MIN_FEE));
        let size = signed(&Pack::Map(m.clone()), &[0u8; 64]).len() as u64;
        let total = fee.saturating_mul(size).max(MIN_FEE);
        m.insert("fee", Pack::Uint(total));
    }
    Ok((Pack::Map(m), from))
}

/// `{sig, txn}`, the SignedTransaction the API broadcasts.
pub(crate) fn signed(txn: &Pack, signature: &[u8; 64]) -> Vec<u8> {
    let mut m = BTreeMap::new();
    m.insert("sig", Pack::Bin(signature.to_vec()));
    m.insert("txn", txn.clone());
    Pack::Map(m).bytes()
}

/// What the `txn` map [`txn`] built (the exact one that is signed) does:
/// a payment of `amt` microAlgos to `rcv`, or a transfer of `aamt` of asset
/// `xaid` to `arcv`. Closing an account or an asset holding sends a
/// remainder whose amount the transaction does not state: refused.
pub(crate) fn intent(txn: &Pack, network: Network) -> Result<Intent, SignerError> {
    let Pack::Map(m) = txn else {
        return Err(bad("the transaction is not a map"));
    };
    let uint = |k: &str| match m.get(k) {
        Some(Pack::Uint(v)) => *v,
        // Canonical msgpack leaves zero fields out.
        _ => 0,
    };
    let bin = |k: &str| match m.get(k) {
        Some(Pack::Bin(b)) => Some(b.as_slice()),
        _ => None,
    };
    let account = |k: &str| -> Result<Option<String>, SignerError> {
        bin(k)
            .map(|b| {
                let key: [u8; 32] = b
                    .try_into()
                    .map_err(|_| bad(format!("{k} is not 32 bytes")))?;
                Ok(super::algo::address(&key))
            })
            .transpose()
    };
    for close in ["close", "aclose"] {
        if m.contains_key(close) {
            return Err(bad(
                "closeRemainderTo sends the whole remaining balance, an amount the transaction does not state: not signed",
            ));
        }
    }
    let mut intent = Intent::new(Chain::ALGO, network);
    intent
        .senders
        .push(account("snd")?.ok_or_else(|| bad("no sender"))?);
    let (amount, to, asset) = match m.get("type") {
        Some(Pack::Str(t)) if t == "pay" => (uint("amt"), account("rcv")?, None),
        Some(Pack::Str(t)) if t == "axfer" => (
            uint("aamt"),
            account("arcv")?,
            Some(uint("xaid").to_string()),
        ),
        other => return Err(bad(format!("transaction type {other:?} is not decoded"))),
    };
    // algosdk leaves out a zero receiver: the zero address.
    let to = to.unwrap_or_else(|| super::algo::address(&[0; 32]));
    intent.transfers.push(Transfer {
        to,
        amount: amount.to_string(),
        asset,
    });
    intent.fee = Some(uint("fee").to_string());
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let genesis_hash = b64(bin("gh").ok_or_else(|| bad("no genesis hash"))?);
    intent.chain_id = Some(match m.get("gen") {
        Some(Pack::Str(gen)) => format!("{gen}/{genesis_hash}"),
        _ => genesis_hash,
    });
    // Algorand has no nonce: a transaction is valid in a window of rounds.
    let mut memo = vec![format!("valid rounds {}..{}", uint("fv"), uint("lv"))];
    if let Some(note) = bin("note") {
        memo.push(match std::str::from_utf8(note) {
            Ok(text) => format!("note {text}"),
            Err(_) => format!("note 0x{}", hex::encode(note)),
        });
    }
    if let Some(group) = bin("grp") {
        memo.push(format!("group {}", b64(group)));
    }
    intent.memo = Some(memo.join("; "));
    Ok(intent)
}
