//! [`TatumClient`]: the HTTP side. One `reqwest` client (rustls, keep-alive)
//! for the Tatum API and the VeChain node; every request has connect and
//! read timeouts, and 429, 5xx and timeouts are retried with backoff.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use kms_core::{
    ApiError, ApiRequest, Chain, ChainApi, HttpMethod, PendingBatch, Service, SignatureId,
};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use crate::version::VersionNotice;
use crate::{Broadcast, ReportedError, TatumApi, MAX_IDS_PER_REQUEST};

/// How hard to try before a request counts as failed.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The wait before the second try; doubled each time after.
    pub first_backoff: Duration,
    /// No single wait is longer (a `Retry-After` above it is cut to it).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            first_backoff: Duration::from_millis(300),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// What [`TatumClient::new`] needs: where the API is, the key, timeouts and
/// retries.
pub struct ClientConfig {
    /// `TATUM_API_URL`, e.g. `https://api.tatum.io`.
    pub base_url: String,
    /// `TATUM_API_KEY`: sent as `x-api-key`, and put in paths that hold
    /// `{apiKey}`.
    pub api_key: SecretString,
    /// `TATUM_KMS_VET_NODE_URL`: the VeChain node VET signing reads.
    pub vet_node_url: String,
    /// `TATUM_KMS_FLOW_ACCESS_NODE`: the Flow access node (REST API) FLOW
    /// signing reads and sends transactions through.
    pub flow_access_node_url: String,
    /// Sent as `x-ttm-kms-client-version`.
    pub client_version: String,
    /// Longest wait for a connection to be established.
    pub connect_timeout: Duration,
    /// The whole request, answer included.
    pub request_timeout: Duration,
    /// How failed requests are retried.
    pub retry: RetryPolicy,
}

impl ClientConfig {
    /// A config for `base_url` and `api_key` with the defaults: the mainnet
    /// VeChain node and Flow access node, no client version, 5 s to connect, 30 s per request,
    /// [`RetryPolicy::default`].
    pub fn new(base_url: impl Into<String>, api_key: SecretString) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            api_key,
            vet_node_url: "https://mainnet.vecha.in".into(),
            flow_access_node_url: "https://rest-mainnet.onflow.org".into(),
            client_version: String::new(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }
}

/// The Tatum API over HTTP: implements [`TatumApi`] for the daemon and
/// [`ChainApi`] for the signers.
pub struct TatumClient {
    http: reqwest::Client,
    base_url: String,
    vet_node_url: String,
    flow_access_node_url: String,
    api_key: SecretString,
    client_version: String,
    retry: RetryPolicy,
    latest_version: Mutex<Option<VersionNotice>>,
}

/// An answer that arrived (any status).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl TatumClient {
    /// Builds the HTTP client (no redirects followed); nothing is sent yet.
    /// Fails with [`ApiError::Transport`] only if the client cannot be built.
    pub fn new(config: ClientConfig) -> Result<TatumClient, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(format!("tatum-kms-rs/{}", config.client_version))
            .build()
            .map_err(|e| ApiError::Transport {
                path: config.base_url.clone(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(TatumClient {
            http,
            base_url: config.base_url.trim_end_matches('/').to_string(),
            vet_node_url: config.vet_node_url.trim_end_matches('/').to_string(),
            flow_access_node_url: config
                .flow_access_node_url
                .trim_end_matches('/')
                .to_string(),
            api_key: config.api_key,
            client_version: config.client_version,
            retry: config.retry,
            latest_version: Mutex::new(None),
        })
    }

    /// A request to the Tatum API; `path` may hold `{apiKey}`.
    fn tatum_request<B: serde::Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> reqwest::RequestBuilder {
        let url = format!(
            "{}{}",
            self.base_url,
            path.replace("{apiKey}", self.api_key.expose_secret())
        );
        let mut request = self
            .http
            .request(method, url)
            .header("x-api-key", self.api_key.expose_secret());
        if let Some(body) = body {
            request = request.json(body);
        }
        request
    }

    async fn post_json(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        let answer = self
            .send(
                self.tatum_request(Method::POST, path, Some(body)),
                path,
                true,
                MAX_ANSWER_BYTES,
            )
            .await?;
        json_of(path, answer)
    }
}

/// The most a pending list may take: 25,000 ids per request, each pending
/// transaction a few KiB at most.
pub const MAX_PENDING_ANSWER_BYTES: usize = 16 << 20;
/// The most any other answer (broadcast, node call, lookup) may take.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// The body, chunk by chunk, or `None` as soon as it passes `cap` bytes.
async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// `Retry-After` in seconds (the HTTP-date form is rare enough to ignore).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: f64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// A transport error without the URL (which may hold the API key).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {cause}")
    }
}

