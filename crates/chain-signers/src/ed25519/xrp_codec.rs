//! The XRP Ledger's binary transaction format, for the fields the Tatum API
//! sends (Payment, TrustSet, AccountSet and their common fields): each field
//! is written with its (type, field) header, fields sorted by that pair,
//! amounts in the ledger's 64-bit formats, blobs length-prefixed.

use kms_core::Chain;
use serde_json::{Map, Value};

use crate::SignerError;

fn bad(reason: impl Into<String>) -> SignerError {
    SignerError::tx(Chain::XRP, reason)
}

const UINT16: u8 = 1;
const UINT32: u8 = 2;
const HASH256: u8 = 5;
const AMOUNT: u8 = 6;
const BLOB: u8 = 7;
const ACCOUNT: u8 = 8;
const OBJECT: u8 = 14;
const ARRAY: u8 = 15;

/// (name, type, field code) of every field we write.
const FIELDS: &[(&str, u8, u8)] = &[
    ("TransactionType", UINT16, 2),
    ("Flags", UINT32, 2),
    ("SourceTag", UINT32, 3),
    ("Sequence", UINT32, 4),
    ("TransferRate", UINT32, 11),
    ("DestinationTag", UINT32, 14),
    ("QualityIn", UINT32, 20),
    ("QualityOut", UINT32, 21),
    ("LastLedgerSequence", UINT32, 27),
    ("SetFlag", UINT32, 33),
    ("ClearFlag", UINT32, 34),
    ("TicketSequence", UINT32, 41),
    ("InvoiceID", HASH256, 17),
    ("Amount", AMOUNT, 1),
    ("LimitAmount", AMOUNT, 3),
    ("Fee", AMOUNT, 8),
    ("SendMax", AMOUNT, 9),
    ("DeliverMin", AMOUNT, 10),
    ("SigningPubKey", BLOB, 3),
    ("TxnSignature", BLOB, 4),
    ("Domain", BLOB, 7),
    ("MemoType", BLOB, 12),
    ("MemoData", BLOB, 13),
    ("MemoFormat", BLOB, 14),
    ("Account", ACCOUNT, 1),
    ("Destination", ACCOUNT, 3),
    ("Memos", ARRAY, 9),
];

const TRANSACTION_TYPES: &[(&str, u16)] = &[("Payment", 0), ("AccountSet", 3), ("TrustSet", 20)];

fn field_header(out: &mut Vec<u8>, type_code: u8, field: u8) {
    match (type_code < 16, field < 16) {
        (true, true) => out.push(type_code << 4 | field),
        (true, false) => out.extend_from_slice(&[type_code << 4, field]),
        (false, true) => out.extend_from_slice(&[field, type_code]),
        (false, false) => out.extend_from_slice(&[0, type_code, field]),
    }
}

fn length_prefix(out: &mut Vec<u8>, len: usize) -> Result<(), SignerError> {
    match len {
        0..=192 => out.push(len as u8),
        193..=12480 => {
            let n = len - 193;
            out.extend_from_slice(&[193 + (n >> 8) as u8, (n & 0xff) as u8]);
        }
        _ => return Err(bad("a blob is too long")),
    }
    Ok(())
}

/// The 20-byte account id of a classic `r…` address.
pub(crate) fn account_id(address: &str) -> Result<[u8; 20], SignerError> {
    let raw = bs58::decode(address)
        .with_alphabet(bs58::Alphabet::RIPPLE)
        .with_check(None)
        .into_vec()
        .map_err(|_| bad(format!("'{address}' is not a classic XRP address")))?;
    match raw.split_first() {
        Some((0, id)) if id.len() == 20 => Ok(id.try_into().unwrap()),
        _ => Err(bad(format!("'{address}' is not a classic XRP address"))),
    }
}

fn uint(name: &str, value: &Value) -> Result<u64, SignerError> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| bad(format!("{name} must be a whole number")))
}

/// An XRP amount in drops, or an issued-currency amount object.
fn amount(name: &str, value: &Value, out: &mut Vec<u8>) -> Result<(), SignerError> {
    match value {
        Value::String(drops) => {
            let drops: u64 = drops
                .parse()
                .ok()
                .filter(|d| *d <= 100_000_000_000_000_000)
                .ok_or_else(|| bad(format!("{name} '{drops}' is not an amount of drops")))?;
            out.extend_from_slice(&(drops | 0x4000_0000_0000_0000).to_be_bytes());
            Ok(())
        }
        Value::Object(iou) => {
            let text = |k: &str| {
                iou.get(k)
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(format!("{name}.{k} is missing")))
            };
            out.extend_from_slice(&issued_value(text("value")?)?.to_be_bytes());
            out.extend_from_slice(&currency_code(text("currency")?)?);
            out.extend_from_slice(&account_id(text("issuer")?)?);
            Ok(())
        }
        _ => Err(bad(format!(
            "{name} must be drops (a string) or an issued amount"
        ))),
    }
}

