//! The four-eye check. This crate holds the trait and its vocabulary; the
//! HTTP approver (`GET`/`POST {externalUrl}/{id}`, optional HMAC-signed
//! requests and answers) is built with the daemon.

use async_trait::async_trait;
use kms_core::PendingTransaction;

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
