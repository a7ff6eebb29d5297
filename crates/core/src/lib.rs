//! Domain types shared by the KMS crates.
//!
//! Kept tiny on purpose: every other crate depends on it, so it holds only the
//! vocabulary (`Chain`, `PendingTransaction`, `WalletEntry`) and no behaviour
//! that needs cryptography or I/O.

mod chain;
mod pending;
mod wallet;

pub use chain::{Chain, UnsupportedChain};
pub use pending::{PendingTransaction, SignatureRef};
pub use wallet::{WalletEntry, WalletKind};
