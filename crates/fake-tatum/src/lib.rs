//! A fake of the Tatum API endpoints the KMS uses (`TATUM-API.md`), on
//! 127.0.0.1, for tests, benchmarks and the demo.
//!
//! * `POST /v3/kms/pending/{chain}` answers the fixtures' pending
//!   transactions of that chain that name one of the requested signature ids;
//! * `POST /v3/{path}/broadcast` and `/v3/offchain/withdrawal/broadcast`
//!   are recorded, and the pending transaction they complete is served no more;
//! * `POST /v3/tatum/kms/batch` is recorded;
//! * anything else (node gateway, fee and nonce lookups, a VeChain node) is
//!   answered from recorded requests (`sdkRequests` of the signing vectors);
//! * a wrong `x-api-key` gets 403, as the real API answers;
//! * faults queued with [`FakeTatum::inject`] hit the next requests in order,
//!   and [`FakeTatum::set_fault_rate`] makes random ones.
//!
//! The server runs on its own thread and runtime, so synchronous tests that
//! run the real binary can use it as easily as async ones.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

mod approver;
mod flow;
mod solana;
pub use approver::FakeApprover;
pub use flow::{
    tatum_public_keys as flow_tatum_public_keys, PAYER_KEY_INDEX as FLOW_PAYER_KEY_INDEX,
    PROPOSAL_KEY_INDEX as FLOW_PROPOSAL_KEY_INDEX, SEALED_BLOCK_ID as FLOW_SEALED_BLOCK_ID,
    TATUM_FLOW_ADDRESS,
};
pub use solana::SolanaView;

/// A fault served instead of (or before) the real answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// This status with an error object (429 carries `Retry-After: 0`).
    Status(u16),
    /// Wait this long, then answer normally.
    Slow(Duration),
    /// 200 with a body that is not JSON.
    BadJson,
    /// 200 with a body of this many bytes, streamed without a length (a
    /// hostile server trying to fill the client's memory).
    Huge(u64),
}

/// One request as the fake saw it (the API key replaced by `{apiKey}`).
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The request path (the fake Tatum API keeps the query too).
    pub path: String,
    /// The body parsed as JSON; `Null` if it was empty (or, at the fake
    /// approver, not JSON).
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    pending: Vec<Value>,
    /// A hostile API's extras: (chain path, transaction) served on every
    /// pending request of that chain, whatever ids were asked about.
    forced: Vec<(String, Value)>,
    recorded: Vec<Value>,
    seen: Vec<Seen>,
    broadcasts: Vec<Seen>,
    error_reports: Vec<Value>,
    faults: VecDeque<Fault>,
    fault_rate: Option<(f64, u64)>,
    faults_served: u64,
    latest_version: Option<String>,
    tx_counter: u64,
    flow: flow::FlowState,
    /// Answers the SOL node gateway instead of recorded answers.
    solana: Option<solana::SolanaNode>,
    /// Every answer waits this long first (a real API's round trip).
    latency: Duration,
    /// Requests being answered now, and the most at once so far.
    in_flight: u64,
    peak_in_flight: u64,
    /// Broadcast requests wait (seen, unanswered) while this is set.
    hold_broadcasts: bool,
}

struct Shared {
    api_key: String,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A test thread that panicked while holding the lock must not hide
        // the fake's state from the assertions that follow.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The fake Tatum API, serving on 127.0.0.1 until dropped.
pub struct FakeTatum {
    /// `http://127.0.0.1:PORT`, for `TATUM_API_URL` (and `TATUM_KMS_VET_NODE_URL`).
    pub url: String,
    /// The address it listens on.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _server: Server,
}

impl FakeTatum {
    /// Starts a fake that accepts `api_key`, on a free port of 127.0.0.1.
    pub fn start(api_key: &str) -> FakeTatum {
        Self::start_on(api_key, "127.0.0.1:0".parse().unwrap())
    }

    /// Starts a fake that accepts `api_key`, listening on `addr`.
    pub(crate) fn start_on(api_key: &str, addr: SocketAddr) -> FakeTatum {
        let shared = Arc::new(Shared {
            api_key: api_key.to_string(),
            inner: Mutex::new(Inner::default()),
        });
        let state = shared.clone();
        let server = Server::start(addr, move || {
            Router::new().fallback(handle).with_state(state)
        });
        FakeTatum {
            url: format!("http://{}", server.addr),
            addr: server.addr,
            shared,
            _server: server,
        }
    }

