//! The four-eye check: before a pending transaction is signed, the
//! customer's approval service is asked about it. Any 2xx approves; any
//! other status, a redirect, a timeout or a network error rejects (the
//! transaction stays pending and is asked about again next cycle).
//!
//! With a shared secret, requests are HMAC-signed and the answer must carry
//! a signature bound to that very request ([`signing`], `docs/approval.md`).

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod signing;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use kms_core::{Intent, PendingTransaction};
use secrecy::SecretString;
use serde_json::{Map, Value};

/// The approver's answer. Anything but an explicit approval is a rejection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The service answered 2xx (with a valid answer signature when a secret
    /// is configured): the transaction may be signed.
    Approved,
    /// Anything else; the text says why, for the log. The transaction stays
    /// pending.
    Rejected(String),
}

/// What the approver is asked about: the pending transaction as the API
/// sent it, and what the KMS will sign for it. Asked after the network
/// facts were fetched and the transaction was signed in memory, before
/// anything leaves the KMS: an approval is bound to those exact bytes.
#[derive(Clone, Copy, Debug)]
pub struct ApprovalRequest<'a> {
    /// The pending transaction, as the Tatum API sent it.
    pub pending: &'a PendingTransaction,
    /// What the KMS filled in from the network before signing (nonce, gas
    /// price, chain id, blockhash...): values the API's transaction lacked.
    pub prepared: &'a Map<String, Value>,
    /// What the signed transaction does, decoded from what was signed;
    /// `None` where the chain has no decoder yet.
    pub intent: Option<&'a Intent>,
    /// `sha256:` and the hex SHA-256 of the signed transaction that will be
    /// handed on if approved (the wire transaction for SOL, else `txData`).
    pub digest: &'a str,
}

impl<'a> ApprovalRequest<'a> {
    /// A request about `pending` with nothing else known (tests, and callers
    /// that ask before preparing).
    pub fn bare(pending: &'a PendingTransaction) -> ApprovalRequest<'a> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        ApprovalRequest {
            pending,
            prepared: EMPTY.get_or_init(Map::new),
            intent: None,
            digest: "",
        }
    }

    /// The POST body: the pending transaction's JSON as the original sent
    /// it, plus a `kms` object (`prepared`, `intent`, `digest`). The `kms`
    /// key is always ours: one the API put in the transaction is replaced.
    pub fn body(&self) -> Result<Value, serde_json::Error> {
        let mut body = serde_json::to_value(self.pending)?;
        let kms = serde_json::json!({
            "prepared": self.prepared,
            "intent": self.intent,
            "digest": self.digest,
        });
        if let Value::Object(map) = &mut body {
            map.insert("kms".into(), kms);
        }
        Ok(body)
    }
}

/// Asks whether a pending transaction may be signed.
#[async_trait]
pub trait Approver: Send + Sync {
    /// Asks about `request`. Never fails: every failure to get an approval
    /// is a [`Decision::Rejected`].
    async fn check(&self, request: &ApprovalRequest<'_>) -> Decision;
}

/// `--externalUrlMethod`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET {url}/{id}`.
    Get,
    /// `POST {url}/{id}` with [`ApprovalRequest::body`] as the JSON body:
    /// the pending transaction and what the KMS will sign for it.
    Post,
}

/// Where and how [`HttpApprover`] asks.
pub struct HttpApproverConfig {
    /// `--externalUrl`; the transaction id is appended after a `/`.
    pub url: String,
    /// Whether to ask with `GET` or with a `POST` carrying the transaction.
    pub method: Method,
    /// No answer within this time is a rejection.
    pub timeout: Duration,
    /// `TATUM_KMS_APPROVAL_SECRET`: sign requests, require signed answers.
    pub secret: Option<SecretString>,
}

