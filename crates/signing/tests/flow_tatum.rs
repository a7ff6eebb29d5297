//! FLOW as the Tatum API sends it (`{"type", "body"}`), through the signing
//! pipeline (prepare, intent, sign, digest, submit) and the real HTTP
//! client, against the fake Tatum API and its fake Flow access node. The
//! fake node accepts a transaction only if every signature verifies (k256,
//! its own RLP); each accepted transaction is checked again in Python
//! (`rlp`, `ecdsa`). Every request the KMS made is checked: paths, bodies,
//! order.

use kms_chain_signers::{signer, ApiError, Fate, SignerError};
use kms_core::{Chain, Network, PendingTransaction, WalletEntry};
use kms_fake_tatum::{
    flow_tatum_public_keys, FakeTatum, Fault, Seen, FLOW_PAYER_KEY_INDEX, FLOW_PROPOSAL_KEY_INDEX,
    FLOW_SEALED_BLOCK_ID, TATUM_FLOW_ADDRESS,
};
use kms_signing::{pipeline, KeySelector, Scope, SignError, Submitted};
use kms_tatum_client::{ClientConfig, RetryPolicy, TatumClient};
use kms_vault::Wallets;
use secrecy::SecretString;
use serde_json::{json, Value};

const API_KEY: &str = "flow-test-api-key";
/// The wallet's key (unpadded hex, as FLOW wallets store it) and account.
const USER_KEY: &str = "5f2b0d4e4a1c7c16a23f0c2b7f0f7d6a9a0e4e3b1f6d2c8a7b5e4d3c2b1a0f9e";
const USER: &str = "0xf8d6e0586b0a20c7";
const RECIPIENT: &str = "0x01cf0e2f2f715450";
const WALLET: &str = "flow-wallet-1";

fn user_public_key() -> String {
    signer(Chain::FLOW)
        .address_from_private_key(Network::Testnet, &SecretString::from(USER_KEY))
        .unwrap()
}

fn client(fake: &FakeTatum) -> TatumClient {
    let mut config = ClientConfig::new(fake.url.clone(), SecretString::from(API_KEY));
    config.flow_access_node_url = fake.url.clone();
    config.retry = RetryPolicy {
        attempts: 1,
        ..RetryPolicy::default()
    };
    TatumClient::new(config).unwrap()
}

fn setup() -> (FakeTatum, Wallets) {
    let fake = FakeTatum::start(API_KEY);
    fake.flow_add_account(USER, &user_public_key());
    let mut wallets = Wallets::default();
    wallets.insert_first(
        WALLET.into(),
        WalletEntry::stored(
            WalletEntry::new().with("privateKey", USER_KEY),
            Chain::FLOW,
            Network::Testnet,
        ),
    );
    (fake, wallets)
}

fn pending(id: &str, request: Value) -> PendingTransaction {
    serde_json::from_value(json!({
        "id": id,
        "chain": "FLOW",
        "hashes": [WALLET],
        "serializedTransaction": request.to_string(),
    }))
    .unwrap()
}

fn b64_json(text: &str) -> Value {
    use base64::Engine;
    serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap(),
    )
    .unwrap()
}

fn b64_text(text: &str) -> String {
    use base64::Engine;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap(),
    )
    .unwrap()
}

/// Rebuilds the payload and envelope of a REST transaction with the `rlp`
/// package and verifies every signature with `ecdsa` over SHA3-256 of the
/// domain-tagged message, with the key the test says each (address, key
/// index) holds. Prints one verdict per signature.
const VERIFY_ALL: &str = r#"
import base64, hashlib, json, sys, rlp
from ecdsa import VerifyingKey, SECP256k1, BadSignatureError
from ecdsa.util import sigdecode_string
d = json.load(sys.stdin)
tx = d["tx"]
addr = lambda a: bytes.fromhex(a.removeprefix("0x").rjust(16, "0"))
b64 = base64.b64decode
payload = [
    b64(tx["script"]),
    [b64(a) for a in tx["arguments"]],
    bytes.fromhex(tx["reference_block_id"]),
    int(tx["gas_limit"]),
    addr(tx["proposal_key"]["address"]),
    int(tx["proposal_key"]["key_index"]),
    int(tx["proposal_key"]["sequence_number"]),
    addr(tx["payer"]),
    [addr(a) for a in tx["authorizers"]],
]
signers = []
for a in [tx["proposal_key"]["address"], tx["payer"]] + tx["authorizers"]:
    if addr(a) not in signers:
        signers.append(addr(a))
