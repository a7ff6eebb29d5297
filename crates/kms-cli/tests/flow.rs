//! FLOW end to end, as the real binary: the daemon takes the original's
//! `{"type", "body"}` pending transaction from the fake Tatum API, asks the
//! approver (with the intent and digest), signs, has Tatum's keys co-sign,
//! sends through the fake access node (`TATUM_KMS_FLOW_ACCESS_NODE`), and
//! reports through `/v3/flow/broadcast` only; `signpending` signs without
//! sending and gives the proposal key back.

mod common;

use common::{json_of, stderr, Home};
use kms_chain_signers::signer;
use kms_core::{Chain, Network, WalletEntry};
use kms_fake_tatum::{FakeApprover, FakeTatum, FLOW_PROPOSAL_KEY_INDEX};
use secrecy::SecretString;
use serde_json::{json, Value};

const API_KEY: &str = "flow-e2e-api-key";
const USER_KEY: &str = "5f2b0d4e4a1c7c16a23f0c2b7f0f7d6a9a0e4e3b1f6d2c8a7b5e4d3c2b1a0f9e";
const USER: &str = "0xf8d6e0586b0a20c7";
const RECIPIENT: &str = "0x01cf0e2f2f715450";
const WALLET: &str = "5b7a2d3c-4e1f-4a6b-8c9d-0e1f2a3b4c5d";
const PENDING_ID: &str = "65f1d2c3b4a5968778695a4b";

fn setup() -> (Home, FakeTatum) {
    let home = Home::new();
    home.put_wallets(vec![(
        WALLET.into(),
        WalletEntry::new()
            .with("privateKey", USER_KEY)
            .with("chain", "FLOW")
            .with("testnet", true),
    )]);
    let fake = FakeTatum::start(API_KEY);
    let public = signer(Chain::FLOW)
        .address_from_private_key(Network::Testnet, &SecretString::from(USER_KEY))
        .unwrap();
    fake.flow_add_account(USER, &public);
    fake.add_pending(json!({
        "id": PENDING_ID, "chain": "FLOW", "hashes": [WALLET],
        "serializedTransaction": json!({"type": 2, "body": {
            "account": USER, "to": RECIPIENT, "amount": "2.5", "currency": "FLOW"
        }}).to_string(),
    }));
    (home, fake)
}

fn daemon(home: &Home, fake: &FakeTatum, approver: &FakeApprover) -> std::process::Output {
    let mut cmd = home.cmd(common::PASSWORD);
    cmd.env("TATUM_API_KEY", API_KEY)
        .env("TATUM_API_URL", &fake.url)
        .env("TATUM_KMS_FLOW_ACCESS_NODE", &fake.url)
        .env("RUST_LOG", "info")
        .args([
            "daemon",
            "--runOnce",
            "--testnet",
            "--chain",
            "FLOW",
            "--externalUrl",
            &approver.url,
            "--externalUrlMethod",
            "POST",
        ]);
    cmd.output().unwrap()
}

