//! The original's FLOW requests, `{"type": <FlowTxType>, "body": {...}}`,
//! as `flowSignKMSTransaction` of `@tatumio/tatum` 1.37.68 handled them:
//! a Cadence transaction with the wallet's account as the one authorizer
//! (key index 0), and Tatum's keys as proposer and payer.
//!
//! * `prepare`: Tatum's proposal and payer keys (`GET
//!   /v3/flow/proposal/{isPayer}`; the proposal key is locked for this
//!   transaction until released), the reference block (`GET
//!   /v1/blocks?height=sealed`) and the proposal key's sequence number (`GET
//!   /v1/accounts/{address}?expand=keys`) from the access node.
//! * `sign` (pure): the wallet's key signs the payload. `txData` is the REST
//!   transaction with that signature, Tatum's payer key index and the
//!   pending transaction's id, which `submit` needs.
//! * `submit`: Tatum's proposal key signs the payload and its payer key the
//!   envelope (`POST /v3/flow/sign`); the access node gets the transaction
//!   (`POST /v1/transactions`) and is asked until it is sealed (`GET
//!   /v1/transaction_results/{id}`); then `POST /v3/flow/broadcast` releases
//!   the proposal key and reports the transaction id for the pending one.
//!
//! fcl's order is kept: the proposer and the authorizers sign the payload,
//! then the payer signs the envelope, which covers their signatures.

use std::time::Duration;

use bitcoin::secp256k1::SecretKey;
use kms_core::api::{ApiError, ApiRequest, ChainApi, Service};
use kms_core::{Chain, Intent, Network, Transfer};
use serde_json::{json, Map, Value};
use sha3::{Digest, Sha3_256};

use super::cadence::{self, Token};
use super::{
    bad, parse_address, sign_message, transaction_domain_tag, Address, RestTransaction, Signature,
    Transaction,
};
use crate::{Prepared, SignedTx, SignerError, Submitted};

/// fcl's `limit(9999)` in the original's `sendTransaction`.
const GAS_LIMIT: u64 = 9999;
/// `getFlowSigner(pk, address)` signs with key 0 of the account.
const AUTHORIZER_KEY_INDEX: u64 = 0;
/// How often the access node is asked whether the transaction is sealed,
/// and how long to wait between: at most about two minutes in all (a FLOW
/// transaction is usually sealed within 10 to 20 seconds). The original
/// waited without limit.
const SEAL_POLLS: u32 = 45;
fn seal_poll_wait(attempt: u32) -> Duration {
    Duration::from_secs(u64::from(attempt.min(3)))
}

fn network_error(reason: impl Into<String>) -> SignerError {
    SignerError::Network {
        chain: Chain::FLOW,
        reason: reason.into(),
    }
}

/// The original's `FlowTxType`, a TypeScript numeric enum (so a number in
/// the JSON). Numbers it does not name, and DEPLOY_NFT (3), which its
/// switch does not list, are custom transactions, as its `default` made them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    CreateAccount,
    AddKey,
    Transfer,
    MintNft,
    MintMultipleNft,
    BurnNft,
    TransferNft,
    Custom,
}

impl Kind {
    fn of(number: u64) -> Kind {
        match number {
            0 => Kind::CreateAccount,
            1 => Kind::AddKey,
            2 => Kind::Transfer,
            4 => Kind::MintNft,
            5 => Kind::MintMultipleNft,
            6 => Kind::BurnNft,
            7 => Kind::TransferNft,
            _ => Kind::Custom,
        }
    }
}

/// Whether `serialized` is the original's `{type, body}` shape (rather
/// than a fully built transaction).
pub(super) fn is_tatum_request(serialized: &str) -> bool {
    serde_json::from_str::<Value>(serialized)
        .is_ok_and(|v| v.get("transaction").is_none() && v.get("type").is_some())
}

/// A request turned into its Cadence transaction, before any network fact.
struct Request {
    /// The authorizer: the wallet's account (`body.account`).
    account: Address,
    script: String,
    /// JSON-Cadence values, in the script's parameter order.
    arguments: Vec<Value>,
    /// What the intent claims beyond the script: a token transfer.
    transfer: Option<Transfer>,
    /// One line saying what the transaction does, for the approver.
    action: String,
}

fn string_field<'a>(body: &'a Value, name: &str) -> Result<&'a str, SignerError> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad(format!("body.{name} is required (a string)")))
}

/// `0x` and 16 hex digits, as JSON-Cadence writes an `Address`.
fn address_text(address: &Address) -> String {
    format!("0x{}", hex::encode(address))
}

fn address_argument(what: &str, text: &str) -> Result<Value, SignerError> {
    Ok(json!({"type": "Address", "value": address_text(&parse_address(what, text)?)}))
}

