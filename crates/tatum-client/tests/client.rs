//! The client against the fake Tatum API: the requests it sends, how it
//! retries, and what its errors say.

use std::time::Duration;

use kms_core::{ApiError, ApiRequest, Chain, ChainApi, Service, SignatureId};
use kms_fake_tatum::{FakeTatum, Fault};
use kms_tatum_client::{ClientConfig, ReportedError, RetryPolicy, TatumApi, TatumClient};
use secrecy::SecretString;
use serde_json::{json, Value};

const KEY: &str = "test-api-key-0123456789";

fn client_for(fake: &FakeTatum, key: &str) -> TatumClient {
    let mut config = ClientConfig::new(fake.url.clone(), SecretString::from(key.to_string()));
    config.vet_node_url = fake.url.clone();
    config.client_version = "9.9.9".into();
    config.request_timeout = Duration::from_millis(500);
    config.retry = RetryPolicy {
        attempts: 3,
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    };
    TatumClient::new(config).unwrap()
}

fn pending_tx(id: &str, chain: &str, hash: &str) -> Value {
    json!({"id": id, "chain": chain, "serializedTransaction": "{}", "hashes": [hash], "extraField": 7})
}

#[tokio::test]
async fn thirty_thousand_ids_go_in_two_requests_and_answers_are_joined() {
    let fake = FakeTatum::start(KEY);
    let ids: Vec<SignatureId> = (0..30_000).map(|i| format!("id-{i}").into()).collect();
    fake.add_pending(pending_tx("tx-a", "ETH", "id-5"));
    fake.add_pending(pending_tx("tx-b", "ETH", "id-29999"));
    fake.add_pending(pending_tx("tx-c", "BTC", "id-6"));
    let client = client_for(&fake, KEY);
    let batch = client.pending(Chain::ETH, &ids).await.unwrap();
    assert!(batch.unreadable.is_empty());
    let txs = batch.transactions;
    let got: Vec<&str> = txs.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(got, ["tx-a", "tx-b"]);
    assert_eq!(txs[0].extra["extraField"], 7, "unknown fields are kept");
    assert_eq!(
        fake.pending_requests(),
        [("ETH".to_string(), 25_000), ("ETH".to_string(), 5_000)]
    );
}

#[tokio::test]
async fn broadcasts_reach_the_chains_endpoint_and_offchain_its_own() {
    let fake = FakeTatum::start(KEY);
    let client = client_for(&fake, KEY);
    let b = client
        .broadcast(Chain::MATIC, "0xf86b", "sig-1")
        .await
        .unwrap();
    assert!(!b.failed && b.tx_id.is_some());
    client
        .offchain_broadcast(Chain::BTC, "0200", "w-1", "sig-2")
        .await
        .unwrap();
    client
        .report_errors(&[ReportedError {
            signature_id: "sig-3".into(),
            error: "boom".into(),
        }])
        .await
        .unwrap();
    let seen = fake.broadcasts();
    assert_eq!(seen[0].path, "/v3/polygon/broadcast");
    assert_eq!(
        seen[0].body,
        json!({"txData": "0xf86b", "signatureId": "sig-1"})
    );
    assert_eq!(seen[1].path, "/v3/offchain/withdrawal/broadcast");
    assert_eq!(
        seen[1].body,
        json!({"currency": "BTC", "txData": "0200", "withdrawalId": "w-1", "signatureId": "sig-2"})
    );
    assert_eq!(
        fake.error_reports(),
        [json!([{"signatureId": "sig-3", "error": "boom"}])]
    );
}

#[tokio::test]
async fn overload_and_server_errors_are_retried_then_reported() {
    let fake = FakeTatum::start(KEY);
    let client = client_for(&fake, KEY);
    fake.inject([Fault::Status(429), Fault::Status(503)]);
    client.broadcast(Chain::ETH, "0x01", "s").await.unwrap();
    assert_eq!(fake.seen().len(), 3, "two faults, then the answer");

    fake.inject([Fault::Status(500), Fault::Status(502), Fault::Status(500)]);
    let err = client.broadcast(Chain::ETH, "0x01", "s").await.unwrap_err();
    assert!(matches!(err, ApiError::Status { status: 500, .. }), "{err}");
    assert!(err.to_string().contains("injected fault"), "{err}");

    fake.inject([Fault::Slow(Duration::from_secs(2))]);
    client.broadcast(Chain::ETH, "0x02", "s2").await.unwrap();
}