/// The ledger's decimal float: sign, exponent + 97 (8 bits), mantissa
/// normalised to 16 digits (54 bits).
fn issued_value(text: &str) -> Result<u64, SignerError> {
    let invalid = || bad(format!("'{text}' is not a decimal amount"));
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (number, exp_part) = match rest.split_once(['e', 'E']) {
        Some((n, e)) => (n, e.parse::<i32>().map_err(|_| invalid())?),
        None => (rest, 0),
    };
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    {
        return Err(invalid());
    }
    let all = format!("{int}{frac}");
    let significant = all.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(0x8000_0000_0000_0000); // zero
    }
    // Trailing zeros move into the exponent; more than 16 significant
    // digits would be rounded by the ledger, so they are refused.
    let digits = significant.trim_end_matches('0');
    let mut exponent = exp_part - frac.len() as i32 + (significant.len() - digits.len()) as i32;
    if digits.len() > 16 {
        return Err(bad(format!("'{text}' has more than 16 significant digits")));
    }
    let mut mantissa: u64 = digits.parse().map_err(|_| invalid())?;
    while mantissa < 1_000_000_000_000_000 {
        mantissa *= 10;
        exponent -= 1;
    }
    if !(-96..=80).contains(&exponent) {
        return Err(bad(format!("'{text}' is out of the ledger's range")));
    }
    let mut bits = 0x8000_0000_0000_0000 | mantissa | (((exponent + 97) as u64) << 54);
    if !negative {
        bits |= 0x4000_0000_0000_0000;
    }
    Ok(bits)
}

fn currency_code(code: &str) -> Result<[u8; 20], SignerError> {
    let mut out = [0u8; 20];
    if code.len() == 3 && code.is_ascii() && code != "XRP" {
        out[12..15].copy_from_slice(code.as_bytes());
        return Ok(out);
    }
    let raw = hex::decode(code).map_err(|_| bad(format!("currency '{code}' is not a code")))?;
    if raw.len() != 20 {
        return Err(bad(format!("currency '{code}' is not a code")));
    }
    out.copy_from_slice(&raw);
    Ok(out)
}

fn blob(name: &str, value: &Value, out: &mut Vec<u8>) -> Result<(), SignerError> {
    let raw = value
        .as_str()
        .and_then(|h| hex::decode(h).ok())
        .ok_or_else(|| bad(format!("{name} must be hex")))?;
    length_prefix(out, raw.len())?;
    out.extend_from_slice(&raw);
    Ok(())
}

/// Writes the fields of `object` in canonical order; `skip` names fields
/// left out (the signature, when computing what is signed).
pub(crate) fn serialize(
    object: &Map<String, Value>,
    skip: &[&str],
) -> Result<Vec<u8>, SignerError> {
    let mut fields = Vec::new();
    for (name, value) in object {
        if skip.contains(&name.as_str()) {
            continue;
        }
        let &(_, type_code, field) = FIELDS
            .iter()
            .find(|(n, ..)| n == name)
            .ok_or_else(|| bad(format!("field {name} is not supported")))?;
        fields.push((type_code, field, name.as_str(), value));
    }
    fields.sort_by_key(|&(t, f, ..)| (t, f));
    let mut out = Vec::new();
    for (type_code, field, name, value) in fields {
        field_header(&mut out, type_code, field);
        match type_code {
            UINT16 => {
                let code = match value.as_str() {
                    Some(t) => TRANSACTION_TYPES
                        .iter()
                        .find(|(n, _)| *n == t)
                        .map(|(_, c)| *c)
                        .ok_or_else(|| bad(format!("TransactionType {t} is not supported")))?,
                    None => u16::try_from(uint(name, value)?)
                        .map_err(|_| bad(format!("{name} is too large")))?,
                };
                out.extend_from_slice(&code.to_be_bytes());
            }
            UINT32 => {
                let v = u32::try_from(uint(name, value)?)
                    .map_err(|_| bad(format!("{name} is too large")))?;
                out.extend_from_slice(&v.to_be_bytes());
            }
            HASH256 => {
                let raw = value
                    .as_str()
                    .and_then(|h| hex::decode(h).ok())
                    .filter(|r| r.len() == 32)
                    .ok_or_else(|| bad(format!("{name} must be 64 hex digits")))?;
                out.extend_from_slice(&raw);
            }
            AMOUNT => amount(name, value, &mut out)?,
            BLOB => blob(name, value, &mut out)?,
            ACCOUNT => {
                let address = value
                    .as_str()
                    .ok_or_else(|| bad(format!("{name} must be an address")))?;
                out.push(20);
                out.extend_from_slice(&account_id(address)?);
            }
            ARRAY => {
                // Memos: [{"Memo": {MemoType?, MemoData?, MemoFormat?}}]
                let items = value
                    .as_array()
                    .ok_or_else(|| bad(format!("{name} must be a list")))?;
                for item in items {
                    let memo = item
                        .get("Memo")
                        .and_then(Value::as_object)
                        .ok_or_else(|| bad("each of Memos must be {\"Memo\": {...}}"))?;
                    field_header(&mut out, OBJECT, 10);
                    out.extend_from_slice(&serialize(memo, &[])?);
                    out.push(0xe1); // end of object
                }
                out.push(0xf1); // end of array
            }
            _ => unreachable!("every type in FIELDS is handled"),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from the XRP Ledger's documentation and xrpl.js' codec tests.
    #[test]
    fn issued_amounts_encode_as_the_ledger_does() {
        assert_eq!(issued_value("0").unwrap(), 0x8000_0000_0000_0000);
        assert_eq!(issued_value("1").unwrap(), 0xd4838d7ea4c68000);
        assert_eq!(issued_value("-1").unwrap(), 0x94838d7ea4c68000);
        assert_eq!(issued_value("1.5").unwrap(), issued_value("15e-1").unwrap());
        assert!(issued_value("1.2.3").is_err());
        assert!(issued_value("12345678901234567").is_err());
    }
}