/// The original validated `to`/`account` as 18 characters (`0x` and 16 hex
/// digits); a shorter address would be another account to a reader.
fn full_address(what: &str, text: &str) -> Result<Address, SignerError> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.len() != 16 {
        return Err(bad(format!(
            "{what}: a Flow address is 0x and 16 hex digits"
        )));
    }
    parse_address(what, text)
}

/// A secp256k1 public key as the original's wallets give it: 64 bytes of
/// hex (x ‖ y, without the `04` prefix), as `encodeKey` took it.
fn public_key_argument(body: &Value) -> Result<(String, Value), SignerError> {
    let key = string_field(body, "publicKey")?;
    let key = key.strip_prefix("0x").unwrap_or(key).to_ascii_lowercase();
    let bytes = hex::decode(&key)
        .ok()
        .filter(|b| b.len() == 64)
        .ok_or_else(|| bad("body.publicKey: 128 hex digits (x and y of a secp256k1 key)"))?;
    let mut sec1 = vec![4u8];
    sec1.extend_from_slice(&bytes);
    bitcoin::secp256k1::PublicKey::from_slice(&sec1)
        .map_err(|_| bad("body.publicKey is not a point of secp256k1"))?;
    Ok((key.clone(), json!({"type": "String", "value": key})))
}

/// A UFix64 from a decimal amount: at most 8 decimals (the original's
/// `parseFloat(amount).toFixed(8)` rounded what had more; an amount is not
/// rounded here but refused), written with exactly 8.
fn ufix64(what: &str, text: &str) -> Result<String, SignerError> {
    let text = text.strip_prefix('+').unwrap_or(text);
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return Err(bad(format!("{what}: '{text}' is not a decimal amount")));
    }
    if fraction.len() > 8 {
        return Err(bad(format!(
            "{what}: '{text}' has more than 8 decimals, which UFix64 cannot hold"
        )));
    }
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let value = format!("{whole}.{fraction:0<8}");
    // UFix64 holds up to 184467440737.09551615.
    let units: u128 = format!("{whole}{fraction:0<8}")
        .parse()
        .map_err(|_| bad(format!("{what}: '{text}' is too large")))?;
    if units > u128::from(u64::MAX) {
        return Err(bad(format!("{what}: '{text}' is larger than UFix64 holds")));
    }
    Ok(value)
}

/// A decimal integer given as a string or a JSON number.
fn integer_text(what: &str, value: &Value, signed: bool) -> Result<String, SignerError> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
        _ => return Err(bad(format!("{what}: expected an integer"))),
    };
    let digits = if signed {
        text.strip_prefix('-').unwrap_or(&text)
    } else {
        &text
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!("{what}: '{text}' is not an integer")));
    }
    Ok(text)
}

/// One `{type, value, subType}` of a custom transaction's `args` as the
/// JSON-Cadence value fcl's `types` made of it. Kinds fcl could not build
/// from the original's flat `{type, value}` (Optional, Dictionary,
/// composites, references) are refused.
fn custom_argument(what: &str, kind: &str, value: &Value) -> Result<Value, SignerError> {
    const UNSIGNED: [&str; 11] = [
        "UInt", "UInt8", "UInt16", "UInt32", "UInt64", "UInt128", "UInt256", "Word8", "Word16",
        "Word32", "Word64",
    ];
    const SIGNED: [&str; 7] = ["Int", "Int8", "Int16", "Int32", "Int64", "Int128", "Int256"];
    let string = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| bad(format!("{what}: a {kind} is a string")))
    };
    match kind {
        k if UNSIGNED.contains(&k) => {
            Ok(json!({"type": k, "value": integer_text(what, value, false)?}))
        }
        k if SIGNED.contains(&k) => {
            Ok(json!({"type": k, "value": integer_text(what, value, true)?}))
        }
        "UFix64" | "Fix64" => {
            let text = string(value)?;
            // fcl refused a fixed-point value without a decimal point.
            if !text.contains('.') {
                return Err(bad(format!("{what}: a {kind} needs a decimal point")));
            }
            let (sign, magnitude) = match text.strip_prefix('-') {
                Some(m) if kind == "Fix64" => ("-", m),
                _ => ("", text.as_str()),
            };
            Ok(json!({"type": kind, "value": format!("{sign}{}", ufix64(what, magnitude)?)}))
        }
        "String" => Ok(json!({"type": "String", "value": string(value)?})),
        "Character" => {
            let text = string(value)?;
            if text.chars().count() != 1 {
                return Err(bad(format!("{what}: a Character is one character")));
            }
            Ok(json!({"type": "Character", "value": text}))
        }
        "Bool" => match value {
            Value::Bool(b) => Ok(json!({"type": "Bool", "value": b})),
            _ => Err(bad(format!("{what}: a Bool is true or false"))),
        },
        "Address" => address_argument(what, &string(value)?),
        other => Err(SignerError::unsupported(
            Chain::FLOW,
            format!("{what}: a custom transaction argument of type {other}"),
        )),
    }
}

