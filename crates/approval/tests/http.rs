//! The HTTP approver against in-process approval services: what it sends,
//! and that nothing but a (correctly signed, when a secret is set) 2xx approves.

use std::time::Duration;

use kms_approval::signing::{self, approval_signature, request_signature};
use kms_approval::{
    ApprovalRequest, Approver, Decision, HttpApprover, HttpApproverConfig, Method as ApprovalMethod,
};
use kms_core::PendingTransaction;
use kms_test_support::http::{RecordingServer, Reply, Request};
use secrecy::SecretString;
use serde_json::{json, Value};

/// An approval service answering `answer(request)`; a path containing
/// "slow" answers after 3 s (past every client timeout here).
async fn service(answer: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> RecordingServer {
    RecordingServer::start(move |request| {
        let reply = answer(request);
        if request.path.contains("slow") {
            reply.after(Duration::from_secs(3))
        } else {
            reply
        }
    })
    .await
}

fn tx(id: &str) -> PendingTransaction {
    serde_json::from_value(json!({
        "id": id, "chain": "ETH", "hashes": ["w1"], "index": 3,
        "serializedTransaction": "{\"to\":\"0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee\"}",
        "someNewField": {"kept": true}
    }))
    .unwrap()
}

fn approver(url: String, method: ApprovalMethod, secret: Option<&str>) -> HttpApprover {
    HttpApprover::new(HttpApproverConfig {
        url,
        method,
        timeout: Duration::from_millis(500),
        secret: secret.map(|s| SecretString::from(s.to_string())),
    })
    .unwrap()
}

fn rejected(d: &Decision) -> &str {
    match d {
        Decision::Rejected(r) => r,
        Decision::Approved => panic!("approved"),
    }
}

#[tokio::test]
async fn get_and_post_have_the_originals_shape() {
    let server = service(|_| Reply::status(200)).await;
    let url = format!("{}/kms", server.url());
    let get = approver(url.clone(), ApprovalMethod::Get, None);
    assert_eq!(
        get.check(&ApprovalRequest::bare(&tx("tx-1"))).await,
        Decision::Approved
    );
    let post = approver(url, ApprovalMethod::Post, None);
    assert_eq!(
        post.check(&ApprovalRequest::bare(&tx("tx-2"))).await,
        Decision::Approved
    );
    let seen = server.requests();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].target().as_str()),
        ("GET", "/kms/tx-1")
    );
    assert!(seen[0].bytes.is_empty());
    assert_eq!(seen[0].header(signing::SIGNATURE_HEADER), None);
    assert_eq!(
        (seen[1].method.as_str(), seen[1].target().as_str()),
        ("POST", "/kms/tx-2")
    );
    let mut body: Value = seen[1].json();
    // The original's body, plus what the KMS will sign (nothing known for
    // a bare request).
    let kms = body.as_object_mut().unwrap().remove("kms").unwrap();
    assert_eq!(
        kms,
        serde_json::json!({"prepared": {}, "intent": null, "digest": ""})
    );
    assert_eq!(body, serde_json::to_value(tx("tx-2")).unwrap());
    assert_eq!(
        body["someNewField"]["kept"], true,
        "unknown fields reach the approver"
    );
}

/// The body carries what the KMS filled in, the decoded intent and the
/// digest; a `kms` field the API slipped into the transaction is replaced.
#[tokio::test]
async fn the_post_body_says_what_will_be_signed() {
    let server = service(|_| Reply::status(200)).await;
    let post = approver(format!("{}/kms", server.url()), ApprovalMethod::Post, None);
    let mut pending = tx("tx-3");
    pending
        .extra
        .insert("kms".into(), serde_json::json!({"digest": "sha256:forged"}));
    let mut prepared = serde_json::Map::new();
    prepared.insert("gasPrice".into(), serde_json::json!("20000000000"));
    let mut intent = kms_core::Intent::new(kms_core::Chain::ETH, kms_core::Network::Mainnet);
    intent.chain_id = Some("1".into());
    intent.transfers.push(kms_core::Transfer {
        to: "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee".into(),
        amount: "1000".into(),
        asset: None,
    });
    let request = ApprovalRequest {
        pending: &pending,
        prepared: &prepared,
        intent: Some(&intent),
        digest: "sha256:00ff",
    };
    assert_eq!(post.check(&request).await, Decision::Approved);
    let body: Value = server.requests()[0].json();
    assert_eq!(
        body["kms"],
        serde_json::json!({
            "prepared": {"gasPrice": "20000000000"},
            "intent": {
                "chain": "ETH", "network": "mainnet", "chainId": "1", "senders": [],
                "transfers": [{"to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee", "amount": "1000"}]
            },
            "digest": "sha256:00ff"
        })
    );
}

