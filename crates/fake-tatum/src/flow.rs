//! FLOW at the fake: Tatum's side of the original's FLOW requests
//! (`/v3/flow/proposal/{isPayer}`, `/v3/flow/sign`, `/v3/flow/broadcast`)
//! and a Flow access node's REST API (`/v1/blocks`, `/v1/accounts`,
//! `/v1/transactions`, `/v1/transaction_results`), on the same address.
//!
//! The access node checks a submitted transaction as Flow does, with code
//! of its own (its RLP encoder, `k256` for ECDSA over SHA3-256 of the
//! domain-tagged message): the proposal key and its sequence number, the
//! reference block, and every payload and envelope signature against the
//! keys it knows (Tatum's, and the accounts registered with
//! [`FakeTatum::flow_add_account`](crate::FakeTatum::flow_add_account)).
//! A transaction that fails any check is answered 400, as the node would.

use base64::Engine;
use k256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use k256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde_json::{json, Value};
use sha3::{Digest, Sha3_256};

/// Tatum's service account at the fake: its proposal and payer keys.
pub const TATUM_FLOW_ADDRESS: &str = "0x1e3c78c6d580273b";
/// The proposal key index the fake hands out.
pub const PROPOSAL_KEY_INDEX: u64 = 7;
/// The payer key index.
pub const PAYER_KEY_INDEX: u64 = 0;
/// The sealed block the fake's access node reports.
pub const SEALED_BLOCK_ID: &str =
    "7bc42fe85d32ca513769a74f97f7e1a7bad6c9407f0d934c2aa645ef9cf613c7";

/// What the fake knows and saw of FLOW.
pub(crate) struct FlowState {
    proposal_key: SigningKey,
    payer_key: SigningKey,
    /// The proposal key's sequence number; a sealed transaction bumps it.
    sequence_number: u64,
    /// Accounts whose key 0 may authorize: (address bytes, key).
    accounts: Vec<([u8; 8], VerifyingKey)>,
    /// Transactions the access node accepted: (id, REST body).
    pub(crate) sent: Vec<(String, Value)>,
    /// How many more `Pending` answers each sent transaction gets.
    pending_polls: Vec<(String, u32)>,
    /// An execution error for the next sent transaction.
    pub(crate) fail_next_execution: Option<String>,
    /// The next accepted transaction's answer is lost (a 502 instead).
    pub(crate) lose_next_answer: bool,
    /// Sent transactions that fail on chain: (id, error message).
    failures: Vec<(String, String)>,
    /// Bodies of `POST /v3/flow/broadcast` that released a proposal key.
    pub(crate) releases: Vec<Value>,
    /// Messages Tatum's keys signed: (isPayer, hex message).
    pub(crate) tatum_signed: Vec<(bool, String)>,
    /// Blocks sealed since [`SEALED_BLOCK_ID`] (a test moves time on).
    pub(crate) blocks_advanced: u64,
}

impl Default for FlowState {
    fn default() -> Self {
        FlowState {
            // Fixed keys: tests check their signatures independently.
            proposal_key: SigningKey::from_slice(&[0x11; 32]).expect("a valid key"),
            payer_key: SigningKey::from_slice(&[0x22; 32]).expect("a valid key"),
            sequence_number: 41,
            accounts: Vec::new(),
            sent: Vec::new(),
            pending_polls: Vec::new(),
            fail_next_execution: None,
            failures: Vec::new(),
            lose_next_answer: false,
            releases: Vec::new(),
            tatum_signed: Vec::new(),
            blocks_advanced: 0,
        }
    }
}

/// Tatum's public keys at the fake, 64 bytes of hex (x ‖ y): proposal, payer.
pub fn tatum_public_keys() -> (String, String) {
    let state = FlowState::default();
    (
        public_hex(state.proposal_key.verifying_key()),
        public_hex(state.payer_key.verifying_key()),
    )
}

fn public_hex(key: &VerifyingKey) -> String {
    hex::encode(&key.to_encoded_point(false).as_bytes()[1..])
}