fn custom_arguments(body: &Value) -> Result<Vec<Value>, SignerError> {
    let args = match body.get("args") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(args)) => args,
        Some(_) => return Err(bad("body.args is a list of {type, value}")),
    };
    args.iter()
        .enumerate()
        .map(|(i, arg)| {
            let what = format!("body.args[{i}]");
            let kind = arg
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("{what}.type is required")))?;
            if kind == "Array" {
                let sub = arg
                    .get("subType")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(format!("{what}: an Array needs a subType")))?;
                let items = arg["value"]
                    .as_array()
                    .ok_or_else(|| bad(format!("{what}: an Array's value is a list")))?;
                let values = items
                    .iter()
                    .enumerate()
                    .map(|(j, item)| custom_argument(&format!("{what}.value[{j}]"), sub, item))
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(json!({"type": "Array", "value": values}));
            }
            custom_argument(&what, kind, &arg["value"])
        })
        .collect()
}

fn string_list<'a>(body: &'a Value, name: &str) -> Result<Vec<&'a str>, SignerError> {
    body.get(name)
        .and_then(Value::as_array)
        .filter(|list| !list.is_empty())
        .ok_or_else(|| bad(format!("body.{name} is required (a list)")))?
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| bad(format!("body.{name} holds strings only")))
        })
        .collect()
}

/// Builds the Cadence transaction of a `{type, body}` request: the same
/// arguments the original passed, with the Cadence 1.0 script.
fn parse_request(network: Network, serialized: &str) -> Result<Request, SignerError> {
    let value: Value = serde_json::from_str(serialized)
        .map_err(|e| bad(format!("serializedTransaction is not JSON: {e}")))?;
    let kind = value
        .get("type")
        .and_then(Value::as_u64)
        .map(Kind::of)
        .ok_or_else(|| bad("type: the original's FlowTxType, a number from 0 to 8"))?;
    let body = value
        .get("body")
        .filter(|b| b.is_object())
        .ok_or_else(|| bad("body: an object is required"))?;
    let account = full_address("body.account", string_field(body, "account")?)?;
    let token_type = || string_field(body, "contractAddress");
    let (script, arguments, transfer, action) = match kind {
        Kind::CreateAccount => {
            let (key, argument) = public_key_argument(body)?;
            (
                cadence::create_account(),
                vec![argument],
                None,
                format!("create a new account holding public key {key} (weight 1000)"),
            )
        }
        Kind::AddKey => {
            let (key, argument) = public_key_argument(body)?;
            // flowSignKMSTransaction passes no weight: the original's
            // default for an added key, 0.
            (
                cadence::add_key(),
                vec![argument, json!({"type": "UFix64", "value": "0.00000000"})],
                None,
                format!("add public key {key} (weight 0) to the account"),
            )
        }
        Kind::Transfer => {
            let token = match string_field(body, "currency")? {
                "FLOW" => Token::Flow,
                "FUSD" => Token::Fusd,
                other => return Err(bad(format!("body.currency: FLOW or FUSD, not {other}"))),
            };
            let amount = ufix64("body.amount", string_field(body, "amount")?)?;
            let to = full_address("body.to", string_field(body, "to")?)?;
            (
                cadence::transfer(network, token),
                vec![
                    json!({"type": "UFix64", "value": amount}),
                    json!({"type": "Address", "value": address_text(&to)}),
                ],
                Some(Transfer {
                    to: address_text(&to),
                    amount: amount.clone(),
                    asset: Some(token.symbol().to_string()),
                }),
                format!("send {amount} {} to {}", token.symbol(), address_text(&to)),
            )
        }
        Kind::MintNft => {
            let to = full_address("body.to", string_field(body, "to")?)?;
            let url = string_field(body, "url")?;
            let token_type = token_type()?;
            (
                cadence::mint_nft(network),
                vec![
                    json!({"type": "Address", "value": address_text(&to)}),
                    json!({"type": "String", "value": url}),
                    json!({"type": "String", "value": token_type}),
                ],
                None,
                format!(
                    "mint a TatumMultiNFT token of type {token_type} to {}",
                    address_text(&to)
                ),
            )
        }
        Kind::MintMultipleNft => {
            let to = string_list(body, "to")?;
            let urls = string_list(body, "url")?;
            if to.len() != urls.len() {
                return Err(bad(
                    "body.to and body.url must have one entry each per token",
                ));
            }
            let token_type = token_type()?;
            let recipients = to
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    full_address(&format!("body.to[{i}]"), a)
                        .map(|a| json!({"type": "Address", "value": address_text(&a)}))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let urls: Vec<Value> = urls
                .iter()
                .map(|u| json!({"type": "String", "value": u}))
                .collect();
            (
                cadence::mint_multiple_nft(network),
                vec![
                    json!({"type": "Array", "value": recipients}),
                    json!({"type": "Array", "value": urls}),
                    json!({"type": "String", "value": token_type}),
                ],
                None,
                format!(
                    "mint {} TatumMultiNFT tokens of type {token_type}",
                    to.len()
                ),
            )
        }
        Kind::BurnNft => {
            let id = integer_text("body.tokenId", &body["tokenId"], false)?;
            let token_type = token_type()?;
            (
                cadence::burn_nft(network),
                vec![
                    json!({"type": "UInt64", "value": id}),
                    json!({"type": "String", "value": token_type}),
                ],
                None,
                format!("burn TatumMultiNFT token {id} of type {token_type}"),
            )
        }
        Kind::TransferNft => {
            let to = full_address("body.to", string_field(body, "to")?)?;
            let id = integer_text("body.tokenId", &body["tokenId"], false)?;
            (
                cadence::transfer_nft(network),
                vec![
                    json!({"type": "Address", "value": address_text(&to)}),
                    json!({"type": "UInt64", "value": id}),
                ],
                None,
                format!("send TatumMultiNFT token {id} to {}", address_text(&to)),
            )
        }
        Kind::Custom => {
            let script = string_field(body, "transaction")?;
            // The original's limit on body.transaction.
            if script.len() > 500_000 {
                return Err(bad("body.transaction: at most 500000 characters"));
            }
            (
                script.to_string(),
                custom_arguments(body)?,
                None,
                "a custom Cadence transaction".to_string(),
            )
        }
    };
    Ok(Request {
        account,
        script,
        arguments,
        transfer,
        action,
    })
}

