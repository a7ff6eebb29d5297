//! The Tatum API as the daemon uses it (`../shared/spec/TATUM-API.md`). This
//! crate holds the trait and its vocabulary; the HTTP client (and its
//! implementation of `kms_core::ChainApi`) is built with the daemon.

use async_trait::async_trait;
use kms_core::{Chain, PendingTransaction};

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

#[derive(Debug, thiserror::Error)]
pub enum TatumError {
    #[error("the Tatum API rejected the API key (HTTP {0})")]
    Unauthorized(u16),
    #[error("{path}: HTTP {status}")]
    Status { path: String, status: u16 },
    #[error("{path}: {message}")]
    Transport { path: String, message: String },
}

/// The endpoints of the daemon's cycle.
#[async_trait]
pub trait TatumApi: Send + Sync {
    /// `POST /v3/kms/pending/{chain}` for these signature ids (chunked at 25,000).
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
