//! The signing ledger: the record every replica consults before it signs.
//!
//! Per pending transaction id it holds who has claimed it (replica, lease,
//! fencing epoch), what the approver answered and about which digest, the
//! exact bytes signed for it, and whether they were submitted or why the
//! attempt failed. Every change is also appended to a hash-chained audit
//! trail ([`AuditEntry`]), which [`verify`] checks.
//!
//! The rules, the same for every backend (see [`Ledger`]):
//! * a replica signs an id only while it holds a live claim on it
//!   ([`Ledger::claim`]); an expired claim can be taken over, and taking
//!   over raises the epoch, so the slow former holder's writes are refused
//!   ([`LedgerError::LeaseLost`]);
//! * once bytes are recorded as signed, every later claim returns them
//!   ([`Claim::Granted::signed`]) and recording different bytes is refused,
//!   except as [`Step::Resigned`], for a transaction shown never to land;
//! * the same id handed over with a different transaction is a
//!   [`Claim::Conflict`]: nothing new is signed for it.
//!
//! Secrets never enter the ledger: it holds ids, digests, signed
//! transactions (public once broadcast) and reasons.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod audit;
#[doc(hidden)]
pub mod conformance;
mod engine;
mod memory;
mod postgres;
mod sqlite;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use audit::{
    canonical_json, verify, AuditEntry, AuditFilter, EntryKind, Verification, GENESIS_HASH,
};
pub use memory::MemoryLedger;
pub use postgres::{PostgresLedger, PostgresUrl, POSTGRES_SCHEMA_VERSION};
pub use sqlite::{FileLedger, FILE_SCHEMA_VERSION};

/// What a pending transaction is, as far as the ledger is concerned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The pending transaction's id (the Tatum API's signature id).
    pub id: String,
    /// The chain, as the CLI names it (`BTC`, `SOL`...).
    pub chain: String,
    /// `mainnet` or `testnet`.
    pub network: String,
    /// The stored wallets whose keys sign it (signature ids).
    pub wallets: Vec<String>,
    /// `sha256:` and the hex SHA-256 of the pending transaction as the API
    /// handed it over: the same id handed over again with other content is
    /// a [`Claim::Conflict`].
    pub request_digest: String,
}

/// A claim held by one replica: pass it to every [`Ledger::record`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The pending transaction's id.
    pub id: String,
    /// The replica holding it.
    pub replica: String,
    /// Raised by every claim of the id: a write with an older epoch comes
    /// from a replica whose claim was taken over, and is refused.
    pub epoch: u64,
}

/// The exact transaction signed for a pending id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedRecord {
    /// What goes to the broadcast endpoint (`txData`).
    pub tx_data: String,
    /// The wire transaction first sent to a node, where the chain does so (SOL).
    pub node_submission: Option<String>,
    /// `sha256:` hex of what leaves the KMS: what the approver approved.
    pub digest: String,
    /// The network facts it was signed with (nonce, blockhash and its last
    /// valid block height...), to tell later whether it can still land.
    pub facts: serde_json::Value,
}

/// The answer to [`Ledger::claim`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This replica holds the id until the lease runs out.
    Granted {
        /// Pass to [`Ledger::record`] and [`Ledger::renew`].
        lease: Lease,
        /// Bytes signed earlier for this id (by any replica): submit
        /// exactly these, never sign anew (but see [`Step::Resigned`]).
        signed: Option<SignedRecord>,
        /// The replica whose expired claim was taken over, if any.
        took_over: Option<String>,
    },
    /// Another replica holds a live claim.
    Held {
        /// Who holds it.
        replica: String,
        /// When its lease runs out, in Unix milliseconds.
        until_ms: i64,
    },
    /// Already submitted: nothing is left to do for it.
    Submitted {
        /// The transaction id the broadcast answered, if it did.
        tx_id: Option<String>,
    },
    /// The id was handed over before with another transaction. The API
    /// answers are not trusted: nothing is signed for it.
    Conflict {
        /// The digest recorded at the id's first claim.
        recorded: String,
    },
}

/// A step recorded under a lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The approver approved `digest`; `seen` is what it was shown (the
    /// intent), kept for the audit trail.
    Approved {
        /// The digest approved.
        digest: String,
        /// What the approver was shown.
        seen: serde_json::Value,
    },
    /// The approver refused (or could not be asked): the claim ends, the
    /// id may be claimed again.
    Rejected {
        /// The digest refused.
        digest: String,
        /// Why.
        reason: String,
    },
    /// Signed: from now on these bytes are the id's. Refused with
    /// [`LedgerError::AlreadySigned`] if other bytes were recorded.
    Signed(SignedRecord),
    /// Signed anew, replacing `superseded`: only for a transaction shown
    /// never to land (a SOL transaction whose blockhash expired and which
    /// the node does not have). Both stay in the audit trail.
    Resigned {
        /// The new transaction.
        record: SignedRecord,
        /// The digest of the transaction it replaces, which must be the
        /// one recorded.
        superseded: String,
        /// How it was shown never to land.
        evidence: String,
    },
    /// Submitted: the claim ends and the id is done.
    Submitted {
        /// The transaction id the broadcast answered.
        tx_id: Option<String>,
    },
    /// Failed: the claim ends; signed bytes, if any, stay the id's.
    Failed {
        /// Why.
        reason: String,
    },
}