/// What `prepare` fetched: Tatum's keys and the chain's state.
struct Facts {
    proposer: Address,
    proposer_key_index: u64,
    sequence_number: u64,
    payer: Address,
    payer_key_index: u64,
    reference_block_id: [u8; 32],
}

impl Facts {
    fn to_prepared(&self) -> Prepared {
        let mut map = Map::new();
        map.insert(
            "proposer".into(),
            json!({
                "address": address_text(&self.proposer),
                "keyIndex": self.proposer_key_index,
                "sequenceNumber": self.sequence_number,
            }),
        );
        map.insert(
            "payer".into(),
            json!({"address": address_text(&self.payer), "keyIndex": self.payer_key_index}),
        );
        map.insert(
            "referenceBlockId".into(),
            json!(hex::encode(self.reference_block_id)),
        );
        Prepared(map)
    }

    fn from_prepared(prepared: &Prepared) -> Result<Facts, SignerError> {
        let missing = |what: &str| SignerError::Network {
            chain: Chain::FLOW,
            reason: format!("prepared facts lack {what}; prepare the transaction online"),
        };
        let map = &prepared.0;
        let number = |v: &Value, what: &str| v.as_u64().ok_or_else(|| missing(what));
        let address = |v: &Value, what: &str| {
            v.as_str()
                .ok_or_else(|| missing(what))
                .and_then(|a| parse_address(what, a))
        };
        let proposer = map.get("proposer").ok_or_else(|| missing("proposer"))?;
        let payer = map.get("payer").ok_or_else(|| missing("payer"))?;
        let block = map
            .get("referenceBlockId")
            .and_then(Value::as_str)
            .and_then(|b| hex::decode(b).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| missing("referenceBlockId"))?;
        Ok(Facts {
            proposer: address(&proposer["address"], "proposer.address")?,
            proposer_key_index: number(&proposer["keyIndex"], "proposer.keyIndex")?,
            sequence_number: number(&proposer["sequenceNumber"], "proposer.sequenceNumber")?,
            payer: address(&payer["address"], "payer.address")?,
            payer_key_index: number(&payer["keyIndex"], "payer.keyIndex")?,
            reference_block_id: block,
        })
    }
}

/// A number the Tatum API or the access node wrote as a JSON number or a
/// decimal string.
fn answer_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `GET /v3/flow/proposal/{isPayer}`: the address and key index Tatum
/// proposes (or pays) with. A proposal key stays locked until released
/// with `POST /v3/flow/broadcast {proposalKey}`.
async fn tatum_key(api: &dyn ChainApi, is_payer: bool) -> Result<(Address, u64), SignerError> {
    let path = format!("/v3/flow/proposal/{is_payer}");
    let answer = api.call(ApiRequest::get(Service::Tatum, &path)).await?;
    let address = answer["address"]
        .as_str()
        .ok_or_else(|| network_error(format!("{path} answered no address")))
        .and_then(|a| {
            parse_address(&path, a)
                .map_err(|_| network_error(format!("{path}: address is not a Flow address")))
        })?;
    let key = answer_u64(&answer["keyId"])
        .ok_or_else(|| network_error(format!("{path} answered no keyId")))?;
    Ok((address, key))
}