/// An [`HttpApproverConfig`] that cannot be used: the URL does not parse or
/// is not http(s), or the HTTP client cannot be built.
#[derive(Debug, thiserror::Error)]
#[error("approval service {url}: {reason}")]
pub struct ConfigError {
    /// The configured URL.
    pub url: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The approval service over HTTP.
pub struct HttpApprover {
    http: reqwest::Client,
    /// `config.url`, parsed once.
    base: reqwest::Url,
    config: HttpApproverConfig,
}

impl HttpApprover {
    /// Checks the URL and builds the client (no redirects followed, the
    /// configured timeout for connecting and for the whole request); nothing
    /// is sent yet.
    pub fn new(config: HttpApproverConfig) -> Result<HttpApprover, ConfigError> {
        let bad = |reason: String| ConfigError {
            url: config.url.clone(),
            reason,
        };
        let parsed = reqwest::Url::parse(&config.url).map_err(|e| bad(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("only http and https URLs are supported".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A redirect is not an approval: an answer must come from the
            // service that was configured.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| bad(e.to_string()))?;
        Ok(HttpApprover {
            http,
            base: parsed,
            config,
        })
    }

    /// The URL asked about `id`: `{url}/{id}` as the original joined it,
    /// with the id percent-encoded as one path segment, so that no id
    /// (`../healthz`, `%2e%2e/x`, `a?b`) reaches another path of the
    /// approval service. (The daemon also refuses ids not of the API's
    /// shape before it asks.)
    ///
    /// `None` for ids that are no segment at all: empty, `.` and `..`
    /// (URLs read `%2E%2E` as `..` too).
    fn url_for(&self, id: &str) -> Option<String> {
        if matches!(id, "" | "." | "..") {
            return None;
        }
        let mut url = self.base.clone();
        let path = format!("{}/{}", url.path().trim_end_matches('/'), path_segment(id));
        url.set_path(&path);
        Some(url.to_string())
    }
}

/// `id` as one path segment: every byte but ASCII letters, digits, `-`,
/// `_` and `~` percent-encoded.
fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[async_trait]
impl Approver for HttpApprover {
    async fn check(&self, request: &ApprovalRequest<'_>) -> Decision {
        let tx = request.pending;
        let Some(url) = self.url_for(&tx.id) else {
            return Decision::Rejected(format!(
                "'{}' cannot be a path segment of the approval URL",
                tx.id.escape_debug()
            ));
        };
        let body = match self.config.method {
            Method::Get => Vec::new(),
            Method::Post => match request.body().and_then(|b| serde_json::to_vec(&b)) {
                Ok(b) => b,
                Err(e) => return Decision::Rejected(format!("cannot encode the transaction: {e}")),
            },
        };
        let mut request = match self.config.method {
            Method::Get => self.http.get(&url),
            Method::Post => self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body(body.clone()),
        };
        let sent = self.config.secret.as_ref().map(|secret| {
            let method = match self.config.method {
                Method::Get => "GET",
                Method::Post => "POST",
            };
            let target = request_target(&url);
            let timestamp = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let mut nonce = [0u8; 16];
            getrandom::fill(&mut nonce).expect("the operating system's random source failed");
            let nonce = hex::encode(nonce);
            let signature =
                signing::request_signature(secret, method, &target, timestamp, &nonce, &body);
            (timestamp, nonce, signature)
        });
        if let Some((timestamp, nonce, signature)) = &sent {
            request = request
                .header(signing::TIMESTAMP_HEADER, timestamp.to_string())
                .header(signing::NONCE_HEADER, nonce)
                .header(signing::SIGNATURE_HEADER, format!("v1={signature}"));
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Decision::Rejected(format!("no answer within {:?}", self.config.timeout))
            }
            Err(e) => return Decision::Rejected(format!("cannot reach it: {}", cause(&e))),
        };
        let status = response.status();
        if status.is_redirection() {
            return Decision::Rejected(format!(
                "answered a redirect (HTTP {status}), which is not followed"
            ));
        }
        if !status.is_success() {
            return Decision::Rejected(format!("answered HTTP {status}"));
        }
        if let (Some(secret), Some((_, _, request_sig))) = (&self.config.secret, &sent) {
            let given = response
                .headers()
                .get(signing::APPROVAL_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().strip_prefix("v1="));
            let Some(given) = given else {
                return Decision::Rejected(format!(
                    "answered HTTP {status} without the {} signature a secret requires",
                    signing::APPROVAL_HEADER
                ));
            };
            if !signing::verify_approval(secret, request_sig, status.as_u16(), given) {
                return Decision::Rejected(format!(
                    "answered HTTP {status} with an {} signature that is not for this request",
                    signing::APPROVAL_HEADER
                ));
            }
        }
        Decision::Approved
    }
}

/// Path and query of `url`, as the signature covers them.
fn request_target(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
        Err(_) => url.to_string(),
    }
}

fn cause(e: &reqwest::Error) -> String {
    let mut text = if e.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approver(url: &str) -> HttpApprover {
        HttpApprover::new(HttpApproverConfig {
            url: url.into(),
            method: Method::Get,
            timeout: Duration::from_secs(1),
            secret: None,
        })
        .unwrap()
    }

    #[test]
    fn the_id_is_one_percent_encoded_path_segment() {
        let a = approver("http://127.0.0.1:9/approve");
        let a = |id: &str| a.url_for(id).unwrap();
        assert_eq!(a("tx-1"), "http://127.0.0.1:9/approve/tx-1");
        assert_eq!(
            a("../healthz"),
            "http://127.0.0.1:9/approve/%2E%2E%2Fhealthz"
        );
        assert_eq!(a("%2e%2e"), "http://127.0.0.1:9/approve/%252e%252e");
        assert_eq!(a("a?b#c"), "http://127.0.0.1:9/approve/a%3Fb%23c");
        let base = approver("http://127.0.0.1:9/approve");
        for no_segment in ["", ".", ".."] {
            assert_eq!(base.url_for(no_segment), None, "{no_segment:?}");
        }
        assert_eq!(
            approver("http://127.0.0.1:9/").url_for("tx-1").unwrap(),
            "http://127.0.0.1:9/tx-1"
        );
    }
}
