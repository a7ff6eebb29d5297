//! The Tatum API as the daemon uses it (`TATUM-API.md`): the [`TatumApi`]
//! trait the daemon's cycle is written against, and [`TatumClient`], its
//! HTTP implementation, which is also the [`kms_core::ChainApi`] signers
//! fetch nonces, fees and blockhashes through.

mod client;
mod version;

use async_trait::async_trait;
use kms_core::{Chain, PendingTransaction};

pub use client::{ClientConfig, RetryPolicy, TatumClient};
pub use version::{is_newer, VersionNotice};

/// The most signature ids one pending request carries: the API's limit
/// (the original skipped a chain above it; we split the request).
pub const MAX_IDS_PER_REQUEST: usize = 25_000;

/// What the Tatum API answered to a broadcast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broadcast {
    pub tx_id: Option<String>,
    pub failed: bool,
}

/// A failed transaction of a cycle, as `POST /v3/tatum/kms/batch` takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportedError {
    pub signature_id: String,
    pub error: String,
}

/// Why a request failed. Paths are written with `{apiKey}` where the key
/// goes: the key never appears in an error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TatumError {
    #[error("the Tatum API rejected the API key (HTTP {status} on {path}); check TATUM_API_KEY")]
    Unauthorized { path: String, status: u16 },
    #[error("{path}: HTTP {status}: {message}")]
    Status {
        path: String,
        status: u16,
        message: String,
    },
    #[error("{path}: {message}")]
    Transport { path: String, message: String },
    #[error("{path}: unexpected answer: {message}")]
    BadAnswer { path: String, message: String },
}

impl TatumError {
    /// A bad API key fails every request alike: the cycle stops at the first.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, TatumError::Unauthorized { .. })
    }
}

/// The endpoints of the daemon's cycle.
#[async_trait]
pub trait TatumApi: Send + Sync {
    /// `POST /v3/kms/pending/{chain}` for these signature ids, in requests
    /// of at most [`MAX_IDS_PER_REQUEST`] ids.
    async fn pending(
        &self,
        chain: Chain,
        signature_ids: &[String],
    ) -> Result<Vec<PendingTransaction>, TatumError>;
    /// `POST /v3/{path}/broadcast`.
    async fn broadcast(
        &self,
        chain: Chain,
        tx_data: &str,
        signature_id: &str,
    ) -> Result<Broadcast, TatumError>;
    /// `POST /v3/offchain/withdrawal/broadcast`.
    async fn offchain_broadcast(
        &self,
        chain: Chain,
        tx_data: &str,
        withdrawal_id: &str,
        signature_id: &str,
    ) -> Result<Broadcast, TatumError>;
    /// `POST /v3/tatum/kms/batch`.
    async fn report_errors(&self, errors: &[ReportedError]) -> Result<(), TatumError>;
}