    /// Serves this pending transaction (the API's JSON) until it is broadcast.
    pub fn add_pending(&self, tx: Value) {
        self.shared.lock().pending.push(tx);
    }

    /// Acts as a hostile or broken API: serves `tx` in every answer to
    /// `POST /v3/kms/pending/{chain}`, whichever wallets were asked about
    /// and whatever chain `tx` names, until it is broadcast.
    pub fn force_pending(&self, chain: &str, tx: Value) {
        self.shared.lock().forced.push((chain.to_string(), tx));
    }

    /// Answers these recorded requests (`[{method, url, body, answer}]`).
    pub fn add_recorded(&self, requests: &Value) {
        if let Some(list) = requests.as_array() {
            self.shared.lock().recorded.extend(list.iter().cloned());
        }
    }

    /// Every vector's pending transaction and recorded requests.
    pub fn load_signing_vectors(&self, file: &Value) {
        for v in file["vectors"].as_array().into_iter().flatten() {
            self.add_pending(v["pendingTransaction"].clone());
            self.add_recorded(&v["sdkRequests"]);
        }
    }

    /// Queues faults for the next requests, one each, in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.lock().faults.extend(faults);
    }

    /// From now on each request fails with probability `rate` (a random
    /// status of 429, 500, 502, 503, a slow answer or garbage), from `seed`.
    pub fn set_fault_rate(&self, rate: f64, seed: u64) {
        self.shared.lock().fault_rate = (rate > 0.0).then_some((rate, seed.max(1)));
    }

    /// How many faults were served so far.
    pub fn faults_served(&self) -> u64 {
        self.shared.lock().faults_served
    }

    /// Sends `x-ttm-kms-latest-version` with every pending answer.
    pub fn set_latest_version(&self, header: &str) {
        self.shared.lock().latest_version = Some(header.to_string());
    }

    /// Answers the Solana node gateway with a simulated node (a fresh
    /// blockhash per request; see the `solana` module) instead of recorded
    /// answers.
    pub fn simulate_solana(&self) {
        self.shared.lock().solana = Some(solana::SolanaNode::new());
    }

    /// Moves the simulated Solana node's block height on: blockhashes
    /// older than 150 blocks expire.
    pub fn advance_solana(&self, blocks: u64) {
        if let Some(node) = &mut self.shared.lock().solana {
            node.advance(blocks);
        }
    }

    /// The next `sends` transactions the simulated Solana node accepts
    /// never land (lost on the way to a leader).
    pub fn drop_solana_sends(&self, sends: u32) {
        if let Some(node) = &mut self.shared.lock().solana {
            node.drop_next(sends);
        }
    }

    /// What the simulated Solana node saw.
    pub fn solana(&self) -> SolanaView {
        self.shared
            .lock()
            .solana
            .as_ref()
            .map(solana::SolanaNode::view)
            .unwrap_or_default()
    }

    /// While `hold` is set, broadcast requests are seen but not answered
    /// (a process can be killed between signing and the broadcast).
    pub fn hold_broadcasts(&self, hold: bool) {
        self.shared.lock().hold_broadcasts = hold;
    }

    /// The most requests it was answering at once so far.
    pub fn peak_in_flight(&self) -> u64 {
        self.shared.lock().peak_in_flight
    }