/// `POST /v3/flow/broadcast {txData, proposalKey}`: unlocks Tatum's
/// proposal key, as the original did after every attempt (with `txData`
/// the transaction id, or empty when nothing reached the chain).
async fn release_proposal_key(
    api: &dyn ChainApi,
    tx_id: &str,
    key_index: u64,
) -> Result<(), SignerError> {
    api.call(ApiRequest::post(
        Service::Tatum,
        "/v3/flow/broadcast",
        json!({"txData": tx_id, "proposalKey": key_index}),
    ))
    .await?;
    Ok(())
}

/// The sealed block the transaction refers to, and the proposal key's
/// sequence number, from the access node.
async fn chain_state(
    api: &dyn ChainApi,
    proposer: &Address,
    key_index: u64,
) -> Result<([u8; 32], u64), SignerError> {
    let blocks = api
        .call(ApiRequest::get(
            Service::FlowAccessNode,
            "/v1/blocks?height=sealed",
        ))
        .await?;
    let block = blocks[0]["header"]["id"]
        .as_str()
        .and_then(|id| hex::decode(id).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| network_error("/v1/blocks?height=sealed answered no block id"))?;
    let path = format!("/v1/accounts/{}?expand=keys", hex::encode(proposer));
    let account = api
        .call(ApiRequest::get(Service::FlowAccessNode, &path))
        .await?;
    let key = account["keys"]
        .as_array()
        .and_then(|keys| {
            keys.iter()
                .find(|k| answer_u64(&k["index"]) == Some(key_index))
        })
        .ok_or_else(|| {
            network_error(format!(
                "{path}: the account has no key {key_index}, Tatum's proposal key"
            ))
        })?;
    if key["revoked"].as_bool() == Some(true) {
        return Err(network_error(format!(
            "{path}: Tatum's proposal key {key_index} is revoked"
        )));
    }
    let sequence = answer_u64(&key["sequence_number"])
        .ok_or_else(|| network_error(format!("{path}: key {key_index} has no sequence_number")))?;
    Ok((block, sequence))
}

pub(super) async fn prepare(
    network: Network,
    serialized: &str,
    api: &dyn ChainApi,
) -> Result<Prepared, SignerError> {
    // A request that cannot be signed costs no proposal key.
    parse_request(network, serialized)?;
    let (proposer, proposer_key_index) = tatum_key(api, false).await?;
    let rest = async {
        let (payer, payer_key_index) = tatum_key(api, true).await?;
        let (reference_block_id, sequence_number) =
            chain_state(api, &proposer, proposer_key_index).await?;
        Ok::<_, SignerError>(Facts {
            proposer,
            proposer_key_index,
            sequence_number,
            payer,
            payer_key_index,
            reference_block_id,
        })
    };
    match rest.await {
        Ok(facts) => Ok(facts.to_prepared()),
        Err(e) => {
            // As the original's catch: give the proposal key back; the
            // error that stopped us is the one to report.
            let _ = release_proposal_key(api, "", proposer_key_index).await;
            Err(e)
        }
    }
}

/// Blocks after its reference block within which a Flow transaction can be
/// included; later it is expired.
const EXPIRY_BLOCKS: u64 = 600;

/// Blocks of margin over [`EXPIRY_BLOCKS`] before an earlier transaction is
/// taken as expired: the sealed height the node reports may lag.
const EXPIRY_MARGIN: u64 = 10;