#[tokio::test]
async fn a_wrong_key_is_reported_as_such_and_never_shown() {
    let fake = FakeTatum::start(KEY);
    let wrong = "wrong-key-abcdef";
    let client = client_for(&fake, wrong);
    let err = client
        .pending(Chain::BTC, &[SignatureId::from("x")])
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert_eq!(fake.seen().len(), 1, "401/403 is not retried");
    let err = client
        .call(ApiRequest::json_rpc(
            "/v3/blockchain/node/ETH/{apiKey}",
            "eth_chainId",
            json!([]),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Unauthorized { status: 403, .. }),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(!err.contains(wrong), "{err}");
    assert!(err.contains("{apiKey}"), "{err}");
}

#[tokio::test]
async fn an_unreadable_entry_is_named_beside_the_readable_ones() {
    let fake = FakeTatum::start(KEY);
    fake.add_pending(pending_tx("good", "ETH", "id-1"));
    fake.add_pending(json!({"id": "no-tx", "chain": "ETH", "hashes": ["id-1"]}));
    let client = client_for(&fake, KEY);
    let batch = client
        .pending(Chain::ETH, &[SignatureId::from("id-1")])
        .await
        .unwrap();
    assert_eq!(batch.transactions.len(), 1);
    assert_eq!(batch.transactions[0].id, "good");
    assert_eq!(batch.unreadable.len(), 1);
    assert_eq!(batch.unreadable[0].id.as_deref(), Some("no-tx"));
}

/// A 2 GB answer is not read past the cap: the error comes at once and
/// this test's memory stays small.
#[tokio::test]
async fn an_oversized_answer_is_refused_without_reading_it_all() {
    let fake = FakeTatum::start(KEY);
    let client = client_for(&fake, KEY);
    fake.inject([Fault::Huge(2 << 30)]);
    let err = client
        .pending(Chain::BTC, &[SignatureId::from("x")])
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::BadAnswer { .. }), "{err}");
    assert!(err.to_string().contains("larger than 16 MiB"), "{err}");
    // Below the cap the same kind of answer is read (and is not JSON).
    fake.inject([Fault::Huge(1 << 20)]);
    let err = client
        .pending(Chain::BTC, &[SignatureId::from("x")])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not JSON"), "{err}");
    // Node calls have the smaller cap.
    fake.inject([Fault::Huge(2 << 20)]);
    let err = client
        .call(ApiRequest::json_rpc(
            "/v3/blockchain/node/ETH/{apiKey}",
            "eth_chainId",
            json!([]),
        ))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
}

#[tokio::test]
async fn garbage_answers_are_named_not_trusted() {
    let fake = FakeTatum::start(KEY);
    let client = client_for(&fake, KEY);
    fake.inject([Fault::BadJson]);
    let err = client
        .pending(Chain::BTC, &[SignatureId::from("x")])
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::BadAnswer { .. }), "{err}");
    assert!(err.to_string().contains("not JSON"), "{err}");
}

#[tokio::test]
async fn node_calls_carry_the_key_in_the_path_and_vet_goes_to_the_node() {
    let fake = FakeTatum::start(KEY);
    fake.add_recorded(&json!([
        {"method": "POST", "url": "/v3/blockchain/node/ETH/{apiKey}",
         "body": {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
         "answer": {"jsonrpc": "2.0", "id": 1, "result": "0x1"}},
        {"method": "GET", "url": "/blocks/best", "body": null, "answer": {"number": 5}}
    ]));
    let client = client_for(&fake, KEY);
    let answer = client
        .call(ApiRequest::json_rpc(
            "/v3/blockchain/node/ETH/{apiKey}",
            "eth_chainId",
            json!([]),
        ))
        .await
        .unwrap();
    assert_eq!(answer["result"], "0x1");
    let block = client
        .call(ApiRequest::get(Service::VetNode, "/blocks/best"))
        .await
        .unwrap();
    assert_eq!(block["number"], 5);
}

#[tokio::test]
async fn the_latest_version_header_is_kept() {
    let fake = FakeTatum::start(KEY);
    fake.set_latest_version("10.1.0;ERROR;Please update");
    let client = client_for(&fake, KEY);
    assert!(client.latest_version().is_none());
    client
        .pending(Chain::BTC, &[SignatureId::from("x")])
        .await
        .unwrap();
    let notice = client.latest_version().unwrap();
    assert_eq!(notice.latest, "10.1.0");
    assert_eq!(notice.level, "ERROR");
    assert!(fake.seen()[0].path.ends_with("/BTC"));
}

#[tokio::test]
async fn an_unreachable_api_is_a_transport_error_after_retries() {
    let fake = FakeTatum::start(KEY);
    let url = fake.url.clone();
    drop(fake);
    let client = TatumClient::new(ClientConfig {
        retry: RetryPolicy {
            attempts: 2,
            first_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(5),
        },
        ..ClientConfig::new(url, SecretString::from(KEY.to_string()))
    })
    .unwrap();
    let err = client.broadcast(Chain::BTC, "00", "s").await.unwrap_err();
    assert!(matches!(err, ApiError::Transport { .. }), "{err}");
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

/// FLOW's access-node requests go to `flow_access_node_url`, not to the
/// Tatum API, and their answers are capped like every other.
#[tokio::test]
async fn flow_access_node_requests_go_to_the_node_with_capped_answers() {
    let tatum = FakeTatum::start(KEY);
    let node = FakeTatum::start("another-key");
    let mut config = ClientConfig::new(tatum.url.clone(), SecretString::from(KEY));
    config.flow_access_node_url = format!("{}/", node.url);
    config.request_timeout = Duration::from_secs(5);
    config.retry = RetryPolicy {
        attempts: 1,
        ..RetryPolicy::default()
    };
    let client = TatumClient::new(config).unwrap();
    let blocks = client
        .call(ApiRequest::get(
            Service::FlowAccessNode,
            "/v1/blocks?height=sealed",
        ))
        .await
        .unwrap();
    assert_eq!(
        blocks[0]["header"]["id"],
        kms_fake_tatum::FLOW_SEALED_BLOCK_ID
    );
    assert_eq!(node.seen()[0].path, "/v1/blocks?height=sealed");
    assert!(tatum.seen().is_empty());

    node.inject([Fault::Huge(2 << 20)]);
    let err = client
        .call(ApiRequest::get(
            Service::FlowAccessNode,
            "/v1/blocks?height=sealed",
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::BadAnswer { .. }), "{err:?}");
    assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
}
