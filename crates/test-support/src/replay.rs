//! A [`ChainApi`] that answers only what a signing vector recorded the
//! original asking (`sdkRequests`); anything else is an error, so a signer
//! that asks for more, or for something else, fails its test.

use std::sync::Mutex;

use async_trait::async_trait;
use kms_core::{ApiError, ApiRequest, ChainApi, HttpMethod};
use serde_json::{json, Value};

/// The replaying [`ChainApi`]; it also remembers what it was asked.
pub struct Replay {
    recorded: Vec<Value>,
    asked: Mutex<Vec<String>>,
}

impl Replay {
    /// `recorded`: a vector's `sdkRequests` (`{method, url, body, answer}`).
    pub fn new(recorded: &Value) -> Self {
        Self {
            recorded: recorded.as_array().cloned().unwrap_or_default(),
            asked: Mutex::new(vec![]),
        }
    }

    /// Every request made so far, as `"METHOD path"`.
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

/// JSON-RPC bodies match on method and params (ids differ per run).
fn rpc_key(body: &Value) -> Value {
    json!({"method": body["method"], "params": body["params"]})
}

#[async_trait]
impl ChainApi for Replay {
    async fn call(&self, request: ApiRequest) -> Result<Value, ApiError> {
        let method = match request.method {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        };
        self.asked
            .lock()
            .unwrap()
            .push(format!("{method} {}", request.path));
        for r in &self.recorded {
            let same_body = match (&request.body, r.get("body")) {
                (Some(b), Some(rb)) if rb.get("jsonrpc").is_some() => rpc_key(b) == rpc_key(rb),
                (Some(b), Some(rb)) => b == rb,
                (None, None) | (None, Some(Value::Null)) => true,
                _ => false,
            };
            if r["method"] == method && r["url"] == request.path && same_body {
                let mut answer = r["answer"].clone();
                if let (Some(id), Some(obj)) = (
                    request.body.as_ref().and_then(|b| b.get("id")),
                    answer.as_object_mut(),
                ) {
                    obj.insert("id".into(), id.clone());
                }
                return Ok(answer);
            }
        }
        Err(ApiError::Transport {
            path: request.path,
            message: format!(
                "not recorded: {}",
                request.body.map(|b| b.to_string()).unwrap_or_default()
            ),
        })
    }
}