fn address_bytes(text: &str) -> Option<[u8; 8]> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let bytes = hex::decode(format!("{digits:0>16}")).ok()?;
    bytes.try_into().ok()
}

impl FlowState {
    pub(crate) fn add_account(&mut self, address: &str, public_key_hex: &str) {
        let address = address_bytes(address).expect("a Flow address");
        let mut sec1 = vec![4u8];
        sec1.extend(hex::decode(public_key_hex).expect("hex public key"));
        let key = VerifyingKey::from_sec1_bytes(&sec1).expect("a secp256k1 public key");
        self.accounts.push((address, key));
    }

    pub(crate) fn sequence_number(&self) -> u64 {
        self.sequence_number
    }

    pub(crate) fn bump_sequence(&mut self) {
        self.sequence_number += 1;
    }
}

// ------------------------------------------------------------- RLP, ours

fn rlp_length(len: usize, short: u8) -> Vec<u8> {
    if len < 56 {
        vec![short + len as u8]
    } else {
        let be = len.to_be_bytes();
        let skip = be.iter().take_while(|b| **b == 0).count();
        let mut out = vec![short + 55 + (be.len() - skip) as u8];
        out.extend_from_slice(&be[skip..]);
        out
    }
}

fn rlp_bytes(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() == 1 && bytes[0] < 0x80 {
        return bytes.to_vec();
    }
    let mut out = rlp_length(bytes.len(), 0x80);
    out.extend_from_slice(bytes);
    out
}

fn rlp_uint(n: u64) -> Vec<u8> {
    let be = n.to_be_bytes();
    let skip = be.iter().take_while(|b| **b == 0).count();
    rlp_bytes(&be[skip..])
}

fn rlp_list(items: Vec<Vec<u8>>) -> Vec<u8> {
    let body: Vec<u8> = items.concat();
    let mut out = rlp_length(body.len(), 0xc0);
    out.extend(body);
    out
}

fn domain_tagged(rlp: &[u8]) -> Vec<u8> {
    let mut message = b"FLOW-V0.0-transaction".to_vec();
    message.resize(32, 0);
    message.extend_from_slice(rlp);
    message
}

fn sha3(bytes: &[u8]) -> [u8; 32] {
    Sha3_256::digest(bytes).into()
}

fn sign(key: &SigningKey, message: &[u8]) -> Vec<u8> {
    let signature: Signature = key.sign_prehash(&sha3(message)).expect("signing");
    let signature = signature.normalize_s().unwrap_or(signature);
    signature.to_bytes().to_vec()
}

fn verifies(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    Signature::from_slice(signature).is_ok_and(|s| key.verify_prehash(&sha3(message), &s).is_ok())
}

// ------------------------------------------------------------- requests

/// A fake answer: status and JSON body.
pub(crate) type Answer = (u16, Value);

fn node_error(message: impl Into<String>) -> Answer {
    (400, json!({"code": 400, "message": message.into()}))
}

/// `GET /v3/flow/proposal/{isPayer}`.
pub(crate) fn proposal(is_payer: &str) -> Option<Answer> {
    match is_payer {
        "false" => Some((
            200,
            json!({"address": TATUM_FLOW_ADDRESS, "keyId": PROPOSAL_KEY_INDEX}),
        )),
        "true" => Some((
            200,
            json!({"address": TATUM_FLOW_ADDRESS, "keyId": PAYER_KEY_INDEX}),
        )),
        _ => None,
    }
}

/// `POST /v3/flow/sign {data, isPayer}`: only a domain-tagged transaction
/// message is signed.
pub(crate) fn tatum_sign(state: &mut FlowState, body: &Value) -> Answer {
    let (Some(data), Some(is_payer)) = (body["data"].as_str(), body["isPayer"].as_bool()) else {
        return (
            400,
            json!({"message": "data (hex) and isPayer (boolean) are required"}),
        );
    };
    let Ok(message) = hex::decode(data) else {
        return (400, json!({"message": "data is not hex"}));
    };
    if domain_tagged(&[]) != message[..32.min(message.len())] {
        return (
            400,
            json!({"message": "data is not a FLOW transaction message"}),
        );
    }
    state.tatum_signed.push((is_payer, data.to_string()));
    let key = if is_payer {
        &state.payer_key
    } else {
        &state.proposal_key
    };
    (200, json!({"signature": hex::encode(sign(key, &message))}))
}

