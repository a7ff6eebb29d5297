//! The network as signing sees it: a handful of JSON requests, described the
//! way the vectors record them (`sdkRequests`), so a fake can replay them.

use async_trait::async_trait;
use serde_json::Value;

/// Which server a request goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// The Tatum API (`TATUM_API_URL`); paths may contain `{apiKey}`, which
    /// the implementation replaces with the API key.
    Tatum,
    /// A VeChain node (`TATUM_KMS_VET_NODE_URL`), which the original reads directly.
    VetNode,
    /// A Flow access node's REST API (`TATUM_KMS_FLOW_ACCESS_NODE`), through
    /// which the original's SDK (fcl) read sequence numbers and blocks and
    /// sent FLOW transactions.
    FlowAccessNode,
}

/// The HTTP method of an [`ApiRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpMethod {
    /// `GET`, no body.
    Get,
    /// `POST` with a JSON body.
    Post,
}

/// One request, e.g. `POST /v3/ethereum/web3/{apiKey}` with a JSON-RPC body.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiRequest {
    /// The server.
    pub service: Service,
    /// The method.
    pub method: HttpMethod,
    /// Path and query, starting with `/`.
    pub path: String,
    /// The JSON body of a `POST`.
    pub body: Option<Value>,
}

impl ApiRequest {
    /// A `GET`.
    pub fn get(service: Service, path: impl Into<String>) -> Self {
        Self {
            service,
            method: HttpMethod::Get,
            path: path.into(),
            body: None,
        }
    }
    /// A `POST` with a JSON body.
    pub fn post(service: Service, path: impl Into<String>, body: Value) -> Self {
        Self {
            service,
            method: HttpMethod::Post,
            path: path.into(),
            body: Some(body),
        }
    }
    /// A JSON-RPC 2.0 call, as web3/ethers send it.
    pub fn json_rpc(path: impl Into<String>, method: &str, params: Value) -> Self {
        Self::post(
            Service::Tatum,
            path,
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}),
        )
    }
}

/// Why a request to the Tatum API or a node failed: the one error type of
/// every network call the KMS makes to them. Paths are written with
/// `{apiKey}` where the key goes: the key never appears in an error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// Offline signing was asked for something only the network knows.
    #[error("offline: {what} would have to be fetched from the network; add it to the transaction or sign online")]
    Offline {
        /// What would have been asked (a JSON-RPC method, a path).
        what: String,
    },
    /// The API key was refused: every other request would be refused alike.
    #[error("the Tatum API rejected the API key (HTTP {status} on {path}); check TATUM_API_KEY")]
    Unauthorized {
        /// The request's path.
        path: String,
        /// 401 or 403.
        status: u16,
    },
    /// The server answered with an error status.
    #[error("{path}: HTTP {status}: {message}")]
    Status {
        /// The request's path.
        path: String,
        /// The HTTP status.
        status: u16,
        /// The server's message, shortened.
        message: String,
    },
    /// No answer: connection, timeout, TLS.
    #[error("{path}: {message}")]
    Transport {
        /// The request's path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// An answer that is not what the endpoint returns.
    #[error("{path}: unexpected answer: {message}")]
    BadAnswer {
        /// The request's path.
        path: String,
        /// What was wrong with it.
        message: String,
    },
}

impl ApiError {
    /// A refused API key fails every request alike.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, ApiError::Unauthorized { .. })
    }
}

/// How signers reach the network. `kms-tatum-client` implements it over
/// HTTP; tests implement it with recorded answers.
#[async_trait]
pub trait ChainApi: Send + Sync {
    /// Sends the request and returns the JSON answer (for JSON-RPC: the whole
    /// envelope; see [`rpc_result`]).
    async fn call(&self, request: ApiRequest) -> Result<Value, ApiError>;
}

/// Refuses every request: for air-gapped signing.
pub struct OfflineApi;

#[async_trait]
impl ChainApi for OfflineApi {
    async fn call(&self, request: ApiRequest) -> Result<Value, ApiError> {
        let what = match request
            .body
            .as_ref()
            .and_then(|b| b.get("method"))
            .and_then(Value::as_str)
        {
            Some(rpc) => format!("{rpc} ({})", request.path),
            None => request.path.clone(),
        };
        Err(ApiError::Offline { what })
    }
}

/// The `result` of a JSON-RPC answer, or its `error` as an [`ApiError`].
pub fn rpc_result(path: &str, answer: Value) -> Result<Value, ApiError> {
    if let Some(err) = answer.get("error").filter(|e| !e.is_null()) {
        return Err(ApiError::BadAnswer {
            path: path.to_string(),
            message: format!("JSON-RPC error {err}"),
        });
    }
    match answer {
        Value::Object(mut map) => map.remove("result").ok_or_else(|| ApiError::BadAnswer {
            path: path.to_string(),
            message: "JSON-RPC answer without result".into(),
        }),
        _ => Err(ApiError::BadAnswer {
            path: path.to_string(),
            message: "JSON-RPC answer is not an object".into(),
        }),
    }
}