    /// Every answer from now on waits `latency` first.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
    }

    /// Every request, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.lock().seen.clone()
    }

    /// Broadcasts (on-chain and off-chain), in order.
    pub fn broadcasts(&self) -> Vec<Seen> {
        self.shared.lock().broadcasts.clone()
    }

    /// The `errors` lists of every batch error report, in order.
    pub fn error_reports(&self) -> Vec<Value> {
        self.shared.lock().error_reports.clone()
    }

    /// The pending transactions not yet broadcast.
    pub fn still_pending(&self) -> Vec<Value> {
        self.shared.lock().pending.clone()
    }

    /// `(chain, number of signature ids)` of every pending request.
    pub fn pending_requests(&self) -> Vec<(String, usize)> {
        self.seen()
            .into_iter()
            .filter_map(|s| {
                let chain = s.path.strip_prefix("/v3/kms/pending/")?.to_string();
                let ids = s.body["signatureIds"].as_array().map_or(0, Vec::len);
                Some((chain, ids))
            })
            .collect()
    }

    /// Seals `blocks` more blocks at the fake Flow access node: a
    /// transaction referring to a block 600 behind the sealed one expires.
    pub fn flow_advance_blocks(&self, blocks: u64) {
        self.shared.lock().flow.blocks_advanced += blocks;
    }

    /// Another transaction used Tatum's proposal key: its sequence number
    /// moves on.
    pub fn flow_use_proposal_key(&self) {
        self.shared.lock().flow.bump_sequence();
    }

    /// FLOW: lets `address`'s key 0 (`public_key_hex`, 64 bytes of hex,
    /// secp256k1) authorize transactions at the fake access node.
    pub fn flow_add_account(&self, address: &str, public_key_hex: &str) {
        self.shared.lock().flow.add_account(address, public_key_hex);
    }

    /// FLOW: the transactions the fake access node accepted, `(id, REST
    /// body)`, in order.
    pub fn flow_sent(&self) -> Vec<(String, Value)> {
        self.shared.lock().flow.sent.clone()
    }

    /// FLOW: the bodies of `POST /v3/flow/broadcast` that released a
    /// proposal key (no `signatureId`), in order.
    pub fn flow_releases(&self) -> Vec<Value> {
        self.shared.lock().flow.releases.clone()
    }

    /// FLOW: what Tatum's keys signed at `POST /v3/flow/sign`,
    /// `(isPayer, hex message)`, in order.
    pub fn flow_tatum_signed(&self) -> Vec<(bool, String)> {
        self.shared.lock().flow.tatum_signed.clone()
    }

    /// FLOW: the proposal key's sequence number now.
    pub fn flow_sequence_number(&self) -> u64 {
        self.shared.lock().flow.sequence_number()
    }

    /// FLOW: the next transaction the access node accepts fails on chain
    /// with this error message.
    pub fn flow_fail_next_execution(&self, message: &str) {
        self.shared.lock().flow.fail_next_execution = Some(message.to_string());
    }

    /// FLOW: the access node accepts the next transaction but answers 502,
    /// as a gateway that lost the node's answer.
    pub fn flow_lose_next_answer(&self) {
        self.shared.lock().flow.lose_next_answer = true;
    }

    /// Forgets the requests, broadcasts and error reports seen so far (the
    /// pending transactions, recorded answers and faults stay).
    pub fn clear_seen(&self) {
        let mut inner = self.shared.lock();
        inner.seen.clear();
        inner.broadcasts.clear();
        inner.error_reports.clear();
    }
}

/// An axum app served on its own thread and runtime until dropped.
pub(crate) struct Server {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub(crate) fn start(addr: SocketAddr, app: impl FnOnce() -> Router + Send + 'static) -> Server {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("fake server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .expect("fake server: bind");
                ready_tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app())
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("fake server: serve");
            });
        });
        let addr = ready_rx.recv().expect("fake server did not start");
        Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn error(status: u16, code: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({
        "statusCode": status.as_u16(),
        "errorCode": code,
        "message": message,
    });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from_static("0"));
    }
    response
}

/// xorshift64*: enough randomness for fault injection, repeatable by seed.
fn next_random(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

fn pick_fault(inner: &mut Inner) -> Option<Fault> {
    if let Some(f) = inner.faults.pop_front() {
        return Some(f);
    }
    let (rate, mut seed) = inner.fault_rate?;
    let roll = (next_random(&mut seed) >> 11) as f64 / (1u64 << 53) as f64;
    let kind = next_random(&mut seed) % 6;
    inner.fault_rate = Some((rate, seed));
    (roll < rate).then(|| match kind {
        0 => Fault::Status(429),
        1 => Fault::Status(500),
        2 => Fault::Status(502),
        3 => Fault::Status(503),
        4 => Fault::Slow(Duration::from_millis(300)),
        _ => Fault::BadJson,
    })
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw_path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| uri.path().to_string());
    let path = raw_path.replace(&shared.api_key, "{apiKey}");
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => return error(400, "validation.failed", "request body is not JSON"),
        }
    };
    let latency = {
        let mut inner = shared.lock();
        inner.in_flight += 1;
        inner.peak_in_flight = inner.peak_in_flight.max(inner.in_flight);
        inner.latency
    };
    let response = answer(&shared, method, raw_path, path, headers, body, latency).await;
    shared.lock().in_flight -= 1;
    response
}