#[test]
fn the_daemon_sends_a_flow_transfer_and_reports_it_once() {
    let (home, fake) = setup();
    let approver = FakeApprover::start();
    let out = daemon(&home, &fake, &approver);
    let log = stderr(&out);
    assert!(out.status.success(), "{log}");

    // The approver saw what the transfer does and the digest.
    let asked = approver.seen();
    assert_eq!(asked.len(), 1, "{asked:?}");
    let kms = &asked[0].body["kms"];
    assert_eq!(
        kms["intent"]["transfers"],
        json!([{"to": RECIPIENT, "amount": "2.50000000", "asset": "FLOW"}])
    );
    assert_eq!(kms["intent"]["senders"][0], USER);
    assert!(kms["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(
        kms["prepared"]["proposer"]["keyIndex"],
        FLOW_PROPOSAL_KEY_INDEX
    );

    // One transaction reached the access node, with every signature valid
    // (the fake node checked them), and was reported once, by FLOW's own
    // endpoint: the generic broadcast was not called again.
    let sent = fake.flow_sent();
    assert_eq!(sent.len(), 1);
    let tx_id = &sent[0].0;
    let broadcasts = fake.broadcasts();
    assert_eq!(broadcasts.len(), 1, "{broadcasts:?}");
    assert_eq!(broadcasts[0].path, "/v3/flow/broadcast");
    assert_eq!(
        broadcasts[0].body,
        json!({"txData": tx_id, "signatureId": PENDING_ID})
    );
    assert_eq!(
        fake.flow_releases(),
        [json!({"txData": tx_id, "proposalKey": FLOW_PROPOSAL_KEY_INDEX})]
    );
    assert!(
        fake.error_reports().is_empty(),
        "{:?}",
        fake.error_reports()
    );
    assert!(fake.still_pending().is_empty());
    assert!(log.contains(tx_id.as_str()), "{log}");
}

/// Rejected by the approver: nothing is signed by Tatum or sent, the
/// proposal key is given back, and the transaction stays pending. Beside
/// it, the same set-up approved goes through (the test above).
#[test]
fn a_rejected_flow_transaction_gives_its_proposal_key_back() {
    let (home, fake) = setup();
    let approver = FakeApprover::start();
    approver.refuse(PENDING_ID);
    let out = daemon(&home, &fake, &approver);
    assert_eq!(approver.seen().len(), 1);
    assert!(fake.flow_sent().is_empty());
    assert!(fake.flow_tatum_signed().is_empty());
    assert!(fake.broadcasts().is_empty());
    assert_eq!(
        fake.flow_releases(),
        [json!({"txData": "", "proposalKey": FLOW_PROPOSAL_KEY_INDEX})],
        "{}",
        stderr(&out)
    );
    assert_eq!(fake.still_pending().len(), 1);
}

fn pending_json() -> String {
    json!({
        "id": PENDING_ID, "chain": "FLOW", "hashes": [WALLET],
        "serializedTransaction": json!({"type": 2, "body": {
            "account": USER, "to": RECIPIENT, "amount": "2.5", "currency": "FLOW"
        }}).to_string(),
    })
    .to_string()
}

#[test]
fn signpending_signs_a_flow_request_online_without_sending_it() {
    let (home, fake) = setup();
    let mut cmd = home.cmd(common::PASSWORD);
    cmd.env("TATUM_API_KEY", API_KEY)
        .env("TATUM_API_URL", &fake.url)
        .env("TATUM_KMS_FLOW_ACCESS_NODE", &fake.url)
        .args(["signpending", "--online", "--testnet"]);
    let out = common::output_with_stdin(cmd, &pending_json());
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = json_of(&out);
    let tx_data: Value = serde_json::from_str(printed["txData"].as_str().unwrap()).unwrap();
    // The wallet's payload signature only; Tatum signs when the daemon sends.
    let sigs = tx_data["transaction"]["payload_signatures"]
        .as_array()
        .unwrap();
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0]["address"], USER.trim_start_matches("0x"));
    assert_eq!(tx_data["transaction"]["envelope_signatures"], json!([]));
    assert_eq!(tx_data["signatureId"], PENDING_ID);
    // Nothing sent, nothing reported, the proposal key given back.
    assert!(fake.flow_sent().is_empty());
    assert!(fake.flow_tatum_signed().is_empty());
    assert!(fake.broadcasts().is_empty());
    assert_eq!(
        fake.flow_releases(),
        [json!({"txData": "", "proposalKey": FLOW_PROPOSAL_KEY_INDEX})]
    );
}

#[test]
fn signpending_offline_says_what_a_flow_request_needs() {
    let (home, _fake) = setup();
    let out = home.run_with_stdin(&["signpending", "--testnet"], &pending_json());
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("/v3/flow/proposal/false"), "{err}");
}
