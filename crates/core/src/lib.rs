//! Domain types shared by the KMS crates.
//!
//! Kept tiny on purpose: every other crate depends on it, so it holds only the
//! vocabulary (`Chain`, `PendingTransaction`, `WalletEntry`, and the
//! `ChainApi` trait through which signing reaches the network, which
//! `kms-tatum-client` implements) and no cryptography or I/O.

pub mod api;
mod chain;
mod pending;
mod wallet;

pub use api::{ApiError, ApiRequest, ChainApi, HttpMethod, OfflineApi, Service};
pub use chain::{Chain, UnsupportedChain};
pub use pending::{PendingTransaction, SignatureRef};
pub use wallet::{WalletEntry, WalletKind};
