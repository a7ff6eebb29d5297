//! What a Cardano Rosetta node asks the KMS to sign, checked before it is
//! signed. `construction/payloads` answers `unsigned_transaction` = hex of
//! the CBOR `[<hex of the Shelley transaction body>, <extra data>]`
//! (cardano-rosetta and cardano-rosetta-java alike) and, per address that
//! must sign, the body's BLAKE2b-256 hash. A witness covers only that hash,
//! so the KMS signs it only when it is the hash of that body and the body
//! spends exactly the operations' inputs and pays exactly their outputs: the
//! transaction the Tatum API sent, and an approver saw, and nothing else.

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use ciborium::Value as Cbor;
use kms_core::Chain;
use serde_json::Value;

use crate::SignerError;

/// Body fields a plain transfer may have: inputs, outputs, fee, ttl,
/// validity start, network id.
const PLAIN_FIELDS: [u64; 6] = [0, 1, 2, 3, 8, 15];

type Input = (String, u64);
type Output = (Vec<u8>, u64);

fn node(reason: impl Into<String>) -> SignerError {
    SignerError::Network {
        chain: Chain::ADA,
        reason: format!("the Cardano node's transaction: {}", reason.into()),
    }
}

fn bad_operations(reason: impl Into<String>) -> SignerError {
    SignerError::tx(Chain::ADA, reason)
}

/// The inputs and outputs the Tatum API's Rosetta operations describe.
pub(crate) fn operation_parts(
    operations: &Value,
) -> Result<(Vec<Input>, Vec<Output>), SignerError> {
    let list = operations
        .as_array()
        .filter(|ops| !ops.is_empty())
        .ok_or_else(|| {
            bad_operations("serializedTransaction must be a list of Rosetta operations")
        })?;
    let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
    for (i, op) in list.iter().enumerate() {
        match op["type"].as_str() {
            Some("input") => {
                let id = op["coin_change"]["coin_identifier"]["identifier"]
                    .as_str()
                    .ok_or_else(|| {
                        bad_operations(format!(
                            "operation {i}: an input without its coin_identifier"
                        ))
                    })?;
                inputs.push(coin(id).ok_or_else(|| {
                    bad_operations(format!(
                        "operation {i}: '{id}' is not <transaction hash>:<index>"
                    ))
                })?);
            }
            Some("output") => {
                let address = op["account"]["address"].as_str().ok_or_else(|| {
                    bad_operations(format!("operation {i}: an output without account.address"))
                })?;
                let bytes = address_bytes(address).ok_or_else(|| {
                    bad_operations(format!(
                        "operation {i}: '{address}' is not a Cardano address"
                    ))
                })?;
                let value = op["amount"]["value"]
                    .as_str()
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| {
                        bad_operations(format!(
                            "operation {i}: an output's amount.value must be whole lovelace"
                        ))
                    })?;
                outputs.push((bytes, value));
            }
            other => {
                return Err(bad_operations(format!(
                    "operation {i}: type {} is not supported (only input and output)",
                    other.map_or("(none)".to_string(), |t| format!("'{t}'"))
                )))
            }
        }
    }
    if inputs.is_empty() || outputs.is_empty() {
        return Err(bad_operations(
            "the operations need at least one input and one output",
        ));
    }
    Ok((inputs, outputs))
}

fn coin(id: &str) -> Option<Input> {
    let (hash, index) = id.split_once(':')?;
    let hash = hash.to_ascii_lowercase();
    if hash.len() != 64 || hex::decode(&hash).is_err() {
        return None;
    }
    Some((hash, index.parse().ok()?))
}

/// Shelley addresses are bech32; Byron addresses are base58 of their CBOR.
fn address_bytes(text: &str) -> Option<Vec<u8>> {
    match bech32::decode(text) {
        Ok((_, data)) => Some(data),
        Err(_) => bs58::decode(text).into_vec().ok().filter(|b| !b.is_empty()),
    }
}

/// How an address appears in messages: as users write it.
fn address_text(bytes: &[u8]) -> String {
    let header = bytes.first().copied().unwrap_or(0);
    let mainnet = header & 0x0f == 1;
    let hrp = match (header >> 4, mainnet) {
        (8, _) => return bs58::encode(bytes).into_string(),
        (14 | 15, true) => "stake",
        (14 | 15, false) => "stake_test",
        (_, true) => "addr",
        (_, false) => "addr_test",
    };
    bech32::encode::<bech32::Bech32>(bech32::Hrp::parse_unchecked(hrp), bytes)
        .unwrap_or_else(|_| hex::encode(bytes))
}

