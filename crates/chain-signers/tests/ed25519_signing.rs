//! SOL, EGLD and ADA signing: the SOL and EGLD vectors (outputs of the
//! original SDK) reproduced byte for byte with their recorded node requests;
//! every signature verified by an independent library (solders, PyNaCl,
//! pycardano); offline signing and malformed input answered with errors that
//! say what is wrong.

use kms_core::Network;
use std::sync::Mutex;

use async_trait::async_trait;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use ciborium::Value as Cbor;
use kms_chain_signers::{signer, Mnemonic, Prepared, SignInput, SignedTx, SignerError, Submitted};
use kms_core::{ApiError, ApiRequest, Chain, ChainApi, OfflineApi, PendingTransaction};
use kms_test_support::replay::Replay;
use kms_test_support::vectors::{signing, signing_vector, SigningVector};
use secrecy::SecretString;
use serde_json::{json, Value};

fn pending(chain: &str, serialized: &str) -> PendingTransaction {
    serde_json::from_value(json!({
        "id": "p-1", "chain": chain, "hashes": ["w"], "serializedTransaction": serialized,
    }))
    .unwrap()
}

fn secret(text: &str) -> SecretString {
    SecretString::from(text.to_string())
}

fn input<'a>(pending: &'a PendingTransaction, keys: &'a [SecretString]) -> SignInput<'a> {
    SignInput {
        pending,
        network: Network::Mainnet,
        keys,
        mnemonic: None,
    }
}

/// The cross-check Python, or `None` (the check is then reported skipped).
fn python() -> Option<std::path::PathBuf> {
    let python = kms_test_support::python();
    if python.is_none() {
        eprintln!("*** python missing: this independent cross-check is SKIPPED ***");
    }
    python
}

async fn offline_error(
    chain: Chain,
    pending: &PendingTransaction,
    keys: &[SecretString],
) -> SignerError {
    signer(chain)
        .prepare(&input(pending, keys), &OfflineApi)
        .await
        .unwrap_err()
}

// ---------------------------------------------------------------- SOL

struct SolVector {
    v: SigningVector,
    pending: PendingTransaction,
    keys: Vec<SecretString>,
}

fn sol_vector() -> SolVector {
    let v = signing_vector("sol-mainnet-transfer");
    SolVector {
        pending: v.pending(),
        keys: v.keys(),
        v,
    }
}

#[tokio::test]
async fn sol_vector_is_reproduced_exactly() {
    let SolVector { v, pending, keys } = sol_vector();
    let sol = signer(Chain::SOL);
    let api = Replay::new(v.sdk_requests());
    let input = input(&pending, &keys);
    let prepared = sol.prepare(&input, &api).await.unwrap();
    let signed = sol.sign(&input, &prepared).unwrap();
    assert_eq!(sol.sign(&input, &prepared).unwrap(), signed, "sign is pure");

    let expected = &v["expectedSignedTransaction"];
    assert_eq!(signed.tx_data, v.expected_tx_data());
    assert_eq!(signed.node_submission.as_deref(), expected["data"].as_str());

    // The daemon's submit: sendTransaction, then getTransaction until
    // confirmed; the id is what goes to /v3/solana/broadcast.
    let tx_id = sol.submit(signed, &api).await.unwrap();
    assert_eq!(tx_id, Submitted::TxData(v.expected_tx_data().to_string()));
    assert_eq!(api.asked(), v.recorded_requests());
}

#[tokio::test]
async fn sol_wire_transaction_verifies_with_solders() {
    let Some(python) = python() else { return };
    let SolVector { v, pending, keys } = sol_vector();
    let sol = signer(Chain::SOL);
    let input = input(&pending, &keys);
    let prepared = sol
        .prepare(&input, &Replay::new(v.sdk_requests()))
        .await
        .unwrap();
    let signed = sol.sign(&input, &prepared).unwrap();
    let checked = kms_test_support::run_python(
        &python,
        r#"
import base64, json, sys
from solders.transaction import Transaction
arg = json.load(sys.stdin)
tx = Transaction.from_bytes(base64.b64decode(arg["wire"]))
print(json.dumps({
    "verified": tx.verify_with_results() == [True] * len(tx.signatures),
    "signatures": len(tx.signatures),
    "id": str(tx.signatures[0]),
    "feePayer": str(tx.message.account_keys[0]),
    "blockhash": str(tx.message.recent_blockhash),
    "message": bytes(tx.message).hex(),
}))
"#,
        &json!({"wire": signed.node_submission}),
    );
    let expected = &v["expectedSignedTransaction"];
    assert_eq!(checked["verified"], true, "{checked}");
    assert_eq!(checked["signatures"], 1);
    assert_eq!(checked["id"], signed.tx_data.as_str());
    assert_eq!(checked["feePayer"], v["signingKeys"][0]["address"]);
    assert_eq!(checked["blockhash"], expected["recentBlockhash"]);
    assert_eq!(checked["message"], expected["signedMessageHex"]);
}