payload_sigs = [
    [signers.index(addr(s["address"])), int(s["key_index"]), b64(s["signature"])]
    for s in tx["payload_signatures"]
]
envelope = [payload, payload_sigs]
tag = b"FLOW-V0.0-transaction".ljust(32, b"\0")
keys = {(addr(k["address"]), int(k["key_index"])): k["public_key"] for k in d["keys"]}
def verified(message, s):
    key = keys.get((addr(s["address"]), int(s["key_index"])))
    if key is None:
        return False
    vk = VerifyingKey.from_string(bytes.fromhex(key), curve=SECP256k1)
    try:
        return vk.verify_digest(b64(s["signature"]), hashlib.sha3_256(tag + rlp.encode(message)).digest(), sigdecode=sigdecode_string)
    except BadSignatureError:
        return False
envelope_sigs = [
    [signers.index(addr(s["address"])), int(s["key_index"]), b64(s["signature"])]
    for s in tx["envelope_signatures"]
]
print(json.dumps({
    "payload": [verified(payload, s) for s in tx["payload_signatures"]],
    "envelope": [verified(envelope, s) for s in tx["envelope_signatures"]],
    "id": hashlib.sha3_256(rlp.encode([payload, payload_sigs, envelope_sigs])).hexdigest(),
}))
"#;

fn python_verifies(tx: &Value, id: &str) {
    let Some(python) = kms_test_support::python() else {
        eprintln!("SKIPPED: the Python cross-check of FLOW signatures (no venv)");
        return;
    };
    let (proposal, payer) = flow_tatum_public_keys();
    let keys = json!([
        {"address": USER, "key_index": 0, "public_key": user_public_key()},
        {"address": TATUM_FLOW_ADDRESS, "key_index": FLOW_PROPOSAL_KEY_INDEX, "public_key": proposal},
        {"address": TATUM_FLOW_ADDRESS, "key_index": FLOW_PAYER_KEY_INDEX, "public_key": payer},
    ]);
    let verdict =
        kms_test_support::run_python(&python, VERIFY_ALL, &json!({"tx": tx, "keys": keys}));
    // The user's and Tatum's proposal key sign the payload, the payer the
    // envelope; every signature verifies; the id is the transaction's.
    assert_eq!(
        verdict,
        json!({"payload": [true, true], "envelope": [true], "id": id}),
        "{tx}"
    );
}

/// What one transaction did at the fake: its requests (in order), what the
/// access node accepted.
struct Outcome {
    submitted: Result<Submitted, SignError>,
    intent: kms_core::Intent,
    digest: String,
    tx_data: Value,
    requests: Vec<Seen>,
}

async fn run(fake: &FakeTatum, wallets: &Wallets, tx: &PendingTransaction) -> Outcome {
    let api = client(fake);
    let scope = Scope::new(Chain::FLOW, Network::Testnet, [WALLET.into()]);
    let mut keys = KeySelector::new();
    let prepared = pipeline::prepare(&mut keys, wallets, &scope, tx, &api)
        .await
        .unwrap();
    let intent = prepared.intent().unwrap();
    let signed = prepared.sign().unwrap();
    let digest = pipeline::digest(&signed);
    let tx_data: Value = serde_json::from_str(&signed.tx_data).unwrap();
    let submitted = pipeline::submit(tx, signed, &api).await;
    Outcome {
        submitted,
        intent,
        digest,
        tx_data,
        requests: fake.seen(),
    }
}

fn route(seen: &Seen) -> String {
    format!("{} {}", seen.method, seen.path)
}

