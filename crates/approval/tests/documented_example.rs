//! The worked example of docs/approval.md, read from the doc itself: its
//! inputs, recomputed with this crate, give exactly the header values the
//! doc shows, and its Python snippet (what an approver's author would copy)
//! computes the same. Editing the doc's values, or the signing code, without
//! the other fails here.

use kms_approval::signing::{approval_signature, request_signature, verify_approval};
use secrecy::SecretString;
use sha2::{Digest, Sha256};

/// The "### Worked example" section of docs/approval.md.
fn worked_example() -> String {
    let path = kms_test_support::workspace_root().join("docs/approval.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = doc
        .find("### Worked example")
        .expect("docs/approval.md has a worked example");
    let rest = &doc[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_string()
}

/// The text between `before` and the next `after`, searched from `before`.
fn between<'a>(text: &'a str, before: &str, after: &str) -> &'a str {
    let start = text
        .find(before)
        .unwrap_or_else(|| panic!("the worked example has no {before:?}"))
        + before.len();
    let len = text[start..]
        .find(after)
        .unwrap_or_else(|| panic!("nothing ends {before:?}"));
    &text[start..start + len]
}

/// A header's `v1=` value as the doc shows it.
fn documented_header(example: &str, name: &str) -> String {
    let line = example
        .lines()
        .find(|l| l.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("the worked example shows no {name}"));
    let value = line[name.len() + 1..].split_whitespace().next().unwrap();
    value
        .strip_prefix("v1=")
        .unwrap_or_else(|| panic!("{name}: {value} has no v1= prefix"))
        .to_string()
}

struct Inputs {
    secret: String,
    method: String,
    target: String,
    timestamp: u64,
    nonce: String,
    body_sha256: String,
    status: u16,
}

fn inputs(example: &str) -> Inputs {
    let request = between(example, "; `", "`");
    let (method, target) = request.split_once(' ').expect("`METHOD target`");
    Inputs {
        secret: between(example, "Secret `", "`").to_string(),
        method: method.to_string(),
        target: target.to_string(),
        timestamp: between(example, "timestamp `", "`").parse().unwrap(),
        nonce: between(example, "nonce `", "`").to_string(),
        body_sha256: between(example, "(sha256 `", "`").to_string(),
        status: between(example, "(for status ", ")").parse().unwrap(),
    }
}

#[test]
fn the_documented_signatures_are_what_the_code_computes() {
    let example = worked_example();
    let i = inputs(&example);
    assert!(
        example.contains("empty body"),
        "the example's body is empty"
    );
    assert_eq!(i.body_sha256, hex::encode(Sha256::digest(b"")));
    let secret = SecretString::from(i.secret.clone());

    let request = request_signature(&secret, &i.method, &i.target, i.timestamp, &i.nonce, b"");
    assert_eq!(
        request,
        documented_header(&example, "X-Tatum-KMS-Signature"),
        "docs/approval.md's request signature"
    );
    let answer = approval_signature(&secret, &request, i.status);
    assert_eq!(
        answer,
        documented_header(&example, "X-Tatum-KMS-Approval"),
        "docs/approval.md's answer signature"
    );
    assert!(verify_approval(&secret, &request, i.status, &answer));
}

#[test]
fn the_documented_python_computes_the_documented_signatures() {
    let example = worked_example();
    let snippet = between(&example, "```python\n", "```");
    let Some(python) = kms_test_support::python() else {
        return;
    };
    let script = format!("{snippet}\nimport json\nprint(json.dumps({{\"r\": r, \"a\": a}}))\n");
    let out = kms_test_support::run_python(&python, &script, &serde_json::json!({}));
    assert_eq!(
        out["r"],
        documented_header(&example, "X-Tatum-KMS-Signature")
    );
    assert_eq!(
        out["a"],
        documented_header(&example, "X-Tatum-KMS-Approval")
    );
}