fn decode(bytes: &[u8], what: &str) -> Result<Cbor, SignerError> {
    let mut rest = bytes;
    let value: Cbor =
        ciborium::from_reader(&mut rest).map_err(|e| node(format!("{what} is not CBOR: {e}")))?;
    if !rest.is_empty() {
        return Err(node(format!("{what} has bytes after its CBOR")));
    }
    Ok(value)
}

fn uint(v: &Cbor) -> Option<u64> {
    v.as_integer().and_then(|i| u64::try_from(i).ok())
}

/// A transaction body known to do what the operations say.
pub(crate) struct CheckedBody {
    /// What is signed: the body's BLAKE2b-256.
    pub(crate) hash: [u8; 32],
    /// Every output, in order: address (as written) and lovelace.
    pub(crate) outputs: Vec<(String, u64)>,
    /// Body field 2, in lovelace.
    pub(crate) fee: Option<u64>,
    /// Body field 3: the last slot it is valid in.
    pub(crate) ttl: Option<u64>,
}

/// The body of `unsigned`, once it matches `operations`.
pub(crate) fn checked_body(unsigned: &str, operations: &Value) -> Result<CheckedBody, SignerError> {
    let outer =
        hex::decode(unsigned.trim()).map_err(|_| node("unsigned_transaction is not hex"))?;
    let outer = decode(&outer, "unsigned_transaction")?;
    let body_hex = outer
        .as_array()
        .and_then(|a| a.first())
        .and_then(Cbor::as_text)
        .ok_or_else(|| {
            node("unsigned_transaction is not Rosetta's [transaction body, extra data]")
        })?;
    let body_bytes = hex::decode(body_hex).map_err(|_| node("the transaction body is not hex"))?;
    let body = decode(&body_bytes, "the transaction body")?;
    let fields = body
        .as_map()
        .ok_or_else(|| node("the transaction body is not a CBOR map"))?;
    let (mut inputs, mut outputs) = (None, None);
    let (mut fee, mut ttl) = (None, None);
    let mut seen = Vec::new();
    for (key, value) in fields {
        let key = uint(key).ok_or_else(|| node("a body field's key is not a number"))?;
        if seen.contains(&key) {
            return Err(node(format!("body field {key} appears twice")));
        }
        seen.push(key);
        match key {
            0 => inputs = Some(body_inputs(value)?),
            1 => outputs = Some(body_outputs(value)?),
            2 => fee = Some(uint(value).ok_or_else(|| node("its fee is not a number"))?),
            3 => ttl = Some(uint(value).ok_or_else(|| node("its ttl is not a number"))?),
            k if PLAIN_FIELDS.contains(&k) => {}
            k => {
                return Err(node(format!(
                    "it also carries {} (body field {k}), which the operations do not ask for",
                    field_name(k)
                )))
            }
        }
    }
    let (Some(inputs), Some(outputs)) = (inputs, outputs) else {
        return Err(node("the body lacks its inputs or its outputs"));
    };
    let (want_inputs, want_outputs) = operation_parts(operations)?;
    if let Some((hash, index)) = surplus(&inputs, &want_inputs) {
        return Err(node(format!(
            "it spends {hash}:{index}, which the operations do not"
        )));
    }
    if let Some((hash, index)) = surplus(&want_inputs, &inputs) {
        return Err(node(format!(
            "the operations spend {hash}:{index}, which it does not"
        )));
    }
    if let Some((address, value)) = surplus(&outputs, &want_outputs) {
        return Err(node(format!(
            "it pays {value} lovelace to {}, which the operations do not (or not as often)",
            address_text(address)
        )));
    }
    if let Some((address, value)) = surplus(&want_outputs, &outputs) {
        return Err(node(format!(
            "the operations pay {value} lovelace to {}, which it does not (or not as often)",
            address_text(address)
        )));
    }
    Ok(CheckedBody {
        hash: Blake2b::<U32>::digest(&body_bytes).into(),
        outputs: outputs
            .iter()
            .map(|(address, value)| (address_text(address), *value))
            .collect(),
        fee,
        ttl,
    })
}