/// The JSON of a 2xx answer; any other status as [`ApiError::Status`]
/// with the API's own message.
fn json_of(path: &str, answer: Answer) -> Result<Value, ApiError> {
    if !answer.status.is_success() {
        return Err(ApiError::Status {
            path: path.to_string(),
            status: answer.status.as_u16(),
            message: error_message(&answer.body),
        });
    }
    if answer.body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&answer.body).map_err(|e| ApiError::BadAnswer {
        path: path.to_string(),
        message: format!("not JSON ({e}): {}", snippet(&answer.body)),
    })
}

/// `message` (and `errorCode`) of the API's error object, else the text.
fn error_message(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            let message = v.get("message").and_then(Value::as_str);
            let code = v.get("errorCode").and_then(Value::as_str);
            match (code, message) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (None, Some(m)) => m.to_string(),
                _ => snippet(body),
            }
        }
        Err(_) => snippet(body),
    }
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty answer)".into();
    }
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn broadcast_of(path: &str, answer: Value) -> Result<Broadcast, ApiError> {
    let failed = answer
        .get("failed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let tx_id = answer.get("txId").and_then(Value::as_str).map(String::from);
    if tx_id.is_none() && !failed && !answer.is_object() {
        return Err(ApiError::BadAnswer {
            path: path.to_string(),
            message: format!("expected {{txId, failed}}, got {answer}"),
        });
    }
    Ok(Broadcast { tx_id, failed })
}

#[async_trait]
impl TatumApi for TatumClient {
    fn latest_version(&self) -> Option<VersionNotice> {
        self.latest_version.lock().ok()?.clone()
    }

    async fn pending(
        &self,
        chain: Chain,
        signature_ids: &[SignatureId],
    ) -> Result<PendingBatch, ApiError> {
        let path = format!("/v3/kms/pending/{}", chain.as_str());
        let mut all = PendingBatch::default();
        /// Borrows the ids: an idle cycle's cost is writing them, not copying them.
        #[derive(serde::Serialize)]
        struct Body<'a> {
            #[serde(rename = "signatureIds")]
            signature_ids: &'a [SignatureId],
        }
        for chunk in signature_ids.chunks(MAX_IDS_PER_REQUEST) {
            // Only this request carries our version, as the original's did.
            let body = Body {
                signature_ids: chunk,
            };
            let request = self
                .tatum_request(Method::POST, &path, Some(&body))
                .header("x-ttm-kms-client-version", &self.client_version);
            let answer = self
                .send(request, &path, true, MAX_PENDING_ANSWER_BYTES)
                .await?;
            if let Some(notice) = answer
                .headers
                .get("x-ttm-kms-latest-version")
                .and_then(|h| h.to_str().ok())
                .and_then(VersionNotice::parse)
            {
                if let Ok(mut latest) = self.latest_version.lock() {
                    *latest = Some(notice);
                }
            }
            let value = json_of(&path, answer)?;
            // Entry by entry: one entry we cannot read (an unknown chain)
            // is reported on its own and never hides the others.
            let Value::Array(items) = value else {
                return Err(ApiError::BadAnswer {
                    path: path.clone(),
                    message: "not a list of pending transactions".into(),
                });
            };
            let batch = PendingBatch::from_values(items);
            all.transactions.extend(batch.transactions);
            all.unreadable.extend(batch.unreadable);
        }
        Ok(all)
    }

    async fn broadcast(
        &self,
        chain: Chain,
        tx_data: &str,
        signature_id: &str,
    ) -> Result<Broadcast, ApiError> {
        let path = format!("/v3/{}/broadcast", chain.broadcast_path());
        let answer = self
            .post_json(
                &path,
                &json!({ "txData": tx_data, "signatureId": signature_id }),
            )
            .await?;
        broadcast_of(&path, answer)
    }

    async fn offchain_broadcast(
        &self,
        chain: Chain,
        tx_data: &str,
        withdrawal_id: &str,
        signature_id: &str,
    ) -> Result<Broadcast, ApiError> {
        let path = "/v3/offchain/withdrawal/broadcast";
        let answer = self
            .post_json(
                path,
                &json!({
                    "currency": chain.as_str(),
                    "txData": tx_data,
                    "withdrawalId": withdrawal_id,
                    "signatureId": signature_id,
                }),
            )
            .await?;
        broadcast_of(path, answer)
    }

    async fn report_errors(&self, errors: &[ReportedError]) -> Result<(), ApiError> {
        let errors: Vec<Value> = errors
            .iter()
            .map(|e| json!({ "signatureId": e.signature_id, "error": e.error }))
            .collect();
        self.post_json("/v3/tatum/kms/batch", &json!({ "errors": errors }))
            .await
            .map(drop)
    }
}