/// Checks everything common to a transaction that went through: the
/// requests in fcl's order with their bodies, the transaction the node
/// accepted (wallet as authorizer with key 0, Tatum's keys as proposer and
/// payer, the sealed block, gas 9999), the release and the report.
fn check_went_through(fake: &FakeTatum, tx: &PendingTransaction, outcome: &Outcome) -> Value {
    let Ok(Submitted::Broadcast { tx_id }) = &outcome.submitted else {
        panic!("not broadcast: {:?}", outcome.submitted);
    };
    let sent = fake.flow_sent();
    let (id, body) = sent.last().unwrap();
    assert_eq!(tx_id, id);
    let tatum = TATUM_FLOW_ADDRESS.trim_start_matches("0x");
    let user = USER.trim_start_matches("0x");
    assert_eq!(body["proposal_key"]["address"], tatum);
    assert_eq!(
        body["proposal_key"]["key_index"],
        FLOW_PROPOSAL_KEY_INDEX.to_string()
    );
    assert_eq!(body["payer"], tatum);
    assert_eq!(body["authorizers"], json!([user]));
    assert_eq!(body["reference_block_id"], FLOW_SEALED_BLOCK_ID);
    assert_eq!(body["gas_limit"], "9999");
    // What the wallet signed is what was sent, plus Tatum's signatures.
    let signed_tx = &outcome.tx_data["transaction"];
    for field in [
        "script",
        "arguments",
        "reference_block_id",
        "proposal_key",
        "payer",
        "authorizers",
    ] {
        assert_eq!(signed_tx[field], body[field], "{field}");
    }
    assert_eq!(outcome.tx_data["signatureId"], tx.id.as_str());
    assert_eq!(outcome.tx_data["payerKeyIndex"], FLOW_PAYER_KEY_INDEX);
    python_verifies(body, id);

    let sequence = body["proposal_key"]["sequence_number"].as_str().unwrap();
    let routes: Vec<String> = outcome.requests.iter().map(route).collect();
    assert_eq!(
        routes,
        [
            "GET /v3/flow/proposal/false".to_string(),
            "GET /v3/flow/proposal/true".into(),
            "GET /v1/blocks?height=sealed".into(),
            format!("GET /v1/accounts/{tatum}?expand=keys"),
            "POST /v3/flow/sign".into(),
            "POST /v3/flow/sign".into(),
            "POST /v1/transactions".into(),
            format!("GET /v1/transaction_results/{tx_id}"),
            format!("GET /v1/transaction_results/{tx_id}"),
            "POST /v3/flow/broadcast".into(),
            "POST /v3/flow/broadcast".into(),
        ]
    );
    let r = &outcome.requests;
    assert_eq!(r[4].body["isPayer"], false);
    assert_eq!(r[5].body["isPayer"], true);
    assert_eq!(r[6].body, body.clone().tap_remove_id());
    // The proposal key is released with the transaction id, then the
    // pending transaction is completed with it.
    assert_eq!(
        r[9].body,
        json!({"txData": tx_id, "proposalKey": FLOW_PROPOSAL_KEY_INDEX})
    );
    assert_eq!(r[10].body, json!({"txData": tx_id, "signatureId": tx.id}));
    // Tatum signed the payload the wallet signed, then the envelope.
    let signed = fake.flow_tatum_signed();
    assert_eq!(signed.len(), 2);
    assert!(signed[0]
        .1
        .starts_with("464c4f572d56302e302d7472616e73616374696f6e0000000000000000000000"));
    assert_eq!(outcome.intent.nonce.as_deref(), Some(sequence));
    assert_eq!(
        outcome.intent.senders,
        [USER.to_string(), TATUM_FLOW_ADDRESS.to_string()]
    );
    assert!(outcome.digest.starts_with("sha256:"));
    body.clone()
}

trait RemoveId {
    fn tap_remove_id(self) -> Value;
}

impl RemoveId for Value {
    /// The node's answer is the body with its `id`; the request had none.
    fn tap_remove_id(mut self) -> Value {
        self.as_object_mut().unwrap().remove("id");
        self
    }
}

