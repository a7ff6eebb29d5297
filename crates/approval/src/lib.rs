//! The four-eye check: before a pending transaction is signed, the
//! customer's approval service is asked about it. Any 2xx approves; any
//! other status, a redirect, a timeout or a network error rejects (the
//! transaction stays pending and is asked about again next cycle).
//!
//! With a shared secret, requests are HMAC-signed and the answer must carry
//! a signature bound to that very request ([`signing`], `docs/approval.md`).

pub mod signing;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use kms_core::PendingTransaction;
use secrecy::SecretString;

/// The approver's answer. Anything but an explicit approval is a rejection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Approved,
    Rejected(String),
}

/// Asks whether a pending transaction may be signed.
#[async_trait]
pub trait Approver: Send + Sync {
    async fn check(&self, tx: &PendingTransaction) -> Decision;
}

/// `--externalUrlMethod`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET {url}/{id}`.
    Get,
    /// `POST {url}/{id}` with the pending transaction as the JSON body.
    Post,
}

pub struct HttpApproverConfig {
    /// `--externalUrl`; the transaction id is appended after a `/`.
    pub url: String,
    pub method: Method,
    /// No answer within this time is a rejection.
    pub timeout: Duration,
    /// `TATUM_KMS_APPROVAL_SECRET`: sign requests, require signed answers.
    pub secret: Option<SecretString>,
}

#[derive(Debug, thiserror::Error)]
#[error("approval service {url}: {reason}")]
pub struct ConfigError {
    pub url: String,
    pub reason: String,
}

/// The approval service over HTTP.
pub struct HttpApprover {
    http: reqwest::Client,
    config: HttpApproverConfig,
}

impl HttpApprover {
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
        Ok(HttpApprover { http, config })
    }

    /// The URL asked about `id`, joined as the original joined it.
    fn url_for(&self, id: &str) -> String {
        format!("{}/{}", self.config.url, id)
    }
}

#[async_trait]
impl Approver for HttpApprover {
    async fn check(&self, tx: &PendingTransaction) -> Decision {
        let url = self.url_for(&tx.id);
        let body = match self.config.method {
            Method::Get => Vec::new(),
            Method::Post => match serde_json::to_vec(tx) {
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
