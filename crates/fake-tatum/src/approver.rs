//! A fake approval service (`--externalUrl`) in the original's unsigned
//! mode: `GET|POST /{id}` answers 200 unless the id is refused; every
//! request is recorded.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::Seen;

#[derive(Default)]
struct Inner {
    refused: HashSet<String>,
    delay: Option<Duration>,
    seen: Vec<Seen>,
}

/// The fake approval service, serving on 127.0.0.1 until dropped.
pub struct FakeApprover {
    /// `http://127.0.0.1:PORT/approve`, for `--externalUrl`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    _server: crate::Server,
}

impl FakeApprover {
    /// Starts one on a free port of 127.0.0.1, approving every id.
    pub fn start() -> FakeApprover {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let state = inner.clone();
        let server = crate::Server::start("127.0.0.1:0".parse().unwrap(), move || {
            Router::new().fallback(handle).with_state(state)
        });
        FakeApprover {
            url: format!("http://{}/approve", server.addr),
            inner,
            _server: server,
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self._server.addr
    }

    /// Answers 403 for this pending transaction id.
    pub fn refuse(&self, id: &str) {
        self.inner.lock().unwrap().refused.insert(id.to_string());
    }

    /// Waits this long before every answer.
    pub fn delay(&self, wait: Duration) {
        self.inner.lock().unwrap().delay = Some(wait);
    }

    /// Every request, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.clone()
    }
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let id = path.rsplit('/').next().unwrap_or_default().to_string();
    let delay = {
        let mut inner = inner.lock().unwrap();
        inner.seen.push(Seen {
            method: method.to_string(),
            path: path.clone(),
            body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        });
        inner.delay
    };
    if let Some(wait) = delay {
        tokio::time::sleep(wait).await;
    }
    if inner.lock().unwrap().refused.contains(&id) {
        (StatusCode::FORBIDDEN, "refused").into_response()
    } else {
        (StatusCode::OK, "approved").into_response()
    }
}
