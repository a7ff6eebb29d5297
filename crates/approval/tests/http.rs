//! The HTTP approver against in-process approval services: what it sends,
//! and that nothing but a (correctly signed, when a secret is set) 2xx approves.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use kms_approval::signing::{self, approval_signature, request_signature};
use kms_approval::{
    Approver, Decision, HttpApprover, HttpApproverConfig, Method as ApprovalMethod,
};
use kms_core::PendingTransaction;
use secrecy::SecretString;
use serde_json::{json, Value};

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

type Answer = Arc<dyn Fn(&Seen) -> Response + Send + Sync>;

#[derive(Clone)]
struct Service {
    seen: Arc<Mutex<Vec<Seen>>>,
    answer: Answer,
}

async fn handle(
    State(s): State<Service>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers,
        body,
    };
    s.seen.lock().unwrap().push(seen.clone());
    if seen.path.contains("slow") {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    (s.answer)(&seen)
}

async fn service(
    answer: impl Fn(&Seen) -> Response + Send + Sync + 'static,
) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(vec![]));
    let state = Service {
        seen: seen.clone(),
        answer: Arc::new(answer),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, Router::new().fallback(handle).with_state(state))
            .await
            .unwrap()
    });
    (addr, seen)
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
    let (addr, seen) = service(|_| StatusCode::OK.into_response()).await;
    let get = approver(format!("http://{addr}/kms"), ApprovalMethod::Get, None);
    assert_eq!(get.check(&tx("tx-1")).await, Decision::Approved);
    let post = approver(format!("http://{addr}/kms"), ApprovalMethod::Post, None);
    assert_eq!(post.check(&tx("tx-2")).await, Decision::Approved);
    let seen = seen.lock().unwrap();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/kms/tx-1")
    );
    assert!(seen[0].body.is_empty());
    assert!(seen[0].headers.get(signing::SIGNATURE_HEADER).is_none());
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("POST", "/kms/tx-2")
    );
    let body: Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert_eq!(body, serde_json::to_value(tx("tx-2")).unwrap());
    assert_eq!(
        body["someNewField"]["kept"], true,
        "unknown fields reach the approver"
    );
}

#[tokio::test]
async fn anything_but_2xx_rejects() {
    for status in [201u16, 204] {
        let (addr, _) =
            service(move |_| StatusCode::from_u16(status).unwrap().into_response()).await;
        let a = approver(format!("http://{addr}"), ApprovalMethod::Get, None);
        assert_eq!(a.check(&tx("t")).await, Decision::Approved, "{status}");
    }
    for status in [400u16, 403, 404, 500, 503] {
        let (addr, _) =
            service(move |_| StatusCode::from_u16(status).unwrap().into_response()).await;
        let a = approver(format!("http://{addr}"), ApprovalMethod::Get, None);
        let d = a.check(&tx("t")).await;
        assert!(rejected(&d).contains(&status.to_string()), "{d:?}");
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_rejects() {
    let (target, target_seen) = service(|_| StatusCode::OK.into_response()).await;
    let (addr, _) = service(move |_| {
        let mut r = StatusCode::FOUND.into_response();
        r.headers_mut().insert(
            "location",
            HeaderValue::from_str(&format!("http://{target}/ok")).unwrap(),
        );
        r
    })
    .await;
    let a = approver(format!("http://{addr}"), ApprovalMethod::Get, None);
    let d = a.check(&tx("t")).await;
    assert!(rejected(&d).contains("redirect"), "{d:?}");
    assert!(
        target_seen.lock().unwrap().is_empty(),
        "the redirect was followed"
    );
}

#[tokio::test]
async fn timeouts_and_unreachable_services_reject() {
    let (addr, _) = service(|_| StatusCode::OK.into_response()).await;
    let a = approver(format!("http://{addr}/slow"), ApprovalMethod::Get, None);
    let started = std::time::Instant::now();
    let d = a.check(&tx("t")).await;
    assert!(rejected(&d).contains("no answer"), "{d:?}");
    assert!(started.elapsed() < Duration::from_secs(2));

    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let a = approver(format!("http://{free}"), ApprovalMethod::Get, None);
    let d = a.check(&tx("t")).await;
    assert!(rejected(&d).contains("cannot reach"), "{d:?}");
}

const SECRET: &str = "shared-secret-for-tests";

/// An approver that checks the request's signature independently and signs
/// its answer (or, per `mode`, does not / signs something else).
async fn signing_service(mode: &'static str) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    service(move |seen| {
        let secret = SecretString::from(SECRET);
        let h = |name: &str| {
            seen.headers
                .get(name)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        };
        let ts: u64 = h(signing::TIMESTAMP_HEADER).parse().unwrap();
        let nonce = h(signing::NONCE_HEADER);
        let given = h(signing::SIGNATURE_HEADER);
        let expected = request_signature(&secret, &seen.method, &seen.path, ts, &nonce, &seen.body);
        if given != format!("v1={expected}") {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let answer = match mode {
            "good" => approval_signature(&secret, &expected, 200),
            "other-request" => approval_signature(&secret, &"0".repeat(64), 200),
            "wrong-secret" => approval_signature(&SecretString::from("nope"), &expected, 200),
            "other-status" => approval_signature(&secret, &expected, 204),
            _ => return StatusCode::OK.into_response(),
        };
        let mut r = StatusCode::OK.into_response();
        r.headers_mut().insert(
            signing::APPROVAL_HEADER,
            HeaderValue::from_str(&format!("v1={answer}")).unwrap(),
        );
        r
    })
    .await
}

#[tokio::test]
async fn with_a_secret_only_an_answer_signed_for_this_request_approves() {
    for method in [ApprovalMethod::Get, ApprovalMethod::Post] {
        let (addr, seen) = signing_service("good").await;
        let a = approver(format!("http://{addr}/kms"), method, Some(SECRET));
        assert_eq!(a.check(&tx("tx-9")).await, Decision::Approved, "{method:?}");
        let seen = seen.lock().unwrap();
        let ts: u64 = seen[0].headers[signing::TIMESTAMP_HEADER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(now.abs_diff(ts) < 5);
        assert_eq!(seen[0].headers[signing::NONCE_HEADER].len(), 32);
    }
    for mode in ["unsigned", "other-request", "wrong-secret", "other-status"] {
        let (addr, _) = signing_service(mode).await;
        let a = approver(
            format!("http://{addr}/kms"),
            ApprovalMethod::Post,
            Some(SECRET),
        );
        let d = a.check(&tx("tx-9")).await;
        assert!(
            rejected(&d).contains(signing::APPROVAL_HEADER),
            "{mode}: {d:?}"
        );
    }
    // A KMS with another secret is refused by the approver itself.
    let (addr, _) = signing_service("good").await;
    let a = approver(
        format!("http://{addr}/kms"),
        ApprovalMethod::Get,
        Some("another secret"),
    );
    assert!(rejected(&a.check(&tx("t")).await).contains("401"));
}

#[test]
fn bad_urls_are_refused_at_start() {
    for url in ["not a url", "ftp://host/x"] {
        let err = HttpApprover::new(HttpApproverConfig {
            url: url.into(),
            method: ApprovalMethod::Get,
            timeout: Duration::from_secs(1),
            secret: None,
        })
        .err()
        .unwrap();
        assert!(err.to_string().contains(url), "{err}");
    }
}