async fn answer(
    shared: &Shared,
    method: Method,
    raw_path: String,
    path: String,
    headers: HeaderMap,
    body: Value,
    latency: Duration,
) -> Response {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = {
        let mut inner = shared.lock();
        inner.seen.push(Seen {
            method: method.to_string(),
            path: path.clone(),
            body: body.clone(),
        });
        let fault = pick_fault(&mut inner);
        if fault.is_some() {
            inner.faults_served += 1;
        }
        fault
    };
    match fault {
        Some(Fault::Status(status)) => return error(status, "fake.fault", "injected fault"),
        Some(Fault::BadJson) => return (StatusCode::OK, "<html>not json").into_response(),
        Some(Fault::Huge(size)) => return huge_body(size),
        Some(Fault::Slow(wait)) => tokio::time::sleep(wait).await,
        None => {}
    }
    // The node gateway carries the key in its path; everything else in the header.
    let key_ok = headers
        .get("x-api-key")
        .and_then(|k| k.to_str().ok())
        .is_some_and(|k| k == shared.api_key)
        || raw_path.contains(&shared.api_key);
    let is_tatum = path.starts_with("/v3/");
    if is_tatum && !key_ok {
        return error(403, "subscription.invalid", "Unable to find the API key");
    }
    if method == Method::POST
        && (path == "/v3/offchain/withdrawal/broadcast" || is_broadcast(&path))
    {
        while shared.lock().hold_broadcasts {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let mut inner = shared.lock();
    let inner = &mut *inner;
    if let Some((status, answer)) = flow_request(inner, &method, &path, &body) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, axum::Json(answer)).into_response();
    }
    if method == Method::POST {
        if let Some(chain) = path.strip_prefix("/v3/kms/pending/") {
            return pending(inner, chain, &body);
        }
        if path == "/v3/tatum/kms/batch" {
            inner.error_reports.push(body["errors"].clone());
            return StatusCode::NO_CONTENT.into_response();
        }
        if path == "/v3/offchain/withdrawal/broadcast" || is_broadcast(&path) {
            return broadcast(inner, &method, &path, body);
        }
        if path == "/v3/blockchain/node/SOL/{apiKey}" {
            if let Some(node) = &mut inner.solana {
                return axum::Json(node.answer(&body)).into_response();
            }
        }
    }
    recorded(inner, &method, &path, &body)
}

/// Tatum's FLOW endpoints and the access node's REST API; `None` for any
/// other request.
fn flow_request(
    inner: &mut Inner,
    method: &Method,
    path: &str,
    body: &Value,
) -> Option<flow::Answer> {
    if *method == Method::GET {
        if let Some(is_payer) = path.strip_prefix("/v3/flow/proposal/") {
            return flow::proposal(is_payer);
        }
        if path == "/v1/blocks?height=sealed" {
            return Some(flow::sealed_block(&inner.flow));
        }
        if let Some(id) = path.strip_prefix("/v1/blocks/") {
            return Some(flow::block(&inner.flow, id));
        }
        if let Some(address) = path
            .strip_prefix("/v1/accounts/")
            .and_then(|rest| rest.strip_suffix("?expand=keys"))
        {
            return Some(flow::account(&inner.flow, address));
        }
        if let Some(id) = path.strip_prefix("/v1/transaction_results/") {
            return Some(flow::transaction_result(&mut inner.flow, id));
        }
        return None;
    }
    if *method != Method::POST {
        return None;
    }
    match path {
        "/v3/flow/sign" => Some(flow::tatum_sign(&mut inner.flow, body)),
        "/v1/transactions" => Some(flow::send_transaction(&mut inner.flow, body)),
        "/v3/flow/broadcast" => {
            let Some(tx_data) = body["txData"].as_str() else {
                return Some((400, json!({"message": "txData is required"})));
            };
            let answer = json!({"txId": tx_data, "failed": false});
            if body.get("signatureId").is_some() {
                // Completes the pending transaction, as any broadcast.
                let id = body["signatureId"].as_str().unwrap_or_default().to_string();
                inner.pending.retain(|tx| tx["id"] != id.as_str());
                inner.broadcasts.push(Seen {
                    method: method.to_string(),
                    path: path.to_string(),
                    body: body.clone(),
                });
            } else if body["proposalKey"].is_u64() {
                inner.flow.releases.push(body.clone());
            } else {
                return Some((
                    400,
                    json!({"message": "signatureId or proposalKey is required"}),
                ));
            }
            Some((200, answer))
        }
        _ => None,
    }
}