#[tokio::test]
async fn sol_offline_names_the_blockhash_request() {
    let SolVector { pending, keys, .. } = sol_vector();
    let err = offline_error(Chain::SOL, &pending, &keys).await;
    assert!(
        matches!(err, SignerError::Api(ApiError::Offline { .. })),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(
        err.contains("offline") && err.contains("getLatestBlockhash"),
        "{err}"
    );
}

#[tokio::test]
async fn sol_malformed_transactions_are_refused_with_a_reason() {
    let SolVector { v, keys, .. } = sol_vector();
    let json_text: Value = serde_json::from_str(
        v["pendingTransaction"]["serializedTransaction"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let message = json_text["txData"].as_str().unwrap();
    let mut cases: Vec<(String, &str)> = vec![
        ("not json".into(), "not a JSON object"),
        ("[]".into(), "not a JSON object"),
        ("{}".into(), "txData is missing"),
        (json!({"txData": "zz"}).to_string(), "not hex"),
        (
            json!({"txData": format!("80{}", &message[2..])}).to_string(),
            "versioned",
        ),
        (
            json!({"txData": format!("{message}00")}).to_string(),
            "bytes after",
        ),
    ];
    // Every truncation of a real message: an error, never a panic.
    for end in (0..message.len()).step_by(2) {
        cases.push((
            json!({"txData": &message[..end]}).to_string(),
            "SOL transaction",
        ));
    }
    for (text, reason) in cases {
        let pending = pending("SOL", &text);
        let err = offline_error(Chain::SOL, &pending, &keys).await;
        assert!(
            matches!(err, SignerError::InvalidTransaction { .. }),
            "{err:?}"
        );
        let err = err.to_string();
        assert!(
            err.contains("invalid SOL transaction") && err.contains(reason),
            "{text}: {err}"
        );
    }
}

#[tokio::test]
async fn sol_bad_keys_and_missing_facts_are_refused_with_a_reason() {
    let SolVector { v, pending, keys } = sol_vector();
    let sol = signer(Chain::SOL);
    let prepared = sol
        .prepare(&input(&pending, &keys), &Replay::new(v.sdk_requests()))
        .await
        .unwrap();

    for (key, reason) in [
        ("0OIl", "not base58"),
        ("3yZe7d", "64-byte"),
        (&"ab".repeat(64)[..], "does not match"),
        (&"zz".repeat(64)[..], "not hexadecimal"),
    ] {
        let keys = [secret(key)];
        let err = sol.sign(&input(&pending, &keys), &prepared).unwrap_err();
        assert!(
            matches!(err, SignerError::InvalidPrivateKey { .. }),
            "{err:?}"
        );
        let err = err.to_string();
        assert!(
            err.contains("invalid SOL private key") && err.contains(reason),
            "{key}: {err}"
        );
    }

    // A key the message does not name: web3.js refused it as an unknown signer.
    let mnemonic = Mnemonic::parse(&signing().mnemonic).unwrap();
    let other = sol
        .mnemonic_wallets()
        .unwrap()
        .account(Network::Mainnet, &mnemonic)
        .unwrap()
        .private_key(5)
        .unwrap();
    let two = [keys[0].clone(), other];
    let err = sol.sign(&input(&pending, &two), &prepared).unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidTransaction { .. }),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(err.contains("unknown signer"), "{err}");

    let err = sol
        .sign(&input(&pending, &keys), &Prepared::default())
        .unwrap_err();
    assert!(matches!(err, SignerError::Network { .. }), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("blockhash"), "{err}");
    let with_mint = pending.clone();
    let with_mint = PendingTransaction {
        serialized_transaction: json!({
            "txData": serde_json::from_str::<Value>(&with_mint.serialized_transaction).unwrap()["txData"],
            "mintPK": "not a key",
        })
        .to_string(),
        ..with_mint
    };
    let err = sol.sign(&input(&with_mint, &keys), &prepared).unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidPrivateKey { .. }),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(err.contains("invalid SOL private key"), "{err}");
}

/// A node that answers by a function of the request.
struct Scripted<F>(F);

#[async_trait]
impl<F> ChainApi for Scripted<F>
where
    F: Fn(&ApiRequest) -> Value + Send + Sync,
{
    async fn call(&self, request: ApiRequest) -> Result<Value, ApiError> {
        Ok((self.0)(&request))
    }
}

#[tokio::test]
async fn sol_submit_reports_a_refused_or_failed_transaction() {
    let sol = signer(Chain::SOL);
    let signed = SignedTx {
        tx_data: "id".into(),
        node_submission: Some("AQ==".into()),
    };
    let refused = Scripted(
        |_: &ApiRequest| json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32002, "message": "Blockhash not found"}}),
    );
    let err = sol.submit(signed.clone(), &refused).await.unwrap_err();
    // The node's JSON-RPC error is an answer the API call could not use.
    assert!(
        matches!(err, SignerError::Api(ApiError::BadAnswer { .. })),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(err.contains("Blockhash not found"), "{err}");

    let failed = Scripted(|r: &ApiRequest| {
        let body = r.body.as_ref().unwrap();
        match body["method"].as_str().unwrap() {
            "sendTransaction" => json!({"jsonrpc": "2.0", "id": 1, "result": "5xTx"}),
            _ => {
                json!({"jsonrpc": "2.0", "id": 1, "result": {"meta": {"err": {"InstructionError": [0, "Custom"]}}}})
            }
        }
    });
    let err = sol.submit(signed, &failed).await.unwrap_err();
    assert!(matches!(err, SignerError::Network { .. }), "{err:?}");
    let err = err.to_string();
    assert!(
        err.contains("5xTx") && err.contains("failed on chain"),
        "{err}"
    );
}