/// What became of a transaction signed earlier with `prepared` (for the
/// signing ledger's retries; see [`crate::Signer::fate`]). It can never
/// land once its reference block is more than 600 blocks behind the sealed
/// one; and it did not land if the proposal key it names is still at the
/// sequence number it used (a sealed transaction, failed or not, moves it
/// on). Both together: expired, and safe to sign anew. The sequence number
/// moved (Tatum's key is shared, so another transaction may have moved
/// it): not known. Not yet expired: not known either (the same bytes may
/// still land).
pub(super) async fn earlier_fate(
    prepared: &Prepared,
    api: &dyn ChainApi,
) -> Result<crate::Fate, SignerError> {
    let facts = Facts::from_prepared(prepared)?;
    let reference = hex::encode(facts.reference_block_id);
    let height = |blocks: &Value, what: &str| {
        answer_u64(&blocks[0]["header"]["height"])
            .ok_or_else(|| network_error(format!("{what} answered no block height")))
    };
    let path = format!("/v1/blocks/{reference}");
    let referenced = height(
        &api.call(ApiRequest::get(Service::FlowAccessNode, &path))
            .await?,
        &path,
    )?;
    let sealed = height(
        &api.call(ApiRequest::get(
            Service::FlowAccessNode,
            "/v1/blocks?height=sealed",
        ))
        .await?,
        "/v1/blocks?height=sealed",
    )?;
    if sealed <= referenced.saturating_add(EXPIRY_BLOCKS + EXPIRY_MARGIN) {
        return Ok(crate::Fate::Unknown);
    }
    let (_, sequence) = chain_state(api, &facts.proposer, facts.proposer_key_index).await?;
    if sequence != facts.sequence_number {
        return Ok(crate::Fate::Unknown);
    }
    Ok(crate::Fate::Expired {
        evidence: format!(
            "reference block {reference} (height {referenced}) is {} blocks behind the sealed one (Flow expires a transaction after {EXPIRY_BLOCKS}), and proposal key {} of 0x{} is still at sequence number {}: the transaction never landed",
            sealed - referenced,
            facts.proposer_key_index,
            hex::encode(facts.proposer),
            facts.sequence_number
        ),
    })
}

pub(super) async fn release(prepared: &Prepared, api: &dyn ChainApi) -> Result<(), SignerError> {
    let facts = Facts::from_prepared(prepared)?;
    release_proposal_key(api, "", facts.proposer_key_index).await
}

/// The transaction the wallet's key signs, without signatures.
fn build(request: &Request, facts: &Facts) -> Transaction {
    Transaction {
        script: request.script.as_bytes().to_vec(),
        arguments: request
            .arguments
            .iter()
            .map(|a| a.to_string().into_bytes())
            .collect(),
        reference_block_id: facts.reference_block_id,
        gas_limit: GAS_LIMIT,
        proposer: facts.proposer,
        proposer_key_index: facts.proposer_key_index,
        proposer_sequence_number: facts.sequence_number,
        payer: facts.payer,
        authorizers: vec![request.account],
        payload_signatures: Vec::new(),
        envelope_signatures: Vec::new(),
    }
}

/// What `sign` hands `submit` (and the approver's digest covers).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Signed {
    /// The pending transaction's id, for `POST /v3/flow/broadcast`.
    signature_id: String,
    /// Tatum's payer key, which signs the envelope in `submit`.
    payer_key_index: u64,
    /// The REST transaction with the wallet's payload signature.
    transaction: RestTransaction,
}

pub(super) fn sign(
    network: Network,
    pending_id: &str,
    serialized: &str,
    prepared: &Prepared,
    key: &SecretKey,
) -> Result<SignedTx, SignerError> {
    let request = parse_request(network, serialized)?;
    let facts = Facts::from_prepared(prepared)?;
    if request.account == facts.payer || request.account == facts.proposer {
        return Err(bad(
            "body.account is Tatum's proposer or payer: the wallet must authorize only",
        ));
    }
    let mut tx = build(&request, &facts);
    let signature = sign_message(key, &tx.payload_rlp());
    tx.payload_signatures.push(Signature {
        address: request.account,
        key_index: AUTHORIZER_KEY_INDEX,
        signature,
    });
    tx.sort_signatures()?;
    let signed = Signed {
        signature_id: pending_id.to_string(),
        payer_key_index: facts.payer_key_index,
        transaction: tx.to_rest(),
    };
    serde_json::to_string(&signed)
        .map(SignedTx::plain)
        .map_err(|e| bad(e.to_string()))
}

pub(super) fn intent(
    network: Network,
    serialized: &str,
    prepared: &Prepared,
) -> Result<Intent, SignerError> {
    let request = parse_request(network, serialized)?;
    let facts = Facts::from_prepared(prepared)?;
    let mut intent = Intent::new(Chain::FLOW, network);
    intent.senders.push(address_text(&request.account));
    intent.senders.push(address_text(&facts.payer));
    intent.nonce = Some(facts.sequence_number.to_string());
    intent.transfers.extend(request.transfer.clone());
    let arguments: Vec<String> = request.arguments.iter().map(Value::to_string).collect();
    intent.memo = Some(format!(
        "{}; Cadence script sha3-256:{}, arguments [{}], gas limit {GAS_LIMIT}",
        request.action,
        hex::encode(Sha3_256::digest(request.script.as_bytes())),
        arguments.join(", "),
    ));
    Ok(intent)
}

/// Whether `tx_data` is what [`sign`] produced (rather than a fully built
/// transaction's REST body).
pub(super) fn is_tatum_signed(tx_data: &str) -> bool {
    serde_json::from_str::<Value>(tx_data).is_ok_and(|v| v.get("payerKeyIndex").is_some())
}

