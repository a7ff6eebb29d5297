//! `examples/approver/approver.py`, the example approval service we ship,
//! run for real against the HTTP approver: it approves, refuses, verifies
//! the KMS's signature, rejects replays, and its signed answers are accepted.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kms_approval::signing::{self, request_signature};
use kms_approval::{ApprovalRequest, Approver, Decision, HttpApprover, HttpApproverConfig, Method};
use kms_core::PendingTransaction;
use secrecy::SecretString;
use serde_json::json;

struct Running(Child, String);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(secret: Option<&str>) -> Option<Running> {
    let Some(python) = kms_test_support::python() else {
        eprintln!("*** python missing: the example approver test is SKIPPED ***");
        return None;
    };
    let script = kms_test_support::workspace_root().join("examples/approver/approver.py");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .args(["--port", &port.to_string()])
        .env("APPROVER_DENY_IDS", "tx-denied")
        .env("APPROVER_CHAINS", "ETH,BTC")
        .stderr(Stdio::piped());
    if let Some(s) = secret {
        cmd.env("TATUM_KMS_APPROVAL_SECRET", s);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening"), "{line}");
    Some(Running(child, format!("http://127.0.0.1:{port}/kms")))
}

fn tx(id: &str, chain: &str) -> PendingTransaction {
    serde_json::from_value(
        json!({"id": id, "chain": chain, "serializedTransaction": "{}", "hashes": ["w"]}),
    )
    .unwrap()
}

fn approver(url: &str, method: Method, secret: Option<&str>) -> HttpApprover {
    HttpApprover::new(HttpApproverConfig {
        url: url.into(),
        method,
        timeout: Duration::from_secs(5),
        secret: secret.map(|s| SecretString::from(s.to_string())),
    })
    .unwrap()
}

#[tokio::test]
async fn unsigned_mode_applies_its_rule() {
    let Some(service) = start(None) else { return };
    let a = approver(&service.1, Method::Post, None);
    assert_eq!(
        a.check(&ApprovalRequest::bare(&tx("tx-1", "ETH"))).await,
        Decision::Approved
    );
    assert!(
        matches!(a.check(&ApprovalRequest::bare(&tx("tx-denied", "ETH"))).await, Decision::Rejected(r) if r.contains("403"))
    );
    assert!(matches!(
        a.check(&ApprovalRequest::bare(&tx("tx-2", "SOL"))).await,
        Decision::Rejected(_)
    ));
}

#[tokio::test]
async fn signed_mode_verifies_both_ways_and_stops_replays() {
    let secret = "example secret shared with the approver";
    let Some(service) = start(Some(secret)) else {
        return;
    };
    let good = approver(&service.1, Method::Get, Some(secret));
    assert_eq!(
        good.check(&ApprovalRequest::bare(&tx("tx-1", "ETH"))).await,
        Decision::Approved
    );
    let post = approver(&service.1, Method::Post, Some(secret));
    assert_eq!(
        post.check(&ApprovalRequest::bare(&tx("tx-1", "BTC"))).await,
        Decision::Approved
    );
    assert!(matches!(
        post.check(&ApprovalRequest::bare(&tx("tx-denied", "ETH")))
            .await,
        Decision::Rejected(_)
    ));

    let wrong = approver(&service.1, Method::Get, Some("not the secret"));
    assert!(
        matches!(wrong.check(&ApprovalRequest::bare(&tx("tx-1", "ETH"))).await, Decision::Rejected(r) if r.contains("401"))
    );
    let unsigned = approver(&service.1, Method::Get, None);
    assert!(
        matches!(unsigned.check(&ApprovalRequest::bare(&tx("tx-1", "ETH"))).await, Decision::Rejected(r) if r.contains("401"))
    );

    // The same signed request twice: the second is a replay.
    let url = format!("{}/tx-7", service.1);
    let target = url
        .trim_start_matches("http://")
        .split_once('/')
        .map(|(_, p)| format!("/{p}"))
        .unwrap();
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let nonce = "0123456789abcdef0123456789abcdef";
    let sig = request_signature(&SecretString::from(secret), "GET", &target, ts, nonce, b"");
    let client = reqwest::Client::new();
    let send = || {
        client
            .get(&url)
            .header(signing::TIMESTAMP_HEADER, ts.to_string())
            .header(signing::NONCE_HEADER, nonce)
            .header(signing::SIGNATURE_HEADER, format!("v1={sig}"))
            .send()
    };
    assert_eq!(send().await.unwrap().status(), 200);
    assert_eq!(send().await.unwrap().status(), 401);

    // A request signed long ago is stale.
    let old = ts - 3600;
    let sig = request_signature(&SecretString::from(secret), "GET", &target, old, "ff", b"");
    let stale = client
        .get(&url)
        .header(signing::TIMESTAMP_HEADER, old.to_string())
        .header(signing::NONCE_HEADER, "ff")
        .header(signing::SIGNATURE_HEADER, format!("v1={sig}"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 401);
}
