//! The Tatum API as the daemon uses it (`TATUM-API.md`): the [`TatumApi`]
//! trait the daemon's cycle is written against, and [`TatumClient`], its
//! HTTP implementation, which is also the [`kms_core::ChainApi`] signers
//! fetch nonces, fees and blockhashes through.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod client;
mod version;

use async_trait::async_trait;
use kms_core::{Chain, PendingBatch, SignatureId};

pub use kms_core::ApiError;

pub use client::{
    ClientConfig, RetryPolicy, TatumClient, MAX_ANSWER_BYTES, MAX_PENDING_ANSWER_BYTES,
};
pub use version::{is_newer, VersionNotice, VersionNoticeLog};

/// The most signature ids one pending request carries: the API's limit
/// (the original skipped a chain above it; we split the request).
pub const MAX_IDS_PER_REQUEST: usize = 25_000;

/// What the Tatum API answered to a broadcast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broadcast {
    /// The chain's transaction id, when the API gave one.
    pub tx_id: Option<String>,
    /// The API's `failed` flag: it took the transaction but could not send it.
    pub failed: bool,
}

/// A failed transaction of a cycle, as `POST /v3/tatum/kms/batch` takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportedError {
    /// The pending transaction's id (the API calls it `signatureId` here).
    pub signature_id: String,
    /// What went wrong, for the API's records.
    pub error: String,
}

/// The endpoints of the daemon's cycle.
#[async_trait]
pub trait TatumApi: Send + Sync {
    /// `POST /v3/kms/pending/{chain}` for these signature ids, in requests
    /// of at most [`MAX_IDS_PER_REQUEST`] ids.
    /// Entries that cannot be read come back in [`PendingBatch::unreadable`].
    async fn pending(
        &self,
        chain: Chain,
        signature_ids: &[SignatureId],
    ) -> Result<PendingBatch, ApiError>;
    /// `POST /v3/{path}/broadcast`.
    async fn broadcast(
        &self,
        chain: Chain,
        tx_data: &str,
        signature_id: &str,
    ) -> Result<Broadcast, ApiError>;
    /// `POST /v3/offchain/withdrawal/broadcast`.
    async fn offchain_broadcast(
        &self,
        chain: Chain,
        tx_data: &str,
        withdrawal_id: &str,
        signature_id: &str,
    ) -> Result<Broadcast, ApiError>;
    /// `POST /v3/tatum/kms/batch`.
    async fn report_errors(&self, errors: &[ReportedError]) -> Result<(), ApiError>;
    /// The newest `x-ttm-kms-latest-version` notice the API sent, if any.
    fn latest_version(&self) -> Option<VersionNotice> {
        None
    }
}