/// `size` bytes of a JSON-looking list, streamed in 64 KiB chunks with no
/// `Content-Length`: only a reader that stops early keeps its memory flat.
fn huge_body(size: u64) -> Response {
    const CHUNK: usize = 64 << 10;
    let chunks = size.div_ceil(CHUNK as u64);
    let stream = futures_util::stream::iter((0..chunks).map(move |i| {
        let mut chunk = vec![b' '; CHUNK];
        if i == 0 {
            chunk[0] = b'[';
        }
        Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(chunk))
    }));
    (StatusCode::OK, axum::body::Body::from_stream(stream)).into_response()
}

fn is_broadcast(path: &str) -> bool {
    path.strip_prefix("/v3/")
        .and_then(|p| p.strip_suffix("/broadcast"))
        .is_some_and(|chain| !chain.contains('/'))
}

fn names_any(tx: &Value, ids: &[&str]) -> bool {
    let hashes = tx["hashes"].as_array().into_iter().flatten();
    let signatures = tx["signatures"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| &s["id"]);
    hashes
        .chain(signatures)
        .filter_map(Value::as_str)
        .any(|id| ids.contains(&id))
}

fn pending(inner: &Inner, chain: &str, body: &Value) -> Response {
    let Some(ids) = body["signatureIds"].as_array() else {
        return error(400, "validation.failed", "signatureIds must be an array");
    };
    if ids.len() > 25_000 {
        return error(400, "validation.failed", "at most 25000 signatureIds");
    }
    let ids: Vec<&str> = ids.iter().filter_map(Value::as_str).collect();
    let broadcast: Vec<&Value> = inner
        .broadcasts
        .iter()
        .map(|b| &b.body["signatureId"])
        .collect();
    let txs: Vec<Value> = inner
        .pending
        .iter()
        .filter(|tx| tx["chain"] == chain && names_any(tx, &ids))
        .chain(
            inner
                .forced
                .iter()
                .filter(|(asked, tx)| asked == chain && !broadcast.contains(&&tx["id"]))
                .map(|(_, tx)| tx),
        )
        .cloned()
        .collect();
    let mut response = axum::Json(Value::Array(txs)).into_response();
    if let Some(v) = inner
        .latest_version
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        response.headers_mut().insert("x-ttm-kms-latest-version", v);
    }
    response
}

fn broadcast(inner: &mut Inner, method: &Method, path: &str, body: Value) -> Response {
    let (Some(_), Some(id)) = (body["txData"].as_str(), body["signatureId"].as_str()) else {
        return error(
            400,
            "validation.failed",
            "txData and signatureId are required",
        );
    };
    let id = id.to_string();
    inner.pending.retain(|tx| tx["id"] != id.as_str());
    inner.broadcasts.push(Seen {
        method: method.to_string(),
        path: path.to_string(),
        body,
    });
    inner.tx_counter += 1;
    let tx_id = format!("{:064x}", inner.tx_counter);
    if path.contains("offchain") {
        axum::Json(json!({"txId": tx_id, "completed": true, "id": id})).into_response()
    } else {
        axum::Json(json!({"txId": tx_id, "failed": false})).into_response()
    }
}

/// JSON-RPC bodies match on method and params; others exactly.
fn same_body(asked: &Value, recorded: &Value) -> bool {
    if recorded.get("jsonrpc").is_some() {
        asked["method"] == recorded["method"] && asked["params"] == recorded["params"]
    } else {
        asked == recorded || (asked.is_null() && recorded.is_null())
    }
}

fn recorded(inner: &Inner, method: &Method, path: &str, body: &Value) -> Response {
    let found = inner.recorded.iter().find(|r| {
        r["method"] == method.as_str() && r["url"] == path && same_body(body, &r["body"])
    });
    match found {
        Some(r) => {
            let mut answer = r["answer"].clone();
            if let (Some(id), Some(obj)) = (body.get("id"), answer.as_object_mut()) {
                if obj.contains_key("jsonrpc") {
                    obj.insert("id".into(), id.clone());
                }
            }
            axum::Json(answer).into_response()
        }
        None => error(
            404,
            "fake.not.recorded",
            &format!("{method} {path}: no recorded answer"),
        ),
    }
}