impl TatumClient {
    /// Sends `request`, again after a backoff when the answer is 429 or 5xx
    /// or none came (timeout, connection): every call here may be repeated,
    /// as the same signed transaction broadcast twice is one transaction.
    /// `our_key`: a 401/403 means our API key was refused.
    ///
    /// An answer longer than `cap` bytes is an error and is not read past
    /// the cap: a hostile or broken server cannot grow the daemon's memory.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        path: &str,
        our_key: bool,
        cap: usize,
    ) -> Result<Answer, ApiError> {
        let mut backoff = self.retry.first_backoff;
        let mut attempt = 1;
        loop {
            let Some(this_try) = request.try_clone() else {
                return Err(ApiError::Transport {
                    path: path.to_string(),
                    message: "request cannot be repeated".into(),
                });
            };
            let outcome = match this_try.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    match read_capped(response, cap).await {
                        Ok(Some(body)) => Ok(Answer {
                            status,
                            headers,
                            body,
                        }),
                        Ok(None) => {
                            return Err(ApiError::BadAnswer {
                                path: path.to_string(),
                                message: format!(
                                    "the answer is larger than {} MiB; not read",
                                    cap >> 20
                                ),
                            })
                        }
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            let hint = match &outcome {
                Ok(a) if our_key && matches!(a.status.as_u16(), 401 | 403) => {
                    return Err(ApiError::Unauthorized {
                        path: path.to_string(),
                        status: a.status.as_u16(),
                    })
                }
                Ok(a)
                    if a.status == StatusCode::TOO_MANY_REQUESTS || a.status.is_server_error() =>
                {
                    Some(retry_after(&a.headers))
                }
                Ok(_) => None,
                Err(e) if e.is_timeout() || e.is_connect() || e.is_request() => Some(None),
                Err(_) => None,
            };
            match hint {
                Some(hint) if attempt < self.retry.attempts => {
                    let wait = hint.unwrap_or(backoff).min(self.retry.max_backoff);
                    tracing::debug!(%path, attempt, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                    backoff = (backoff * 2).min(self.retry.max_backoff);
                    attempt += 1;
                }
                _ => {
                    return outcome.map_err(|e| ApiError::Transport {
                        path: path.to_string(),
                        message: describe(&e),
                    })
                }
            }
        }
    }
}

/// Signers' network facts: Tatum API paths (the node gateway, fee and nonce
/// lookups, FLOW's proposal keys and co-signatures) with the API key, and
/// the VeChain node and the Flow access node without it. Every answer is
/// capped at [`MAX_ANSWER_BYTES`].
#[async_trait]
impl ChainApi for TatumClient {
    async fn call(&self, request: ApiRequest) -> Result<Value, ApiError> {
        let method = match request.method {
            HttpMethod::Get => Method::GET,
            HttpMethod::Post => Method::POST,
        };
        let path = request.path.as_str();
        let (built, our_key) = match request.service {
            Service::Tatum => (
                self.tatum_request(method, path, request.body.as_ref()),
                true,
            ),
            Service::VetNode | Service::FlowAccessNode => {
                let node = match request.service {
                    Service::VetNode => &self.vet_node_url,
                    _ => &self.flow_access_node_url,
                };
                let mut built = self.http.request(method, format!("{node}{path}"));
                if let Some(body) = &request.body {
                    built = built.json(body);
                }
                (built, false)
            }
        };
        let answer = self.send(built, path, our_key, MAX_ANSWER_BYTES).await?;
        json_of(path, answer)
    }
}
