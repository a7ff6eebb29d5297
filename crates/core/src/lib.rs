//! Domain types shared by the KMS crates.
//!
//! Kept tiny on purpose: every other crate depends on it, so it holds only the
//! vocabulary (`Chain`, `Network`, `SignatureId`, `PendingTransaction`,
//! `WalletEntry`, and the
//! `ChainApi` trait through which signing reaches the network, which
//! `kms-tatum-client` implements) and no cryptography or I/O.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod api;
mod chain;
mod id;
mod intent;
mod network;
mod pending;
mod wallet;

pub use api::{ApiError, ApiRequest, ChainApi, HttpMethod, OfflineApi, Service};
pub use chain::{Chain, UnsupportedChain};
pub use id::SignatureId;
pub use intent::{Intent, Transfer};
pub use network::Network;
pub use pending::{PendingBatch, PendingTransaction, SignatureRef, UnreadablePending};
pub use wallet::{WalletChainError, WalletEntry, WalletKind};