/// A transaction expires this many blocks after its reference block.
const EXPIRY_BLOCKS: u64 = 600;

/// The height of [`SEALED_BLOCK_ID`].
const FIRST_HEIGHT: u64 = 91_234_567;

/// The id of the sealed block at `height` ([`SEALED_BLOCK_ID`] for the first).
fn block_id(height: u64) -> String {
    if height == FIRST_HEIGHT {
        SEALED_BLOCK_ID.to_owned()
    } else {
        hex::encode(sha3(format!("fake flow block {height}").as_bytes()))
    }
}

fn header(height: u64) -> Value {
    json!({"header": {"id": block_id(height), "parent_id": "00".repeat(32), "height": height.to_string(), "timestamp": "2026-12-05T19:00:00Z"}})
}

/// `GET /v1/blocks?height=sealed`.
pub(crate) fn sealed_block(state: &FlowState) -> Answer {
    (200, json!([header(FIRST_HEIGHT + state.blocks_advanced)]))
}

/// `GET /v1/blocks/{id}`: the sealed blocks the fake has made.
pub(crate) fn block(state: &FlowState, id: &str) -> Answer {
    (FIRST_HEIGHT..=FIRST_HEIGHT + state.blocks_advanced)
        .rev()
        .find(|h| block_id(*h) == id)
        .map_or_else(
            || (404, json!({"code": 404, "message": "block not found"})),
            |h| (200, json!([header(h)])),
        )
}

/// `GET /v1/accounts/{address}?expand=keys`.
pub(crate) fn account(state: &FlowState, address: &str) -> Answer {
    let Some(asked) = address_bytes(address) else {
        return node_error("invalid address");
    };
    if Some(asked) == address_bytes(TATUM_FLOW_ADDRESS) {
        let key = |index: u64, seq: u64, key: &VerifyingKey| {
            json!({"index": index.to_string(), "public_key": format!("0x{}", public_hex(key)),
                   "signing_algorithm": "ECDSA_secp256k1", "hashing_algorithm": "SHA3_256",
                   "sequence_number": seq.to_string(), "weight": "1000", "revoked": false})
        };
        return (
            200,
            json!({"address": hex::encode(asked), "balance": "100000000", "keys": [
                key(PAYER_KEY_INDEX, 3, state.payer_key.verifying_key()),
                key(PROPOSAL_KEY_INDEX, state.sequence_number, state.proposal_key.verifying_key()),
            ]}),
        );
    }
    match state.accounts.iter().find(|(a, _)| *a == asked) {
        Some((_, key)) => (
            200,
            json!({"address": hex::encode(asked), "balance": "500000000", "keys": [
                {"index": "0", "public_key": format!("0x{}", public_hex(key)),
                 "signing_algorithm": "ECDSA_secp256k1", "hashing_algorithm": "SHA3_256",
                 "sequence_number": "0", "weight": "1000", "revoked": false}]}),
        ),
        None => (404, json!({"code": 404, "message": "account not found"})),
    }
}

struct Sig {
    address: [u8; 8],
    key_index: u64,
    signature: Vec<u8>,
}

fn parse_signatures(list: &Value) -> Option<Vec<Sig>> {
    list.as_array()?
        .iter()
        .map(|s| {
            Some(Sig {
                address: address_bytes(s["address"].as_str()?)?,
                key_index: s["key_index"].as_str()?.parse().ok()?,
                signature: base64::engine::general_purpose::STANDARD
                    .decode(s["signature"].as_str()?)
                    .ok()?,
            })
        })
        .collect()
}