// ---------------------------------------------------------------- EGLD

#[tokio::test]
async fn egld_vector_is_reproduced_exactly() {
    let v = signing_vector("egld-mainnet-transfer");
    let pending: PendingTransaction = v.pending();
    let keys = v.keys();
    let egld = signer(Chain::EGLD);
    let api = Replay::new(v.sdk_requests());
    let input = input(&pending, &keys);
    let prepared = egld.prepare(&input, &api).await.unwrap();
    let signed = egld.sign(&input, &prepared).unwrap();
    assert_eq!(signed, SignedTx::plain(v.expected_tx_data()));
    assert_eq!(
        egld.submit(signed, &api).await.unwrap(),
        Submitted::TxData(v.expected_tx_data().to_string())
    );
    // Replay also matched each request's body (transaction/cost's exactly).
    assert_eq!(api.asked(), v.recorded_requests());
}

/// PyNaCl verifies the signature over the payload CHAINS.md documents,
/// rebuilt in Python from the documented field order, with the public key
/// PyNaCl derives from the private key and the one in `sender`.
#[tokio::test]
async fn egld_signature_verifies_with_pynacl_over_the_documented_payload() {
    let Some(python) = python() else { return };
    let v = signing_vector("egld-mainnet-transfer");
    let checked = kms_test_support::run_python(
        &python,
        r#"
import json, sys
from nacl.signing import SigningKey, VerifyKey
from bip_utils import Bech32Decoder
arg = json.load(sys.stdin)
tx = json.loads(arg["tx"])
order = ["nonce", "value", "receiver", "sender", "gasPrice", "gasLimit", "data", "chainID", "version"]
payload = json.dumps({k: tx[k] for k in order if k in tx}, separators=(",", ":")).encode()
derived = SigningKey(bytes.fromhex(arg["key"])).verify_key
sender = VerifyKey(Bech32Decoder.Decode("erd", tx["sender"]))
sig = bytes.fromhex(tx["signature"])
derived.verify(payload, sig)
sender.verify(payload, sig)
print(json.dumps({"verified": True, "sameKey": bytes(derived) == bytes(sender),
                  "fields": list(tx.keys())}))
"#,
        &json!({"tx": v["expectedTxData"], "key": v["signingKeys"][0]["privateKey"]}),
    );
    assert_eq!(checked["verified"], true);
    assert_eq!(checked["sameKey"], true);
    assert_eq!(
        checked["fields"],
        json!([
            "nonce",
            "value",
            "receiver",
            "sender",
            "gasPrice",
            "gasLimit",
            "chainID",
            "version",
            "signature"
        ])
    );
}

#[tokio::test]
async fn egld_offline_names_the_gateway_request() {
    let v = signing_vector("egld-mainnet-transfer");
    let pending: PendingTransaction = v.pending();
    let keys = v.keys();
    let err = offline_error(Chain::EGLD, &pending, &keys).await;
    assert!(
        matches!(err, SignerError::Api(ApiError::Offline { .. })),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(
        err.contains("offline") && err.contains("/v3/egld/node/{apiKey}/network/config"),
        "{err}"
    );
}

#[tokio::test]
async fn egld_malformed_input_is_refused_with_a_reason() {
    let v = signing_vector("egld-mainnet-transfer");
    let key = v["signingKeys"][0]["privateKey"].as_str().unwrap();
    let to = "erd16zarpflkn858w27m7fdamep8y9slgde0gjxkw530jjczxrkl3vws404458";
    let keys = [secret(key)];
    for (text, reason) in [
        ("not json".to_string(), "not a JSON object"),
        ("{}".to_string(), "to is missing"),
        (
            json!({"to": to, "value": "abc"}).to_string(),
            "not an EGLD amount",
        ),
        (
            json!({"to": to, "value": "0.0000000000000000001"}).to_string(),
            "not an EGLD amount",
        ),
        (
            json!({"to": to, "value": true}).to_string(),
            "decimal string",
        ),
    ] {
        let pending = pending("EGLD", &text);
        let err = offline_error(Chain::EGLD, &pending, &keys).await;
        assert!(
            matches!(err, SignerError::InvalidTransaction { .. }),
            "{err:?}"
        );
        let err = err.to_string();
        assert!(
            err.contains("invalid EGLD transaction") && err.contains(reason),
            "{text}: {err}"
        );
    }

    // Without `from`, the sender is the key's address: a bad key is named
    // before anything is fetched.
    let no_from = pending("EGLD", &json!({"to": to, "value": "1"}).to_string());
    for (bad, reason) in [("zz", "not hexadecimal"), ("abcd", "64 hexadecimal")] {
        let keys = [secret(bad)];
        let err = offline_error(Chain::EGLD, &no_from, &keys).await;
        assert!(
            matches!(err, SignerError::InvalidPrivateKey { .. }),
            "{err:?}"
        );
        let err = err.to_string();
        assert!(
            err.contains("invalid EGLD private key") && err.contains(reason),
            "{err}"
        );
    }
    let err = offline_error(Chain::EGLD, &no_from, &[]).await;
    assert!(matches!(err, SignerError::MissingKey { .. }), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("no private key"), "{err}");

    // Facts fetched for the vector's `from`, signed with another key.
    let pending: PendingTransaction = v.pending();
    let egld = signer(Chain::EGLD);
    let prepared = egld
        .prepare(&input(&pending, &keys), &Replay::new(v.sdk_requests()))
        .await
        .unwrap();
    let other = [secret(&"11".repeat(32))];
    let err = egld.sign(&input(&pending, &other), &prepared).unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidTransaction { .. }),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(err.contains("from is not the address"), "{err}");
    let err = egld
        .sign(&input(&pending, &keys), &Prepared::default())
        .unwrap_err();
    assert!(matches!(err, SignerError::Network { .. }), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("was not fetched"), "{err}");
}