/// The first item of `a` that `a` holds more often than `b` does.
fn surplus<'a, T: PartialEq>(a: &'a [T], b: &[T]) -> Option<&'a T> {
    let count = |list: &[T], x: &T| list.iter().filter(|y| *y == x).count();
    a.iter().find(|x| count(a, x) > count(b, x))
}

fn body_inputs(value: &Cbor) -> Result<Vec<Input>, SignerError> {
    // Conway encodes the inputs as a set: tag 258 around the array.
    let value = match value.as_tag() {
        Some((258, inner)) => inner,
        _ => value,
    };
    let items = value
        .as_array()
        .ok_or_else(|| node("its inputs are not a list"))?;
    items
        .iter()
        .map(|input| match input.as_array().map(Vec::as_slice) {
            Some([hash, index]) => match (hash.as_bytes(), uint(index)) {
                (Some(hash), Some(index)) if hash.len() == 32 => Ok((hex::encode(hash), index)),
                _ => Err(node("an input is not [transaction hash, index]")),
            },
            _ => Err(node("an input is not [transaction hash, index]")),
        })
        .collect()
}

fn body_outputs(value: &Cbor) -> Result<Vec<Output>, SignerError> {
    let items = value
        .as_array()
        .ok_or_else(|| node("its outputs are not a list"))?;
    items.iter().map(body_output).collect()
}

/// `[address, amount]` (legacy) or `{0: address, 1: amount}` (Babbage); a
/// datum or a script reference is more than the operations ask for.
fn body_output(output: &Cbor) -> Result<Output, SignerError> {
    let extra = || {
        node("an output carries more than an address and an amount (a datum, a script), which the operations do not")
    };
    let (address, amount) = match (output.as_array(), output.as_map()) {
        (Some(fields), _) => match fields.as_slice() {
            [address, amount] => (address, amount),
            _ => return Err(extra()),
        },
        (_, Some(fields)) => {
            let field = |k: u64| {
                fields
                    .iter()
                    .find(|(key, _)| uint(key) == Some(k))
                    .map(|(_, v)| v)
            };
            match (field(0), field(1)) {
                (Some(address), Some(amount)) if fields.len() == 2 => (address, amount),
                _ => return Err(extra()),
            }
        }
        _ => return Err(node("an output is neither a list nor a map")),
    };
    let address = address
        .as_bytes()
        .ok_or_else(|| node("an output's address is not bytes"))?;
    Ok((address.clone(), lovelace(amount)?))
}

/// An output's value: lovelace alone, or `[lovelace, native tokens]`.
fn lovelace(amount: &Cbor) -> Result<u64, SignerError> {
    if let Some(coin) = uint(amount) {
        return Ok(coin);
    }
    match amount.as_array().map(Vec::as_slice) {
        Some([coin, assets]) if assets.as_map().is_some_and(Vec::is_empty) => {
            uint(coin).ok_or_else(|| node("an output's amount is not a number"))
        }
        Some([_, _]) => Err(node(
            "an output pays native tokens, which the operations do not",
        )),
        _ => Err(node("an output's amount is not a number")),
    }
}

fn field_name(key: u64) -> &'static str {
    match key {
        4 => "certificates",
        5 => "reward withdrawals",
        6 => "a protocol update",
        7 => "auxiliary data",
        9 => "minting",
        11 => "a script data hash",
        13 => "collateral inputs",
        14 => "required signers",
        16 => "a collateral return",
        17 => "total collateral",
        18 => "reference inputs",
        19 => "votes",
        20 => "governance proposals",
        21 => "a treasury value",
        22 => "a treasury donation",
        _ => "an unknown field",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_cbor_item_and_nothing_after_it() {
        assert!(decode(&[0x80], "x").is_ok());
        let err = decode(&[0x80, 0x00], "x").unwrap_err().to_string();
        assert!(err.contains("bytes after"), "{err}");
        assert!(decode(&[0x82, 0x01], "x").is_err());
    }

    #[test]
    fn addresses_render_as_written() {
        let shelley = "addr1vx2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydzers66hrl8";
        assert_eq!(address_text(&address_bytes(shelley).unwrap()), shelley);
        let byron = "Ae2tdPwUPEZCanmBz5g2GEwFqKTKpNJcGYPKfDxoNeKZ8bRHr8366kseiK2";
        assert_eq!(address_text(&address_bytes(byron).unwrap()), byron);
    }
}