#[tokio::test]
async fn anything_but_2xx_rejects() {
    for status in [201u16, 204] {
        let server = service(move |_| Reply::status(status)).await;
        let a = approver(server.url().to_string(), ApprovalMethod::Get, None);
        assert_eq!(
            a.check(&ApprovalRequest::bare(&tx("t"))).await,
            Decision::Approved,
            "{status}"
        );
    }
    for status in [400u16, 403, 404, 500, 503] {
        let server = service(move |_| Reply::status(status)).await;
        let a = approver(server.url().to_string(), ApprovalMethod::Get, None);
        let d = a.check(&ApprovalRequest::bare(&tx("t"))).await;
        assert!(rejected(&d).contains(&status.to_string()), "{d:?}");
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_rejects() {
    let target = service(|_| Reply::status(200)).await;
    let location = format!("{}/ok", target.url());
    let server = service(move |_| Reply::status(302).header("location", &location)).await;
    let a = approver(server.url().to_string(), ApprovalMethod::Get, None);
    let d = a.check(&ApprovalRequest::bare(&tx("t"))).await;
    assert!(rejected(&d).contains("redirect"), "{d:?}");
    assert!(target.requests().is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn timeouts_and_unreachable_services_reject() {
    let server = service(|_| Reply::status(200)).await;
    let a = approver(format!("{}/slow", server.url()), ApprovalMethod::Get, None);
    let started = std::time::Instant::now();
    let d = a.check(&ApprovalRequest::bare(&tx("t"))).await;
    assert!(rejected(&d).contains("no answer"), "{d:?}");
    assert!(started.elapsed() < Duration::from_secs(2));

    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let a = approver(format!("http://{free}"), ApprovalMethod::Get, None);
    let d = a.check(&ApprovalRequest::bare(&tx("t"))).await;
    assert!(rejected(&d).contains("cannot reach"), "{d:?}");
}

const SECRET: &str = "shared-secret-for-tests";

/// An approver that checks the request's signature independently and signs
/// its answer (or, per `mode`, does not / signs something else).
async fn signing_service(mode: &'static str) -> RecordingServer {
    service(move |seen| {
        let secret = SecretString::from(SECRET);
        let h = |name: &str| seen.header(name).unwrap().to_string();
        let ts: u64 = h(signing::TIMESTAMP_HEADER).parse().unwrap();
        let nonce = h(signing::NONCE_HEADER);
        let given = h(signing::SIGNATURE_HEADER);
        let expected = request_signature(
            &secret,
            &seen.method,
            &seen.target(),
            ts,
            &nonce,
            &seen.bytes,
        );
        if given != format!("v1={expected}") {
            return Reply::status(401);
        }
        let answer = match mode {
            "good" => approval_signature(&secret, &expected, 200),
            "other-request" => approval_signature(&secret, &"0".repeat(64), 200),
            "wrong-secret" => approval_signature(&SecretString::from("nope"), &expected, 200),
            "other-status" => approval_signature(&secret, &expected, 204),
            _ => return Reply::status(200),
        };
        Reply::status(200).header(signing::APPROVAL_HEADER, &format!("v1={answer}"))
    })
    .await
}

#[tokio::test]
async fn with_a_secret_only_an_answer_signed_for_this_request_approves() {
    for method in [ApprovalMethod::Get, ApprovalMethod::Post] {
        let server = signing_service("good").await;
        let a = approver(format!("{}/kms", server.url()), method, Some(SECRET));
        assert_eq!(
            a.check(&ApprovalRequest::bare(&tx("tx-9"))).await,
            Decision::Approved,
            "{method:?}"
        );
        let seen = server.requests();
        let ts: u64 = seen[0]
            .header(signing::TIMESTAMP_HEADER)
            .unwrap()
            .parse()
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(now.abs_diff(ts) < 5);
        assert_eq!(seen[0].header(signing::NONCE_HEADER).unwrap().len(), 32);
    }
    for mode in ["unsigned", "other-request", "wrong-secret", "other-status"] {
        let server = signing_service(mode).await;
        let a = approver(
            format!("{}/kms", server.url()),
            ApprovalMethod::Post,
            Some(SECRET),
        );
        let d = a.check(&ApprovalRequest::bare(&tx("tx-9"))).await;
        assert!(
            rejected(&d).contains(signing::APPROVAL_HEADER),
            "{mode}: {d:?}"
        );
    }
    // A KMS with another secret is refused by the approver itself.
    let server = signing_service("good").await;
    let a = approver(
        format!("{}/kms", server.url()),
        ApprovalMethod::Get,
        Some("another secret"),
    );
    assert!(rejected(&a.check(&ApprovalRequest::bare(&tx("t"))).await).contains("401"));
}

#[test]
fn bad_urls_are_refused_at_start() {
    for (url, reason) in [
        ("not a url", "relative URL without a base"),
        ("ftp://host/x", "only http and https URLs are supported"),
    ] {
        let err = HttpApprover::new(HttpApproverConfig {
            url: url.into(),
            method: ApprovalMethod::Get,
            timeout: Duration::from_secs(1),
            secret: None,
        })
        .err()
        .expect("a bad URL is refused at start");
        assert_eq!((err.url.as_str(), err.reason.as_str()), (url, reason));
        assert!(err.to_string().contains(url), "{err}");
    }
}