/// `POST /v3/flow/sign {data, isPayer}`: Tatum's key signs the
/// domain-tagged message (hex); the answer is `r ‖ s` in hex.
async fn tatum_signature(
    api: &dyn ChainApi,
    message_rlp: &[u8],
    is_payer: bool,
) -> Result<Vec<u8>, SignerError> {
    let mut message = transaction_domain_tag().to_vec();
    message.extend_from_slice(message_rlp);
    let answer = api
        .call(ApiRequest::post(
            Service::Tatum,
            "/v3/flow/sign",
            json!({"data": hex::encode(message), "isPayer": is_payer}),
        ))
        .await?;
    answer["signature"]
        .as_str()
        .map(|s| s.strip_prefix("0x").unwrap_or(s))
        .and_then(|s| hex::decode(s).ok())
        .filter(|s| s.len() == 64)
        .ok_or_else(|| network_error("/v3/flow/sign answered no 64-byte hex signature"))
}

/// Tatum's signatures: the proposal key's on the payload (unless it is the
/// payer's own key), then the payer's on the envelope, as fcl orders them.
async fn co_sign(
    api: &dyn ChainApi,
    tx: &mut Transaction,
    payer_key_index: u64,
) -> Result<(), SignerError> {
    // fcl: inside signers (proposer and authorizers, minus the payer's own
    // key) sign the payload.
    if (tx.proposer, tx.proposer_key_index) != (tx.payer, payer_key_index) {
        let signature = tatum_signature(api, &tx.payload_rlp(), false).await?;
        tx.payload_signatures.push(Signature {
            address: tx.proposer,
            key_index: tx.proposer_key_index,
            signature,
        });
        tx.sort_signatures()?;
    }
    let signature = tatum_signature(api, &tx.envelope_rlp()?, true).await?;
    tx.envelope_signatures.push(Signature {
        address: tx.payer,
        key_index: payer_key_index,
        signature,
    });
    tx.sort_signatures()
}

fn is_hex_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `POST /v1/transactions`. Returns the transaction id, or an error when
/// the node does not have the transaction. When sending fails (no
/// connection, a gateway error, a refusal) the node may have taken it all
/// the same: it is asked for the transaction by the id computed here, so a
/// transaction on its way is not signed and sent a second time next cycle.
async fn send(api: &dyn ChainApi, tx: &Transaction) -> Result<String, SignerError> {
    let body = serde_json::to_value(tx.to_rest()).map_err(|e| bad(e.to_string()))?;
    let computed = hex::encode(tx.id()?);
    match api
        .call(ApiRequest::post(
            Service::FlowAccessNode,
            "/v1/transactions",
            body,
        ))
        .await
    {
        Ok(answer) => match answer["id"].as_str() {
            Some(id) if is_hex_id(id) => Ok(id.to_ascii_lowercase()),
            _ => Err(network_error("/v1/transactions answered no transaction id")),
        },
        // Whatever the error (a refusal too: the client retries a 5xx, and
        // a retry of a transaction the node took is refused as a duplicate).
        Err(e) => known_to_node(api, &computed, e).await,
    }
}

async fn known_to_node(
    api: &dyn ChainApi,
    computed: &str,
    sending: ApiError,
) -> Result<String, SignerError> {
    let path = format!("/v1/transaction_results/{computed}");
    match api
        .call(ApiRequest::get(Service::FlowAccessNode, &path))
        .await
    {
        Ok(result) if result["status"].is_string() => Ok(computed.to_string()),
        _ => Err(sending.into()),
    }
}

/// What became of a sent transaction.
enum Fate {
    /// Sealed without error.
    Sealed,
    /// Sealed with an error, or expired: nothing it did happened, and
    /// signing it again is safe.
    Failed(SignerError),
    /// Not known: the node could not be asked, or it was not sealed in
    /// time. It may still be sealed.
    Unknown,
}

/// Asks the access node until the transaction is sealed.
async fn wait_until_sealed(api: &dyn ChainApi, tx_id: &str) -> Fate {
    let path = format!("/v1/transaction_results/{tx_id}");
    for attempt in 1..=SEAL_POLLS {
        let Ok(result) = api
            .call(ApiRequest::get(Service::FlowAccessNode, &path))
            .await
        else {
            return Fate::Unknown;
        };
        match result["status"].as_str() {
            Some("Sealed") => {
                let message = result["error_message"].as_str().unwrap_or("");
                let code = answer_u64(&result["status_code"]).unwrap_or(0);
                if !message.is_empty() || code != 0 {
                    return Fate::Failed(network_error(format!(
                        "transaction {tx_id} failed on chain (status code {code}): {}",
                        message.chars().take(500).collect::<String>()
                    )));
                }
                return Fate::Sealed;
            }
            Some("Expired") => {
                return Fate::Failed(network_error(format!(
                    "transaction {tx_id} expired before it was sealed"
                )))
            }
            Some(_) => {}
            None => return Fate::Unknown,
        }
        if attempt < SEAL_POLLS {
            tokio::time::sleep(seal_poll_wait(attempt)).await;
        }
    }
    Fate::Unknown
}