fn arguments(body: &Value) -> Vec<Value> {
    body["arguments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| b64_json(a.as_str().unwrap()))
        .collect()
}

#[tokio::test]
async fn a_flow_transfer_is_built_co_signed_sent_and_reported() {
    let (fake, wallets) = setup();
    let tx = pending(
        "7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f01",
        json!({"type": 2, "body": {"account": USER, "to": RECIPIENT, "amount": "1.5", "currency": "FLOW"}}),
    );
    let before = fake.flow_sequence_number();
    let outcome = run(&fake, &wallets, &tx).await;
    let body = check_went_through(&fake, &tx, &outcome);
    assert_eq!(body["proposal_key"]["sequence_number"], before.to_string());
    let script = b64_text(body["script"].as_str().unwrap());
    // Testnet contracts, Cadence 1.0.
    assert!(
        script.contains("import FlowToken from 0x7e60df042a9c0868"),
        "{script}"
    );
    assert!(script.contains("signer.storage.borrow<auth(FungibleToken.Withdraw) &FlowToken.Vault>"));
    assert_eq!(
        arguments(&body),
        [
            json!({"type": "UFix64", "value": "1.50000000"}),
            json!({"type": "Address", "value": RECIPIENT}),
        ]
    );
    // The intent claims the transfer.
    assert_eq!(
        serde_json::to_value(&outcome.intent.transfers).unwrap(),
        json!([{"to": RECIPIENT, "amount": "1.50000000", "asset": "FLOW"}])
    );
    assert!(fake.still_pending().is_empty());
}

#[tokio::test]
async fn every_type_goes_through() {
    let public = user_public_key();
    let cases = [
        (
            json!({"type": 0, "body": {"account": USER, "publicKey": public}}),
            "Account(payer: signer)",
            vec![json!({"type": "String", "value": public})],
        ),
        (
            json!({"type": 1, "body": {"account": USER, "publicKey": public}}),
            "signer.keys.add(",
            vec![
                json!({"type": "String", "value": public}),
                json!({"type": "UFix64", "value": "0.00000000"}),
            ],
        ),
        (
            json!({"type": 2, "body": {"account": USER, "to": RECIPIENT, "amount": "0.001", "currency": "FUSD"}}),
            "import FUSD from 0xe223d8a629e49c68",
            vec![
                json!({"type": "UFix64", "value": "0.00100000"}),
                json!({"type": "Address", "value": RECIPIENT}),
            ],
        ),
        (
            json!({"type": 4, "body": {"account": USER, "to": RECIPIENT, "url": "ipfs://x", "contractAddress": "2b8e1a6c-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "chain": "FLOW"}}),
            "self.minter.mintNFT(recipient: receiver, type: type, url: url, address: recipient)",
            vec![
                json!({"type": "Address", "value": RECIPIENT}),
                json!({"type": "String", "value": "ipfs://x"}),
                json!({"type": "String", "value": "2b8e1a6c-3c4d-4e5f-8a9b-0c1d2e3f4a5b"}),
            ],
        ),
        (
            json!({"type": 5, "body": {"account": USER, "to": [RECIPIENT, USER], "url": ["ipfs://a", "ipfs://b"], "contractAddress": "2b8e1a6c-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "chain": "FLOW"}}),
            "while a < url.length",
            vec![
                json!({"type": "Array", "value": [{"type": "Address", "value": RECIPIENT}, {"type": "Address", "value": USER}]}),
                json!({"type": "Array", "value": [{"type": "String", "value": "ipfs://a"}, {"type": "String", "value": "ipfs://b"}]}),
                json!({"type": "String", "value": "2b8e1a6c-3c4d-4e5f-8a9b-0c1d2e3f4a5b"}),
            ],
        ),
        (
            json!({"type": 6, "body": {"account": USER, "tokenId": "42", "contractAddress": "2b8e1a6c-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "chain": "FLOW"}}),
            "destroy nft",
            vec![
                json!({"type": "UInt64", "value": "42"}),
                json!({"type": "String", "value": "2b8e1a6c-3c4d-4e5f-8a9b-0c1d2e3f4a5b"}),
            ],
        ),
        (
            json!({"type": 7, "body": {"account": USER, "to": RECIPIENT, "tokenId": "42", "contractAddress": "2b8e1a6c-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "chain": "FLOW"}}),
            "depositRef.deposit(token: <-nft)",
            vec![
                json!({"type": "Address", "value": RECIPIENT}),
                json!({"type": "UInt64", "value": "42"}),
            ],
        ),
        (
            json!({"type": 8, "body": {"account": USER, "transaction": "transaction(n: UInt64, who: Address) { prepare(signer: &Account) { log(n) } }", "args": [{"type": "UInt64", "value": "5"}, {"type": "Address", "value": RECIPIENT}]}}),
            "transaction(n: UInt64, who: Address) { prepare(signer: &Account) { log(n) } }",
            vec![
                json!({"type": "UInt64", "value": "5"}),
                json!({"type": "Address", "value": RECIPIENT}),
            ],
        ),
    ];
    for (i, (request, in_script, args)) in cases.into_iter().enumerate() {
        let (fake, wallets) = setup();
        let tx = pending(
            &format!("7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f1{i}"),
            request.clone(),
        );
        let outcome = run(&fake, &wallets, &tx).await;
        let body = check_went_through(&fake, &tx, &outcome);
        let script = b64_text(body["script"].as_str().unwrap());
        assert!(
            script.contains(in_script),
            "type {}: {script}",
            request["type"]
        );
        assert_eq!(arguments(&body), args, "type {}", request["type"]);
        // The memo names the script by its SHA3-256.
        let memo = outcome.intent.memo.clone().unwrap();
        assert!(memo.contains("Cadence script sha3-256:"), "{memo}");
    }
}

#[tokio::test]
async fn a_transaction_that_fails_on_chain_is_not_reported_but_its_key_is_released() {
    let (fake, wallets) = setup();
    fake.flow_fail_next_execution("[Error Code: 1101] cadence runtime error: insufficient balance");
    let tx = pending(
        "7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f30",
        json!({"type": 2, "body": {"account": USER, "to": RECIPIENT, "amount": "1000", "currency": "FLOW"}}),
    );
    let outcome = run(&fake, &wallets, &tx).await;
    let err = outcome.submitted.unwrap_err();
    assert!(
        matches!(
            err,
            SignError::Signer(SignerError::Network {
                chain: Chain::FLOW,
                ..
            })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("insufficient balance"), "{err}");
    let (id, _) = fake.flow_sent().pop().unwrap();
    assert_eq!(
        fake.flow_releases(),
        [json!({"txData": id, "proposalKey": FLOW_PROPOSAL_KEY_INDEX})]
    );
    // Not completed: it stays pending at Tatum.
    assert!(fake.broadcasts().is_empty());
}

/// A tampered payload: the wallet's signature no longer covers what is
/// sent, and the node refuses it; beside it the same transaction untouched
/// goes through.
#[tokio::test]
async fn a_changed_transaction_is_refused_by_the_node() {
    for tamper in [true, false] {
        let (fake, wallets) = setup();
        let tx = pending(
            "7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f40",
            json!({"type": 2, "body": {"account": USER, "to": RECIPIENT, "amount": "1", "currency": "FLOW"}}),
        );
        let api = client(&fake);
        let scope = Scope::new(Chain::FLOW, Network::Testnet, [WALLET.into()]);
        let mut keys = KeySelector::new();
        let prepared = pipeline::prepare(&mut keys, &wallets, &scope, &tx, &api)
            .await
            .unwrap();
        let mut signed = prepared.sign().unwrap();
        if tamper {
            // Another recipient after the wallet signed.
            let mut data: Value = serde_json::from_str(&signed.tx_data).unwrap();
            use base64::Engine;
            data["transaction"]["arguments"][1] = json!(base64::engine::general_purpose::STANDARD
                .encode(json!({"type": "Address", "value": "0x0000000000000bad"}).to_string()));
            signed.tx_data = data.to_string();
        }
        let submitted = pipeline::submit(&tx, signed, &api).await;
        if tamper {
            let err = submitted.unwrap_err();
            assert!(
                matches!(
                    err,
                    SignError::Signer(SignerError::Api(ApiError::Status { status: 400, .. }))
                ),
                "{err:?}"
            );
            assert!(
                err.to_string().contains("invalid payload signature"),
                "{err}"
            );
            assert!(fake.flow_sent().is_empty());
            // Nothing reached the chain: the key is released with no id.
            assert_eq!(
                fake.flow_releases(),
                [json!({"txData": "", "proposalKey": FLOW_PROPOSAL_KEY_INDEX})]
            );
        } else {
            assert!(
                matches!(submitted, Ok(Submitted::Broadcast { .. })),
                "{submitted:?}"
            );
            assert_eq!(fake.flow_sent().len(), 1);
        }
    }
}

#[tokio::test]
async fn a_prepared_transaction_not_sent_gives_its_proposal_key_back() {
    let (fake, wallets) = setup();
    let tx = pending(
        "7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f50",
        json!({"type": 2, "body": {"account": USER, "to": RECIPIENT, "amount": "1", "currency": "FLOW"}}),
    );
    let api = client(&fake);
    let scope = Scope::new(Chain::FLOW, Network::Testnet, [WALLET.into()]);
    let mut keys = KeySelector::new();
    let prepared = pipeline::prepare(&mut keys, &wallets, &scope, &tx, &api)
        .await
        .unwrap();
    let facts = prepared.facts().clone();
    assert_eq!(
        facts.0["proposer"],
        json!({"address": TATUM_FLOW_ADDRESS, "keyIndex": FLOW_PROPOSAL_KEY_INDEX, "sequenceNumber": fake.flow_sequence_number()})
    );
    assert!(fake.flow_releases().is_empty());
    pipeline::release(&tx, &facts, &api).await.unwrap();
    assert_eq!(
        fake.flow_releases(),
        [json!({"txData": "", "proposalKey": FLOW_PROPOSAL_KEY_INDEX})]
    );
}

#[test]
fn offline_signing_names_the_request_it_would_need() {
    let (_fake, wallets) = setup();
    let tx = pending(
        "7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f60",
        json!({"type": 2, "body": {"account": USER, "to": RECIPIENT, "amount": "1", "currency": "FLOW"}}),
    );
    let scope = Scope::new(Chain::FLOW, Network::Testnet, [WALLET.into()]);
    let err = pipeline::sign_offline(&mut KeySelector::new(), &wallets, &scope, &tx).unwrap_err();
    match err {
        SignError::Signer(SignerError::Api(ApiError::Offline { what })) => {
            assert_eq!(what, "/v3/flow/proposal/false")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_malformed_request_costs_no_proposal_key() {
    let (fake, wallets) = setup();
    let api = client(&fake);
    let scope = Scope::new(Chain::FLOW, Network::Testnet, [WALLET.into()]);
    for (body, reason) in [
        (
            json!({"account": USER, "to": RECIPIENT, "amount": "1.123456789", "currency": "FLOW"}),
            "more than 8 decimals",
        ),
        (
            json!({"account": USER, "to": RECIPIENT, "amount": "1", "currency": "BTC"}),
            "FLOW or FUSD",
        ),
        (
            json!({"account": "0x01", "to": RECIPIENT, "amount": "1", "currency": "FLOW"}),
            "0x and 16 hex digits",
        ),
    ] {
        let tx = pending(
            "7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f70",
            json!({"type": 2, "body": body}),
        );
        let err = pipeline::prepare(&mut KeySelector::new(), &wallets, &scope, &tx, &api)
            .await
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                SignError::Signer(SignerError::InvalidTransaction {
                    chain: Chain::FLOW,
                    ..
                })
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains(reason), "{err}");
    }
    assert!(fake.seen().is_empty(), "{:?}", fake.seen());
}

/// Signs and prepares `tx` online; the faults are injected just before
/// `submit`, so they hit its requests in order (`Slow(0)` passes one).
async fn submit_with_faults(
    fake: &FakeTatum,
    wallets: &Wallets,
    tx: &PendingTransaction,
    faults: Vec<Fault>,
) -> Result<Submitted, SignError> {
    let api = client(fake);
    let scope = Scope::new(Chain::FLOW, Network::Testnet, [WALLET.into()]);
    let mut keys = KeySelector::new();
    let prepared = pipeline::prepare(&mut keys, wallets, &scope, tx, &api)
        .await
        .unwrap();
    let signed = prepared.sign().unwrap();
    fake.inject(faults);
    pipeline::submit(tx, signed, &api).await
}

fn transfer(id: &str) -> PendingTransaction {
    pending(
        id,
        json!({"type": 2, "body": {"account": USER, "to": RECIPIENT, "amount": "1", "currency": "FLOW"}}),
    )
}

const PASS: Fault = Fault::Slow(std::time::Duration::ZERO);

/// The node took the transaction but its answer was lost: the KMS finds it
/// by the id it computes (the fake node computes it with its own code), and
/// reports it, rather than leaving it pending to be sent again. Beside it,
/// a gateway error before the node took it: nothing was sent, the key is
/// released, the error is the gateway's.
#[tokio::test]
async fn a_lost_send_answer_neither_loses_nor_repeats_the_transaction() {
    let (fake, wallets) = setup();
    let tx = transfer("7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f80");
    fake.flow_lose_next_answer();
    let submitted = submit_with_faults(&fake, &wallets, &tx, vec![]).await;
    let sent = fake.flow_sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        submitted.unwrap(),
        Submitted::Broadcast {
            tx_id: sent[0].0.clone()
        }
    );
    assert_eq!(fake.broadcasts().len(), 1);

    let (fake, wallets) = setup();
    let tx = transfer("7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f81");
    let err = submit_with_faults(&fake, &wallets, &tx, vec![PASS, PASS, Fault::Status(502)])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SignError::Signer(SignerError::Api(ApiError::Status { status: 502, .. }))
        ),
        "{err:?}"
    );
    assert!(fake.flow_sent().is_empty());
    assert!(fake.broadcasts().is_empty());
    assert_eq!(
        fake.flow_releases(),
        [json!({"txData": "", "proposalKey": FLOW_PROPOSAL_KEY_INDEX})]
    );
}

/// Sent, but the node cannot be asked about the seal: the transaction is
/// reported (it may well be sealed), so it is not signed and sent again.
#[tokio::test]
async fn a_sent_transaction_whose_seal_is_not_seen_is_still_reported() {
    let (fake, wallets) = setup();
    let tx = transfer("7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f90");
    let submitted = submit_with_faults(
        &fake,
        &wallets,
        &tx,
        vec![PASS, PASS, PASS, Fault::Status(500)],
    )
    .await;
    let (id, _) = fake.flow_sent().pop().unwrap();
    assert_eq!(
        submitted.unwrap(),
        Submitted::Broadcast { tx_id: id.clone() }
    );
    assert_eq!(
        fake.broadcasts()[0].body,
        json!({"txData": id, "signatureId": tx.id})
    );
}

/// What the signing ledger asks before signing an id again whose FLOW
/// transaction was signed earlier: not known while its reference block is
/// recent (the same bytes may still land); expired and never landed once
/// the block is more than 600 behind and Tatum's proposal key is still at
/// the sequence number it used (signing anew is safe); not known when the
/// key moved on (it may have been this transaction).
#[tokio::test]
async fn an_earlier_flow_transaction_is_known_expired_only_when_it_cannot_have_landed() {
    let (fake, wallets) = setup();
    let tx = pending(
        "7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f61",
        json!({"type": 2, "body": {"account": USER, "to": RECIPIENT, "amount": "1", "currency": "FLOW"}}),
    );
    let api = client(&fake);
    let scope = Scope::new(Chain::FLOW, Network::Testnet, [WALLET.into()]);
    let prepared = pipeline::prepare(&mut KeySelector::new(), &wallets, &scope, &tx, &api)
        .await
        .unwrap();
    let facts = prepared.facts().clone();
    let signed = prepared.sign().unwrap();
    let fate = || async {
        signer(Chain::FLOW)
            .fate(&signed, &facts, &api)
            .await
            .unwrap()
    };

    assert_eq!(
        fate().await,
        Fate::Unknown,
        "its reference block is the sealed one"
    );
    fake.flow_advance_blocks(600);
    assert_eq!(
        fate().await,
        Fate::Unknown,
        "within the expiry and its margin"
    );
    fake.flow_advance_blocks(11);
    let Fate::Expired { evidence } = fate().await else {
        panic!("611 blocks on, with the key unused, it can never land and did not");
    };
    assert!(
        evidence.contains("611 blocks behind") && evidence.contains("never landed"),
        "{evidence}"
    );
    fake.flow_use_proposal_key();
    assert_eq!(
        fate().await,
        Fate::Unknown,
        "the key moved on: it may have been this one"
    );
}