// ---------------------------------------------------------------- ADA

const ROSETTA: &str = "/v3/blockchain/node/ADA/{apiKey}/construction/";

/// A Cardano Rosetta node behind the Tatum gateway: `construction/payloads`
/// answers `unsigned` and asks each of `signers` to sign `payload_hex`.
struct Rosetta {
    unsigned: String,
    payload_hex: String,
    signers: Vec<String>,
    seen: Mutex<Vec<(String, Value)>>,
}

impl Rosetta {
    fn new(unsigned: String, payload_hex: String, signers: Vec<String>) -> Self {
        Rosetta {
            unsigned,
            payload_hex,
            signers,
            seen: Mutex::new(vec![]),
        }
    }
    fn seen(&self) -> Vec<(String, Value)> {
        self.seen.lock().unwrap().clone()
    }
}

#[async_trait]
impl ChainApi for Rosetta {
    async fn call(&self, request: ApiRequest) -> Result<Value, ApiError> {
        let body = request.body.clone().unwrap_or(Value::Null);
        let step = request
            .path
            .strip_prefix(ROSETTA)
            .unwrap_or("?")
            .to_string();
        self.seen.lock().unwrap().push((step.clone(), body));
        Ok(match step.as_str() {
            "preprocess" => json!({"options": {"relative_ttl": 1000, "transaction_size": 300}}),
            "metadata" => json!({
                "metadata": {"ttl": "123456", "protocol_parameters": {}},
                "suggested_fee": [{"value": "170000", "currency": {"symbol": "ADA", "decimals": 6}}]
            }),
            "payloads" => json!({
                "unsigned_transaction": self.unsigned,
                "payloads": self.signers.iter().map(|address| json!({
                    "account_identifier": {"address": address},
                    "hex_bytes": self.payload_hex,
                    "signature_type": "ed25519"
                })).collect::<Vec<_>>(),
            }),
            "combine" => json!({"signed_transaction": "combined"}),
            _ => {
                return Err(ApiError::Transport {
                    path: request.path,
                    message: "not a Rosetta construction step".into(),
                })
            }
        })
    }
}

/// Two inputs at two of the wallet's addresses, a payment and the change.
struct AdaCase {
    keys: Vec<SecretString>,
    /// The addresses of `keys[0]` and `keys[1]`, which spend.
    spenders: [String; 2],
    recipient: String,
    inputs: Vec<(String, u64)>,
    outputs: Vec<(String, u64)>,
    operations: Value,
}

fn ada_case() -> AdaCase {
    let ada = signer(Chain::ADA);
    let mnemonic = Mnemonic::parse(&signing().mnemonic).unwrap();
    let account = ada
        .mnemonic_wallets()
        .unwrap()
        .account(Network::Mainnet, &mnemonic)
        .unwrap();
    let spenders = [account.address(3).unwrap(), account.address(4).unwrap()];
    let recipient = account.address(7).unwrap();
    let inputs = vec![("ab".repeat(32), 0), ("cd".repeat(32), 1)];
    let outputs = vec![
        (recipient.clone(), 1_500_000),
        (spenders[0].clone(), 3_330_000),
    ];
    let mut operations = Vec::new();
    for ((hash, index), (address, value)) in inputs
        .iter()
        .zip([(&spenders[0], 2_000_000), (&spenders[1], 3_000_000)])
    {
        operations.push(json!({
            "operation_identifier": {"index": operations.len(), "network_index": index},
            "related_operations": [], "type": "input", "status": "success",
            "account": {"address": address, "metadata": {}},
            "amount": {"value": format!("-{value}"), "currency": {"symbol": "ADA", "decimals": 6}},
            "coin_change": {"coin_identifier": {"identifier": format!("{hash}:{index}")}, "coin_action": "coin_created"},
            "metadata": {}
        }));
    }
    for (address, value) in &outputs {
        operations.push(json!({
            "operation_identifier": {"index": operations.len(), "network_index": operations.len() - 2},
            "related_operations": [], "type": "output", "status": "success",
            "account": {"address": address, "metadata": {}},
            "amount": {"value": value.to_string(), "currency": {"symbol": "ADA", "decimals": 6}, "metadata": {}},
            "metadata": {}
        }));
    }
    AdaCase {
        // A key that spends nothing is stored too: the right ones must be chosen.
        keys: vec![
            account.private_key(3).unwrap(),
            account.private_key(4).unwrap(),
            account.private_key(9).unwrap(),
        ],
        spenders,
        recipient,
        inputs,
        outputs,
        operations: Value::Array(operations),
    }
}