pub(super) async fn submit(signed: SignedTx, api: &dyn ChainApi) -> Result<Submitted, SignerError> {
    let Signed {
        signature_id,
        payer_key_index,
        transaction,
    } = serde_json::from_str(&signed.tx_data)
        .map_err(|e| bad(format!("not a signed FLOW request: {e}")))?;
    let mut tx = Transaction::parse(&transaction)?;
    tx.sort_signatures()?;
    let proposal_key = tx.proposer_key_index;
    let sent = match co_sign(api, &mut tx, payer_key_index).await {
        Ok(()) => send(api, &tx).await,
        Err(e) => Err(e),
    };
    let tx_id = match sent {
        Ok(id) => id,
        Err(e) => {
            // Nothing reached the chain: the original's catch released the
            // key with an empty txData.
            let _ = release_proposal_key(api, "", proposal_key).await;
            return Err(e);
        }
    };
    let fate = wait_until_sealed(api, &tx_id).await;
    // The original released the proposal key with the transaction id
    // whatever the outcome (its `finally`), ignoring a failure to do so:
    // the transaction is on its way either way.
    let _ = release_proposal_key(api, &tx_id, proposal_key).await;
    if let Fate::Failed(e) = fate {
        return Err(e);
    }
    // Sealed, or sent with its seal not seen: reported either way, as every
    // other chain's broadcast is reported without waiting for the chain. A
    // transaction left pending at Tatum would be signed and sent again.
    api.call(ApiRequest::post(
        Service::Tatum,
        "/v3/flow/broadcast",
        json!({"txData": tx_id, "signatureId": signature_id}),
    ))
    .await?;
    Ok(Submitted::Broadcast { tx_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ufix64_amounts_are_exact_or_refused() {
        assert_eq!(ufix64("a", "1").unwrap(), "1.00000000");
        assert_eq!(ufix64("a", "0.5").unwrap(), "0.50000000");
        assert_eq!(ufix64("a", "007.12345678").unwrap(), "7.12345678");
        assert_eq!(ufix64("a", ".1").unwrap(), "0.10000000");
        assert_eq!(
            ufix64("a", "184467440737.09551615").unwrap(),
            "184467440737.09551615"
        );
        for wrong in [
            "1.123456789",
            "",
            ".",
            "-1",
            "1e5",
            "184467440737.09551616",
            "0x1",
        ] {
            assert!(
                matches!(
                    ufix64("a", wrong),
                    Err(SignerError::InvalidTransaction { .. })
                ),
                "{wrong}"
            );
        }
    }

    #[test]
    fn type_numbers_follow_the_original_enum() {
        assert_eq!(Kind::of(0), Kind::CreateAccount);
        assert_eq!(Kind::of(2), Kind::Transfer);
        // DEPLOY_NFT is not in the original's switch: its default.
        assert_eq!(Kind::of(3), Kind::Custom);
        assert_eq!(Kind::of(7), Kind::TransferNft);
        assert_eq!(Kind::of(8), Kind::Custom);
    }

    #[test]
    fn custom_arguments_become_json_cadence() {
        let body = json!({"args": [
            {"type": "UInt64", "value": "5"},
            {"type": "Address", "value": "0x01cf0e2f2f715450"},
            {"type": "Array", "subType": "String", "value": ["a", "b"]},
            {"type": "UFix64", "value": "1.5"},
            {"type": "Bool", "value": true},
        ]});
        assert_eq!(
            Value::Array(custom_arguments(&body).unwrap()),
            json!([
                {"type": "UInt64", "value": "5"},
                {"type": "Address", "value": "0x01cf0e2f2f715450"},
                {"type": "Array", "value": [{"type": "String", "value": "a"}, {"type": "String", "value": "b"}]},
                {"type": "UFix64", "value": "1.50000000"},
                {"type": "Bool", "value": true},
            ])
        );
        let refused = json!({"args": [{"type": "Dictionary", "value": "{}"}]});
        assert!(matches!(
            custom_arguments(&refused),
            Err(SignerError::Unsupported { .. })
        ));
        let no_point = json!({"args": [{"type": "UFix64", "value": "5"}]});
        assert!(matches!(
            custom_arguments(&no_point),
            Err(SignerError::InvalidTransaction { .. })
        ));
    }
}
