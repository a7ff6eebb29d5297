//! Signs Tatum pending transactions with the keys of a `wallet.dat`.
//!
//! * [`WalletSigner`]: open a store, sign a pending transaction (offline
//!   with no async runtime, or online); the entry point for most embedders.
//! * [`scope`]: which wallets may sign a transaction the API handed over.
//! * [`policy`]: a local policy (chains, networks, fee and amount caps,
//!   destinations, hourly rate), judged on the decoded intent.
//! * [`keys`]: which stored keys sign a pending transaction, the rules of
//!   the original tatum-kms, in one place.
//! * [`pipeline`]: the stages every signature goes through (choose keys,
//!   fetch network facts, sign, submit), shared by `signpending`, the
//!   daemon and embedders.
//! * [`daemon`]: the signing daemon's cycle, driven by a [`DaemonConfig`]
//!   and the Tatum API trait.

#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod daemon;
pub mod keys;
pub mod pipeline;
pub mod policy;
pub mod scope;
mod simple;

pub use daemon::{
    ledger_subject, CycleReport, Daemon, DaemonConfig, DaemonLock, Health, LockError, Metrics,
    Stopper,
};
pub use keys::{KeyError, KeySelector, SigningKeys};
pub use kms_chain_signers::{SignedTx, Submitted};
pub use kms_core::{Chain, Network, PendingTransaction, SignatureId};
pub use pipeline::{PreparedTransaction, SignError};
pub use policy::{Policy, PolicyFileError, Violation};
pub use scope::{Scope, ScopeError};
pub use simple::{Error, WalletSigner};

/// This version of the KMS, as the Tatum API's version notices compare it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