fn address_bytes(address: &str) -> Vec<u8> {
    bech32::decode(address).unwrap().1
}

fn int(n: u64) -> Cbor {
    Cbor::Integer(n.into())
}

/// A Shelley transaction body {0: inputs, 1: outputs, 2: fee, 3: ttl, extra…}.
fn body(inputs: &[(String, u64)], outputs: &[(String, u64)], extra: Vec<(Cbor, Cbor)>) -> Vec<u8> {
    let outputs = outputs
        .iter()
        .map(|(a, v)| Cbor::Array(vec![Cbor::Bytes(address_bytes(a)), int(*v)]))
        .collect();
    body_of(inputs, outputs, extra)
}

fn body_of(inputs: &[(String, u64)], outputs: Vec<Cbor>, extra: Vec<(Cbor, Cbor)>) -> Vec<u8> {
    let inputs = inputs
        .iter()
        .map(|(h, i)| Cbor::Array(vec![Cbor::Bytes(hex::decode(h).unwrap()), int(*i)]))
        .collect();
    let mut fields = vec![
        (int(0), Cbor::Array(inputs)),
        (int(1), Cbor::Array(outputs)),
        (int(2), int(170_000)),
        (int(3), int(123_456)),
    ];
    fields.extend(extra);
    let mut out = Vec::new();
    ciborium::into_writer(&Cbor::Map(fields), &mut out).unwrap();
    out
}

/// cardano-rosetta's `unsigned_transaction`: CBOR [body hex, extra data], hex.
fn unsigned(body: &[u8]) -> String {
    let outer = Cbor::Array(vec![
        Cbor::Text(hex::encode(body)),
        Cbor::Map(vec![(Cbor::Text("operations".into()), Cbor::Array(vec![]))]),
    ]);
    let mut out = Vec::new();
    ciborium::into_writer(&outer, &mut out).unwrap();
    hex::encode(out)
}

fn blake2b256(bytes: &[u8]) -> String {
    hex::encode(Blake2b::<U32>::digest(bytes))
}

/// The whole daemon path against `node`: prepare, sign, submit.
async fn ada_sign(case: &AdaCase, node: &Rosetta) -> Result<String, SignerError> {
    let ada = signer(Chain::ADA);
    let pending = pending("ADA", &case.operations.to_string());
    let input = input(&pending, &case.keys);
    let prepared = ada.prepare(&input, node).await?;
    let signed = ada.sign(&input, &prepared)?;
    match ada.submit(signed, node).await? {
        Submitted::TxData(tx_data) => Ok(tx_data),
        other => panic!("ADA goes to the broadcast endpoint, not {other:?}"),
    }
}

