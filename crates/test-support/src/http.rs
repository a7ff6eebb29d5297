//! A recording HTTP server on a free port of 127.0.0.1, standing in for a
//! service the KMS calls (an approval service, VGS, Azure, AWS): it records
//! every request (method, path, query, headers, body) and answers from a
//! script, a closure of the request or a fixed answer per path.
//!
//! It runs on the calling test's Tokio runtime and ends with it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
pub use axum::http::HeaderMap;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// One request, as the server received it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    /// The body as text (every faked service speaks JSON or forms; bytes
    /// that are not UTF-8 are replaced, see `bytes` for the exact ones).
    pub body: String,
    /// The body exactly as received: what a signature covers.
    pub bytes: Vec<u8>,
}

impl Request {
    /// A header's value, when present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Path and query, as on the request line (`/kms/tx-1?x=1`).
    pub fn target(&self) -> String {
        match &self.query {
            Some(query) => format!("{}?{query}", self.path),
            None => self.path.clone(),
        }
    }

    /// The body parsed as JSON; panics with the body when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| {
            panic!(
                "{} {}: body is not JSON ({e}): {}",
                self.method, self.path, self.body
            )
        })
    }

    /// A query string or form body as a map, decoded.
    pub fn form(text: &str) -> HashMap<String, String> {
        url::form_urlencoded::parse(text.as_bytes())
            .into_owned()
            .collect()
    }
}

/// What the server answers: a status, headers, a body, and optionally a
/// delay before answering (to make a client time out).
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Option<Duration>,
}

impl Reply {
    /// A status and no body.
    pub fn status(status: u16) -> Self {
        Self::text(status, "")
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.to_string(),
            delay: None,
        }
    }

    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::text(status, &body.to_string()).header("content-type", "application/json")
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

struct Inner {
    requests: Mutex<Vec<Request>>,
    handler: Box<Handler>,
}

/// The server; see the module documentation.
pub struct RecordingServer {
    url: String,
    addr: SocketAddr,
    inner: Arc<Inner>,
}

impl RecordingServer {
    /// Answers every request with `handler(request)`.
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let inner = Arc::new(Inner {
            requests: Mutex::new(Vec::new()),
            handler: Box::new(handler),
        });
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("the bound address");
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the recording server runs")
        });
        Self {
            url: format!("http://{addr}"),
            addr,
            inner,
        }
    }

    /// Answers each path with its reply, whatever the method; any other
    /// path gets a 404 that names it (and is recorded like the rest).
    pub async fn with_routes<'a>(routes: impl IntoIterator<Item = (&'a str, Reply)>) -> Self {
        let routes: HashMap<String, Reply> = routes
            .into_iter()
            .map(|(path, reply)| (path.to_string(), reply))
            .collect();
        Self::start(move |request| {
            routes
                .get(&request.path)
                .cloned()
                .unwrap_or_else(|| Reply::text(404, &format!("no route for {}", request.path)))
        })
        .await
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.inner.requests.lock().unwrap().clone()
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = Request {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        bytes: body.to_vec(),
    };
    let reply = (inner.handler)(&request);
    // Recorded before any delay, so a test can see a request its client
    // gave up on.
    inner.requests.lock().unwrap().push(request);
    if let Some(delay) = reply.delay {
        tokio::time::sleep(delay).await;
    }
    let status = StatusCode::from_u16(reply.status).expect("a valid status code");
    let mut response = (status, reply.body).into_response();
    for (name, value) in reply.headers {
        let name: axum::http::HeaderName = name.parse().expect("a valid header name");
        response
            .headers_mut()
            .insert(name, value.parse().expect("a valid header value"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn records_each_request_and_answers_from_the_handler() {
        let server = RecordingServer::start(|request| {
            Reply::json(201, serde_json::json!({"echo": request.path}))
                .header("x-seen", &request.method)
        })
        .await;
        assert!(server.url().starts_with("http://127.0.0.1:"));
        let answer = client()
            .post(format!("{}/a/b?x=1&y=two%20words", server.url()))
            .header("authorization", "Bearer t")
            .body("{\"k\":1}")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 201);
        assert_eq!(answer.headers()["x-seen"], "POST");
        assert_eq!(answer.headers()["content-type"], "application/json");
        assert_eq!(answer.text().await.unwrap(), r#"{"echo":"/a/b"}"#);

        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let r = &requests[0];
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/a/b"));
        assert_eq!(r.target(), "/a/b?x=1&y=two%20words");
        assert_eq!(Request::form(r.query.as_deref().unwrap())["y"], "two words");
        assert_eq!(r.header("authorization"), Some("Bearer t"));
        assert_eq!(r.header("absent"), None);
        assert_eq!(r.body, "{\"k\":1}");
        assert_eq!(r.bytes, b"{\"k\":1}");
        assert_eq!(r.json()["k"], 1);
    }

    #[tokio::test]
    async fn routes_answer_their_path_and_anything_else_is_a_named_404() {
        let server = RecordingServer::with_routes([
            ("/ok", Reply::text(200, "fine")),
            (
                "/moved",
                Reply::status(302).header("location", "http://127.0.0.1:9/x"),
            ),
        ])
        .await;
        let get = |path: &'static str| {
            let url = format!("{}{path}", server.url());
            async move { client().get(url).send().await.unwrap() }
        };
        assert_eq!(get("/ok").await.text().await.unwrap(), "fine");
        let moved = get("/moved").await;
        assert_eq!(moved.status().as_u16(), 302);
        assert_eq!(moved.headers()["location"], "http://127.0.0.1:9/x");
        let missing = get("/nope").await;
        assert_eq!(missing.status().as_u16(), 404);
        assert_eq!(missing.text().await.unwrap(), "no route for /nope");
        let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
        assert_eq!(paths, ["/ok", "/moved", "/nope"]);
    }

    #[tokio::test]
    async fn a_delayed_reply_lets_a_client_time_out_and_is_still_recorded() {
        let server =
            RecordingServer::start(|_| Reply::status(200).after(Duration::from_secs(3))).await;
        let started = std::time::Instant::now();
        let err = client()
            .get(server.url())
            .timeout(Duration::from_millis(200))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(server.requests().len(), 1);
    }
}