/// `POST /v1/transactions`: checks and accepts the transaction.
pub(crate) fn send_transaction(state: &mut FlowState, body: &Value) -> Answer {
    let b64 = |v: &Value| {
        v.as_str()
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
    };
    let uint = |v: &Value| v.as_str().and_then(|s| s.parse::<u64>().ok());
    let (
        Some(script),
        Some(arguments),
        Some(block),
        Some(gas),
        Some(proposer),
        Some(proposer_key),
        Some(sequence),
        Some(payer),
        Some(authorizers),
        Some(payload_sigs),
        Some(envelope_sigs),
    ) = (
        b64(&body["script"]),
        body["arguments"]
            .as_array()
            .and_then(|a| a.iter().map(b64).collect::<Option<Vec<_>>>()),
        body["reference_block_id"]
            .as_str()
            .and_then(|b| hex::decode(b).ok()),
        uint(&body["gas_limit"]),
        body["proposal_key"]["address"]
            .as_str()
            .and_then(address_bytes),
        uint(&body["proposal_key"]["key_index"]),
        uint(&body["proposal_key"]["sequence_number"]),
        body["payer"].as_str().and_then(address_bytes),
        body["authorizers"].as_array().and_then(|a| {
            a.iter()
                .map(|x| x.as_str().and_then(address_bytes))
                .collect::<Option<Vec<_>>>()
        }),
        parse_signatures(&body["payload_signatures"]),
        parse_signatures(&body["envelope_signatures"]),
    )
    else {
        return node_error("invalid transaction body");
    };
    let tatum = address_bytes(TATUM_FLOW_ADDRESS).expect("constant");
    let sealed = FIRST_HEIGHT + state.blocks_advanced;
    let Some(height) = (FIRST_HEIGHT..=sealed)
        .rev()
        .find(|h| hex::decode(block_id(*h)).ok().as_deref() == Some(&block[..]))
    else {
        return node_error("reference block not found");
    };
    if sealed > height + EXPIRY_BLOCKS {
        return node_error("transaction is expired");
    }
    if proposer != tatum || proposer_key != PROPOSAL_KEY_INDEX {
        return node_error("the proposal key is not Tatum's");
    }
    if sequence != state.sequence_number {
        return node_error(format!(
            "invalid proposal key: sequence number {sequence}, expected {}",
            state.sequence_number
        ));
    }
    if payer != tatum {
        return node_error("the payer is not Tatum's");
    }
    let payload = rlp_list(vec![
        rlp_bytes(&script),
        rlp_list(arguments.iter().map(|a| rlp_bytes(a)).collect()),
        rlp_bytes(&block),
        rlp_uint(gas),
        rlp_bytes(&proposer),
        rlp_uint(proposer_key),
        rlp_uint(sequence),
        rlp_bytes(&payer),
        rlp_list(authorizers.iter().map(|a| rlp_bytes(a)).collect()),
    ]);
    let mut signers: Vec<[u8; 8]> = Vec::new();
    for a in [proposer, payer].iter().chain(&authorizers) {
        if !signers.contains(a) {
            signers.push(*a);
        }
    }
    let index = |a: &[u8; 8]| signers.iter().position(|s| s == a).map(|i| i as u64);
    let encode_sigs = |sigs: &[Sig]| -> Option<Vec<u8>> {
        Some(rlp_list(
            sigs.iter()
                .map(|s| {
                    Some(rlp_list(vec![
                        rlp_uint(index(&s.address)?),
                        rlp_uint(s.key_index),
                        rlp_bytes(&s.signature),
                    ]))
                })
                .collect::<Option<Vec<_>>>()?,
        ))
    };
    let Some(payload_sig_rlp) = encode_sigs(&payload_sigs) else {
        return node_error("a payload signature from an account with no role");
    };
    let envelope = rlp_list(vec![payload.clone(), payload_sig_rlp.clone()]);
    let key_of = |address: &[u8; 8], key_index: u64| -> Option<VerifyingKey> {
        if *address == tatum {
            match key_index {
                PROPOSAL_KEY_INDEX => Some(*state.proposal_key.verifying_key()),
                PAYER_KEY_INDEX => Some(*state.payer_key.verifying_key()),
                _ => None,
            }
        } else {
            (key_index == 0)
                .then(|| {
                    state
                        .accounts
                        .iter()
                        .find(|(a, _)| a == address)
                        .map(|(_, k)| *k)
                })
                .flatten()
        }
    };
    for s in &payload_sigs {
        let Some(key) = key_of(&s.address, s.key_index) else {
            return node_error("payload signature by an unknown key");
        };
        if !verifies(&key, &domain_tagged(&payload), &s.signature) {
            return node_error(format!(
                "invalid payload signature of {} key {}",
                hex::encode(s.address),
                s.key_index
            ));
        }
    }
    for s in &envelope_sigs {
        let Some(key) = key_of(&s.address, s.key_index) else {
            return node_error("envelope signature by an unknown key");
        };
        if !verifies(&key, &domain_tagged(&envelope), &s.signature) {
            return node_error(format!(
                "invalid envelope signature of {} key {}",
                hex::encode(s.address),
                s.key_index
            ));
        }
    }
    // Every authorizer signs the payload; the proposal key signs (payload
    // or envelope); the payer signs the envelope.
    if let Some(missing) = authorizers
        .iter()
        .find(|a| !payload_sigs.iter().any(|s| s.address == **a))
    {
        return node_error(format!(
            "missing signature of authorizer {}",
            hex::encode(missing)
        ));
    }
    let proposer_signed = payload_sigs
        .iter()
        .chain(&envelope_sigs)
        .any(|s| s.address == proposer && s.key_index == proposer_key);
    if !proposer_signed {
        return node_error("missing signature of the proposal key");
    }
    if !envelope_sigs.iter().any(|s| s.address == payer) {
        return node_error("missing envelope signature of the payer");
    }
    let Some(envelope_sig_rlp) = encode_sigs(&envelope_sigs) else {
        return node_error("an envelope signature from an account with no role");
    };
    let id = hex::encode(sha3(&rlp_list(vec![
        payload,
        payload_sig_rlp,
        envelope_sig_rlp,
    ])));
    state.sequence_number += 1;
    state.sent.push((id.clone(), body.clone()));
    if let Some(message) = state.fail_next_execution.take() {
        state.failures.push((id.clone(), message));
    }
    // One `Pending` answer first: the client must wait for the seal.
    state.pending_polls.push((id.clone(), 1));
    if std::mem::take(&mut state.lose_next_answer) {
        return (502, json!({"code": 502, "message": "bad gateway"}));
    }
    let mut answer = body.clone();
    answer["id"] = json!(id);
    (200, answer)
}

/// `GET /v1/transaction_results/{id}`.
pub(crate) fn transaction_result(state: &mut FlowState, id: &str) -> Answer {
    if !state.sent.iter().any(|(sent, _)| sent == id) {
        return (
            404,
            json!({"code": 404, "message": "transaction not found"}),
        );
    }
    if let Some((_, left)) = state.pending_polls.iter_mut().find(|(p, _)| p == id) {
        if *left > 0 {
            *left -= 1;
            return (
                200,
                json!({"block_id": SEALED_BLOCK_ID, "status": "Pending", "status_code": 0, "error_message": "", "events": []}),
            );
        }
    }
    let error = state
        .failures
        .iter()
        .find(|(failed, _)| failed == id)
        .map(|(_, message)| message.clone());
    match error {
        Some(message) => (
            200,
            json!({"block_id": SEALED_BLOCK_ID, "status": "Sealed", "status_code": 1, "error_message": message, "execution": "Failure", "events": []}),
        ),
        None => (
            200,
            json!({"block_id": SEALED_BLOCK_ID, "status": "Sealed", "status_code": 0, "error_message": "", "execution": "Success", "events": []}),
        ),
    }
}