/// pycardano builds the transaction body from the operations (its own CBOR
/// encoder, its own hash); the KMS signs the hash the node asks for; then
/// pycardano reads the node's unsigned transaction, assembles the signed
/// transaction with our witnesses, and every witness's signature is verified
/// (PyNaCl) over the body hash with a key whose hash is the payment part of
/// the address it signs for.
#[tokio::test]
async fn ada_witnesses_verify_with_pycardano() {
    let Some(python) = python() else { return };
    let case = ada_case();
    let built = kms_test_support::run_python(
        &python,
        r#"
import json, sys
from pycardano import Address, TransactionBody, TransactionId, TransactionInput, TransactionOutput
arg = json.load(sys.stdin)
def body(outputs):
    return TransactionBody(
        inputs=[TransactionInput(TransactionId(bytes.fromhex(h)), i) for h, i in arg["inputs"]],
        outputs=[TransactionOutput(Address.from_primitive(a), v) for a, v in outputs],
        fee=170000, ttl=123456)
good = body(arg["outputs"])
# The same transaction paying the recipient one lovelace more.
bumped = body([[a, v + 1] if i == 0 else [a, v] for i, (a, v) in enumerate(arg["outputs"])])
print(json.dumps({"body": good.to_cbor_hex(), "hash": good.hash().hex(),
                  "bumpedBody": bumped.to_cbor_hex(), "bumpedHash": bumped.hash().hex()}))
"#,
        &json!({"inputs": case.inputs, "outputs": case.outputs}),
    );
    let body_hex = built["body"].as_str().unwrap();
    let hash = built["hash"].as_str().unwrap();
    let node = Rosetta::new(
        unsigned(&hex::decode(body_hex).unwrap()),
        hash.to_string(),
        case.spenders.to_vec(),
    );
    assert_eq!(ada_sign(&case, &node).await.unwrap(), "combined");
    let combine = &node.seen()[3].1;
    let signatures = combine["signatures"].as_array().unwrap();
    assert_eq!(signatures.len(), 2);

    let checked = kms_test_support::run_python(
        &python,
        r#"
import json, sys, cbor2
from nacl.signing import VerifyKey
from pycardano import (Address, PaymentVerificationKey, Transaction, TransactionBody,
                       TransactionWitnessSet, VerificationKeyWitness)
arg = json.load(sys.stdin)
body_hex, _extra = cbor2.loads(bytes.fromhex(arg["unsigned"]))
body = TransactionBody.from_cbor(body_hex)
witnesses, checks = [], []
for s in arg["signatures"]:
    vkey = PaymentVerificationKey.from_primitive(bytes.fromhex(s["public_key"]["hex_bytes"]))
    sig = bytes.fromhex(s["hex_bytes"])
    VerifyKey(vkey.payload).verify(body.hash(), sig)
    payment = Address.from_primitive(s["signing_payload"]["account_identifier"]["address"]).payment_part
    checks.append({"address": str(Address.from_primitive(s["signing_payload"]["account_identifier"]["address"])),
                   "keyHashMatches": payment == vkey.hash(),
                   "signedBodyHash": bytes.fromhex(s["signing_payload"]["hex_bytes"]) == body.hash()})
    witnesses.append(VerificationKeyWitness(vkey, sig))
tx = Transaction(body, TransactionWitnessSet(vkey_witnesses=witnesses))
again = Transaction.from_cbor(tx.to_cbor_hex())
print(json.dumps({"checks": checks, "txId": str(again.id),
                  "outputs": [[str(o.address), getattr(o.amount, "coin", o.amount)]
                            for o in again.transaction_body.outputs]}))
"#,
        &json!({"unsigned": node.unsigned, "signatures": signatures}),
    );
    assert_eq!(
        checked["checks"],
        json!([
            {"address": case.spenders[0], "keyHashMatches": true, "signedBodyHash": true},
            {"address": case.spenders[1], "keyHashMatches": true, "signedBodyHash": true},
        ])
    );
    assert_eq!(checked["txId"], hash);
    assert_eq!(checked["outputs"], json!(case.outputs));

    // pycardano's body paying one lovelace more than the operations say:
    // the node's payload is its true hash, and it is still refused.
    let bumped = Rosetta::new(
        unsigned(&hex::decode(built["bumpedBody"].as_str().unwrap()).unwrap()),
        built["bumpedHash"].as_str().unwrap().to_string(),
        case.spenders.to_vec(),
    );
    let err = ada_sign(&case, &bumped).await.unwrap_err();
    assert!(matches!(err, SignerError::Network { .. }), "{err:?}");
    let err = err.to_string();
    assert!(
        err.contains(&format!("pays 1500001 lovelace to {}", case.recipient)),
        "{err}"
    );
    assert!(!bumped.seen().iter().any(|(s, _)| s == "combine"));
}