impl Step {
    /// Whether this step records signed bytes: the one change a ledger
    /// must never lose (others may be lost with the last moments before a
    /// crash of the machine; see the backends).
    pub fn is_signature(&self) -> bool {
        matches!(self, Step::Signed(_) | Step::Resigned { .. })
    }
}

/// Why the ledger did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The claim ran out and another replica took the id over (or the
    /// lease is unknown): this replica must not go on with it.
    #[error("the claim on {id} is no longer held by this replica (taken over, or expired)")]
    LeaseLost {
        /// The pending transaction's id.
        id: String,
    },
    /// Other bytes were already signed for the id.
    #[error("other bytes were already signed for {id} (recorded digest {recorded})")]
    AlreadySigned {
        /// The pending transaction's id.
        id: String,
        /// The digest recorded.
        recorded: String,
    },
    /// A [`Step::Resigned`] named a transaction that is not the recorded one.
    #[error("{id}: the transaction to replace is not the one recorded")]
    NotSuperseding {
        /// The pending transaction's id.
        id: String,
    },
    /// The ledger cannot be reached or answered an error: nothing may be
    /// signed until it is back.
    #[error("the ledger is unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// What the ledger holds cannot be read (a damaged file, a schema from
    /// a newer version...).
    #[error("the ledger holds unreadable data: {0}")]
    Corrupt(String),
}

/// A signing ledger. Implementations: [`MemoryLedger`] (tests, one process),
/// [`FileLedger`] (the embedded file) and [`PostgresLedger`]; [`open`]
/// picks one from `--ledger`.
#[async_trait]
pub trait Ledger: Send + Sync {
    /// Claims `subject.id` for `replica` until `lease` from now, atomically
    /// across every replica sharing the ledger. Granted when nobody holds a
    /// live claim; `replica` claiming again takes its own claim over (a
    /// restarted process).
    async fn claim(
        &self,
        subject: &Subject,
        replica: &str,
        lease: Duration,
    ) -> Result<Claim, LedgerError>;

    /// Extends a held claim to `lease` from now.
    async fn renew(&self, lease: &Lease, duration: Duration) -> Result<(), LedgerError>;

    /// Records `step` under a live claim; refused with
    /// [`LedgerError::LeaseLost`] when the claim is no longer this one.
    async fn record(&self, lease: &Lease, step: Step) -> Result<(), LedgerError>;

    /// Audit entries in order, filtered.
    async fn entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, LedgerError>;

    /// Where the audit trail starts, for [`verify`]: `(0, GENESIS_HASH)`
    /// for a trail never pruned, else the last removed entry's position and
    /// hash.
    async fn anchor(&self) -> Result<(u64, String), LedgerError>;

    /// Removes the audit entries written before `before_ms` (Unix ms) and
    /// the state of ids submitted before it, keeping the trail verifiable
    /// from the new [`Ledger::anchor`]. Returns how many entries went.
    /// Only for ids the Tatum API can no longer hand over: an id whose
    /// state is gone would be signed again.
    async fn prune(&self, before_ms: i64) -> Result<u64, LedgerError>;

    /// Whether the ledger answers (for `/healthz`).
    async fn check(&self) -> Result<(), LedgerError>;
}

/// Whether the ledger `spec` names is shared by replicas (PostgreSQL):
/// what [`open`] opens as a [`PostgresLedger`].
pub fn is_shared(spec: &str) -> bool {
    let spec = spec.trim();
    spec.starts_with("postgres://") || spec.starts_with("postgresql://")
}

/// Opens the ledger `spec` names (`--ledger`, `TATUM_KMS_LEDGER`):
/// `postgres://…` or `postgresql://…` is the shared [`PostgresLedger`];
/// `file:PATH` is a [`FileLedger`] at `PATH`, and an empty spec one at
/// `default_file` (`wallet.dat.ledger` beside the store); `memory:` a
/// [`MemoryLedger`] that keeps nothing (benchmarks, tests). Anything else is
/// refused as [`LedgerError::Unavailable`], the error that keeps the daemon
/// from signing; a PostgreSQL URL in it shows without its password.
pub async fn open(
    spec: &str,
    default_file: &std::path::Path,
) -> Result<std::sync::Arc<dyn Ledger>, LedgerError> {
    let spec = spec.trim();
    if spec == "memory:" {
        return Ok(std::sync::Arc::new(MemoryLedger::new()));
    }
    if is_shared(spec) {
        let ledger = PostgresLedger::connect(PostgresUrl::new(spec)).await?;
        return Ok(std::sync::Arc::new(ledger));
    }
    let path = match spec.strip_prefix("file:") {
        Some(path) if !path.is_empty() => std::path::PathBuf::from(path),
        Some(_) => default_file.to_owned(),
        None if spec.is_empty() => default_file.to_owned(),
        None => {
            return Err(LedgerError::Unavailable(
                "a ledger is `postgres://…`, `postgresql://…`, `file:PATH`, `memory:` (nothing kept: benchmarks), or empty for the file beside wallet.dat"
                    .into(),
            ))
        }
    };
    Ok(std::sync::Arc::new(FileLedger::open(path).await?))
}

/// How long a claim lasts unless renewed. A replica renews while it works;
/// a replica that dies leaves its ids to the others after this.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