#[tokio::test]
async fn ada_signs_a_body_that_matches_its_operations() {
    let case = ada_case();
    let body = body(&case.inputs, &case.outputs, vec![]);
    let node = Rosetta::new(unsigned(&body), blake2b256(&body), case.spenders.to_vec());
    assert_eq!(ada_sign(&case, &node).await.unwrap(), "combined");
    // The original SDK's Rosetta requests, in its order.
    let seen = node.seen();
    let steps: Vec<&str> = seen.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(steps, ["preprocess", "metadata", "payloads", "combine"]);
    let network = json!({"blockchain": "cardano", "network": "mainnet"});
    assert_eq!(
        seen[0].1,
        json!({"network_identifier": network, "operations": case.operations, "metadata": {"relative_ttl": 1000}})
    );
    assert_eq!(seen[1].1["options"]["relative_ttl"], 1000);
    assert_eq!(seen[2].1["operations"], case.operations);
    assert_eq!(seen[2].1["suggested_fee"][0]["value"], "170000");
    let combine = &seen[3].1;
    assert_eq!(
        combine["unsigned_transaction"].as_str(),
        Some(node.unsigned.as_str())
    );
    // Each signature is an ed25519 signature of the body hash by the key the
    // payload's address pays.
    assert_eq!(combine["signatures"].as_array().unwrap().len(), 2);
    for (signature, spender) in combine["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&case.spenders)
    {
        assert_eq!(
            signature["signing_payload"]["account_identifier"]["address"],
            spender.as_str()
        );
        let public: [u8; 32] = hex::decode(signature["public_key"]["hex_bytes"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let sig: [u8; 64] = hex::decode(signature["hex_bytes"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let key_hash = Blake2b::<blake2::digest::consts::U28>::digest(public);
        assert_eq!(key_hash[..], address_bytes(spender)[1..29]);
        ed25519_dalek::VerifyingKey::from_bytes(&public)
            .unwrap()
            .verify_strict(
                &Blake2b::<U32>::digest(&body),
                &ed25519_dalek::Signature::from_bytes(&sig),
            )
            .unwrap();
    }
}

#[tokio::test]
async fn ada_refuses_what_the_operations_do_not_say() {
    let case = ada_case();
    let good = body(&case.inputs, &case.outputs, vec![]);
    let other_input = [case.inputs[0].clone(), ("ef".repeat(32), 2)];
    let mut paid_twice = case.outputs.clone();
    paid_twice.push(case.outputs[0].clone());
    let with = |key: u64, value: Cbor| body(&case.inputs, &case.outputs, vec![(int(key), value)]);
    // The outputs in Babbage's map form, {0: address, 1: amount, extra…}.
    let babbage = |extra: Option<(Cbor, Cbor)>| -> Vec<Cbor> {
        let map = |(a, v): &(String, u64)| {
            let mut fields = vec![(int(0), Cbor::Bytes(address_bytes(a))), (int(1), int(*v))];
            fields.extend(extra.clone());
            Cbor::Map(fields)
        };
        case.outputs.iter().map(map).collect()
    };
    let datum = (int(2), Cbor::Array(vec![int(0), Cbor::Bytes(vec![0; 32])]));
    let mut with_tokens = babbage(None);
    let token = Cbor::Map(vec![(Cbor::Bytes(b"T".to_vec()), int(1))]);
    with_tokens[0] = Cbor::Array(vec![
        Cbor::Bytes(address_bytes(&case.outputs[0].0)),
        Cbor::Array(vec![
            int(case.outputs[0].1),
            Cbor::Map(vec![(Cbor::Bytes(vec![7; 28]), token)]),
        ]),
    ]);
    /// What the node answers: a body (wrapped as Rosetta does) or raw text.
    enum Built {
        Body(Vec<u8>),
        Raw(&'static str),
    }
    use Built::{Body, Raw};
    let cases: Vec<(&str, Built, String)> = vec![
        (
            "an input the operations do not spend",
            Body(body(&other_input, &case.outputs, vec![])),
            format!(
                "it spends {}:2, which the operations do not",
                "ef".repeat(32)
            ),
        ),
        (
            "an input left out",
            Body(body(&case.inputs[..1], &case.outputs, vec![])),
            format!(
                "the operations spend {}:1, which it does not",
                "cd".repeat(32)
            ),
        ),
        (
            "an output left out",
            Body(body(&case.inputs, &case.outputs[..1], vec![])),
            format!(
                "the operations pay 3330000 lovelace to {}",
                case.spenders[0]
            ),
        ),
        (
            "a payment made twice",
            Body(body(&case.inputs, &paid_twice, vec![])),
            format!(
                "it pays 1500000 lovelace to {}, which the operations do not (or not as often)",
                case.recipient
            ),
        ),
        (
            "reward withdrawals",
            Body(with(5, Cbor::Map(vec![]))),
            "reward withdrawals (body field 5)".into(),
        ),
        (
            "certificates",
            Body(with(4, Cbor::Array(vec![]))),
            "certificates (body field 4)".into(),
        ),
        (
            "minting",
            Body(with(9, Cbor::Map(vec![]))),
            "minting (body field 9)".into(),
        ),
        (
            "an output with a datum",
            Body(body_of(&case.inputs, babbage(Some(datum)), vec![])),
            "carries more than an address and an amount".into(),
        ),
        (
            "native tokens",
            Body(body_of(&case.inputs, with_tokens, vec![])),
            "pays native tokens".into(),
        ),
        (
            "not hex",
            Raw("zz"),
            "unsigned_transaction is not hex".into(),
        ),
        (
            "not CBOR",
            Raw("ff"),
            "unsigned_transaction is not CBOR".into(),
        ),
        (
            "not Rosetta's pair",
            Raw("a0"),
            "not Rosetta's [transaction body, extra data]".into(),
        ),
    ];
    for (what, built, reason) in cases {
        // The node's payload is the true hash of what it built.
        let (unsigned_tx, payload) = match built {
            Body(body) => (unsigned(&body), blake2b256(&body)),
            Raw(raw) => (raw.to_string(), blake2b256(&good)),
        };
        let node = Rosetta::new(unsigned_tx, payload, case.spenders.to_vec());
        let err = ada_sign(&case, &node).await.unwrap_err();
        assert!(matches!(err, SignerError::Network { .. }), "{err:?}");
        let err = err.to_string();
        assert!(err.contains(&reason), "{what}: {err}");
        assert!(
            !node.seen().iter().any(|(s, _)| s == "combine"),
            "{what}: combined"
        );
    }

    // No payload at all: nothing to sign is not a success.
    let node = Rosetta::new(unsigned(&good), blake2b256(&good), vec![]);
    let err = ada_sign(&case, &node).await.unwrap_err();
    assert!(matches!(err, SignerError::Network { .. }), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("no signing payloads"), "{err}");

    // A payload that is not the hash of the body the node built.
    let node = Rosetta::new(unsigned(&good), "5a".repeat(32), case.spenders.to_vec());
    let err = ada_sign(&case, &node).await.unwrap_err();
    assert!(matches!(err, SignerError::Network { .. }), "{err:?}");
    let err = err.to_string();
    assert!(
        err.contains("which is not the hash of the transaction it built"),
        "{err}"
    );

    // Babbage's map outputs say the same.
    let mapped = body_of(&case.inputs, babbage(None), vec![]);
    let node = Rosetta::new(
        unsigned(&mapped),
        blake2b256(&mapped),
        case.spenders.to_vec(),
    );
    assert_eq!(ada_sign(&case, &node).await.unwrap(), "combined");

    // Conway's tag-258 set of inputs is the same body.
    let mut tagged = Vec::new();
    let value: Cbor = ciborium::from_reader(good.as_slice()).unwrap();
    let Cbor::Map(mut fields) = value else {
        unreachable!()
    };
    fields[0].1 = Cbor::Tag(258, Box::new(fields[0].1.clone()));
    ciborium::into_writer(&Cbor::Map(fields), &mut tagged).unwrap();
    let node = Rosetta::new(
        unsigned(&tagged),
        blake2b256(&tagged),
        case.spenders.to_vec(),
    );
    assert_eq!(ada_sign(&case, &node).await.unwrap(), "combined");
}

#[tokio::test]
async fn ada_refuses_a_payload_for_an_address_it_holds_no_key_of() {
    let mut case = ada_case();
    case.keys.remove(1);
    let body = body(&case.inputs, &case.outputs, vec![]);
    let node = Rosetta::new(unsigned(&body), blake2b256(&body), case.spenders.to_vec());
    let err = ada_sign(&case, &node).await.unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidTransaction { .. }),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(
        err.contains(&case.spenders[1]) && err.contains("whose key is not among the wallets"),
        "{err}"
    );
}

#[tokio::test]
async fn ada_offline_names_the_rosetta_request() {
    let case = ada_case();
    let pending = pending("ADA", &case.operations.to_string());
    let err = offline_error(Chain::ADA, &pending, &case.keys).await;
    assert!(
        matches!(err, SignerError::Api(ApiError::Offline { .. })),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(
        err.contains("offline")
            && err.contains("/v3/blockchain/node/ADA/{apiKey}/construction/preprocess"),
        "{err}"
    );
}

#[tokio::test]
async fn ada_malformed_input_is_refused_with_a_reason() {
    let case = ada_case();
    let output = |address: &str, value: &str| {
        json!([case.operations[0], {"type": "output", "account": {"address": address}, "amount": {"value": value}}])
            .to_string()
    };
    for (text, reason) in [
        ("not json".to_string(), "not JSON"),
        ("{}".to_string(), "list of Rosetta operations"),
        ("[]".to_string(), "list of Rosetta operations"),
        (
            json!([{"type": "fee"}]).to_string(),
            "type 'fee' is not supported",
        ),
        (json!([{"type": "input"}]).to_string(), "coin_identifier"),
        (
            json!([{"type": "input", "coin_change": {"coin_identifier": {"identifier": "abc:0"}}}])
                .to_string(),
            "<transaction hash>:<index>",
        ),
        (
            json!([case.operations[0]]).to_string(),
            "at least one input and one output",
        ),
        (output(&case.recipient, "-5"), "whole lovelace"),
        (output("0OIl", "5"), "not a Cardano address"),
    ] {
        let pending = pending("ADA", &text);
        let err = offline_error(Chain::ADA, &pending, &case.keys).await;
        assert!(
            matches!(err, SignerError::InvalidTransaction { .. }),
            "{err:?}"
        );
        let err = err.to_string();
        assert!(
            err.contains("invalid ADA transaction") && err.contains(reason),
            "{text}: {err}"
        );
    }

    let body = body(&case.inputs, &case.outputs, vec![]);
    let node = Rosetta::new(unsigned(&body), blake2b256(&body), case.spenders.to_vec());
    for (bad, reason) in [
        ("zz", "not hexadecimal"),
        (&"ab".repeat(32)[..], "expected 128 bytes"),
    ] {
        let case = AdaCase {
            keys: vec![secret(bad)],
            ..ada_case()
        };
        let err = ada_sign(&case, &node).await.unwrap_err();
        assert!(
            matches!(err, SignerError::InvalidPrivateKey { .. }),
            "{err:?}"
        );
        let err = err.to_string();
        assert!(
            err.contains("invalid ADA private key") && err.contains(reason),
            "{err}"
        );
    }
    let pending = pending("ADA", &case.operations.to_string());
    let err = signer(Chain::ADA)
        .sign(&input(&pending, &case.keys), &Prepared::default())
        .unwrap_err();
    assert!(matches!(err, SignerError::Network { .. }), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("no unsigned transaction was fetched"), "{err}");
}
