//! The ledger's rules as pure functions over one id's stored state, for
//! every backend: each reads the row inside its write transaction (or
//! lock), asks these what to answer and what to write, and writes it in
//! the same transaction. One copy of the rules, so the audit entries'
//! details, which are hashed, are the same whichever backend wrote them;
//! the conformance cases check each backend's storage around them.

use std::time::Duration;

use serde_json::{json, Value};

use crate::audit::{AuditEntry, EntryKind};
use crate::memory::signed_detail;
use crate::{Claim, Lease, LedgerError, SignedRecord, Step, Subject};

/// One id's state, as the SQL backends store it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Row {
    /// The subject of the id's first claim.
    pub(crate) subject: Subject,
    pub(crate) replica: String,
    pub(crate) epoch: u64,
    pub(crate) lease_until_ms: i64,
    /// The claim ended (submitted, failed, rejected): nobody holds it.
    pub(crate) released: bool,
    pub(crate) signed: Option<SignedRecord>,
    /// Submitted: the broadcast's tx id, if any, and when (Unix ms).
    pub(crate) submitted: Option<(Option<String>, i64)>,
}

/// An audit entry to append: sealed by the backend, which knows the
/// trail's head.
#[derive(Debug)]
pub(crate) struct Append {
    pub(crate) subject: Subject,
    pub(crate) replica: String,
    pub(crate) kind: EntryKind,
    pub(crate) detail: Value,
}

impl Append {
    /// The entry at `seq`, after `prev_hash`, written at `at_ms`.
    pub(crate) fn seal(self, seq: u64, at_ms: i64, prev_hash: &str) -> AuditEntry {
        AuditEntry {
            seq,
            at_ms,
            id: self.subject.id,
            chain: self.subject.chain,
            network: self.subject.network,
            wallets: self.subject.wallets,
            replica: self.replica,
            kind: self.kind,
            detail: self.detail,
            prev_hash: String::new(),
            hash: String::new(),
        }
        .seal(prev_hash)
    }
}

/// What a claim answers and writes.
#[derive(Debug)]
pub(crate) struct ClaimPlan {
    pub(crate) answer: Claim,
    /// The row's new state, when it changes.
    pub(crate) row: Option<Row>,
    pub(crate) append: Option<Append>,
}

pub(crate) fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2)
}

/// [`crate::Ledger::claim`] of `subject` by `replica` at `now_ms`, the id's
/// row being `row`.
pub(crate) fn claim(
    row: Option<Row>,
    subject: &Subject,
    replica: &str,
    lease: Duration,
    now_ms: i64,
) -> ClaimPlan {
    let until = now_ms.saturating_add(lease_ms(lease));
    let Some(mut row) = row else {
        return ClaimPlan {
            answer: Claim::Granted {
                lease: Lease {
                    id: subject.id.clone(),
                    replica: replica.to_owned(),
                    epoch: 1,
                },
                signed: None,
                took_over: None,
            },
            row: Some(Row {
                subject: subject.clone(),
                replica: replica.to_owned(),
                epoch: 1,
                lease_until_ms: until,
                released: false,
                signed: None,
                submitted: None,
            }),
            append: Some(Append {
                subject: subject.clone(),
                replica: replica.to_owned(),
                kind: EntryKind::Claimed,
                detail: json!({"epoch": 1, "leaseUntilMs": until}),
            }),
        };
    };
    if row.subject.request_digest != subject.request_digest {
        let recorded = row.subject.request_digest.clone();
        return ClaimPlan {
            append: Some(Append {
                subject: subject.clone(),
                replica: replica.to_owned(),
                kind: EntryKind::Conflict,
                detail: json!({"recorded": recorded, "offered": subject.request_digest}),
            }),
            answer: Claim::Conflict { recorded },
            row: None,
        };
    }
    if let Some((tx_id, _)) = &row.submitted {
        return ClaimPlan {
            answer: Claim::Submitted {
                tx_id: tx_id.clone(),
            },
            row: None,
            append: None,
        };
    }
    if !row.released && row.lease_until_ms > now_ms && row.replica != replica {
        return ClaimPlan {
            answer: Claim::Held {
                replica: row.replica,
                until_ms: row.lease_until_ms,
            },
            row: None,
            append: None,
        };
    }
    let took_over = (!row.released && row.replica != replica).then(|| row.replica.clone());
    row.epoch += 1;
    row.replica = replica.to_owned();
    row.lease_until_ms = until;
    row.released = false;
    ClaimPlan {
        answer: Claim::Granted {
            lease: Lease {
                id: subject.id.clone(),
                replica: replica.to_owned(),
                epoch: row.epoch,
            },
            signed: row.signed.clone(),
            took_over: took_over.clone(),
        },
        append: Some(Append {
            subject: row.subject.clone(),
            replica: replica.to_owned(),
            kind: EntryKind::Claimed,
            detail: json!({"epoch": row.epoch, "leaseUntilMs": until, "tookOver": took_over}),
        }),
        row: Some(row),
    }
}

/// The row `lease` names, if the lease is still the live claim on it.
pub(crate) fn held(row: Option<Row>, lease: &Lease, now_ms: i64) -> Result<Row, LedgerError> {
    match row {
        Some(row)
            if row.epoch == lease.epoch
                && row.replica == lease.replica
                && !row.released
                && row.lease_until_ms > now_ms =>
        {
            Ok(row)
        }
        _ => Err(LedgerError::LeaseLost {
            id: lease.id.clone(),
        }),
    }
}

/// [`crate::Ledger::record`] of `step` under `lease` at `now_ms`: the row's
/// new state and the entry to append, or `None` when there is nothing to
/// write (the same bytes recorded as signed again).
pub(crate) fn record(
    row: Option<Row>,
    lease: &Lease,
    step: Step,
    now_ms: i64,
) -> Result<Option<(Row, Append)>, LedgerError> {
    let mut row = held(row, lease, now_ms)?;
    let (kind, detail) = match step {
        Step::Approved { digest, seen } => {
            (EntryKind::Approved, json!({"digest": digest, "seen": seen}))
        }
        Step::Rejected { digest, reason } => {
            row.released = true;
            (
                EntryKind::Rejected,
                json!({"digest": digest, "reason": reason}),
            )
        }
        Step::Signed(record) => {
            if let Some(earlier) = &row.signed {
                if *earlier == record {
                    return Ok(None);
                }
                return Err(LedgerError::AlreadySigned {
                    id: lease.id.clone(),
                    recorded: earlier.digest.clone(),
                });
            }
            let detail = signed_detail(&record);
            row.signed = Some(record);
            (EntryKind::Signed, detail)
        }
        Step::Resigned {
            record,
            superseded,
            evidence,
        } => {
            if row.signed.as_ref().map(|s| &s.digest) != Some(&superseded) {
                return Err(LedgerError::NotSuperseding {
                    id: lease.id.clone(),
                });
            }
            let mut detail = signed_detail(&record);
            detail["superseded"] = json!(superseded);
            detail["evidence"] = json!(evidence);
            row.signed = Some(record);
            (EntryKind::Resigned, detail)
        }
        Step::Submitted { tx_id } => {
            row.released = true;
            row.submitted = Some((tx_id.clone(), now_ms));
            (EntryKind::Submitted, json!({"txId": tx_id}))
        }
        Step::Failed { reason } => {
            row.released = true;
            (EntryKind::Failed, json!({"reason": reason}))
        }
    };
    let append = Append {
        subject: row.subject.clone(),
        replica: lease.replica.clone(),
        kind,
        detail,
    };
    Ok(Some((row, append)))
}

/// A stored JSON column back to its value, or [`LedgerError::Corrupt`]
/// naming the column.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, LedgerError> {
    serde_json::from_str(text).map_err(|e| LedgerError::Corrupt(format!("{what}: {e}")))
}

/// A stored entry kind back to its kind.
pub(crate) fn parse_kind(name: &str) -> Result<EntryKind, LedgerError> {
    EntryKind::parse(name)
        .ok_or_else(|| LedgerError::Corrupt(format!("unknown entry kind {name:?}")))
}

/// A stored sequence number or epoch (signed in SQL) back to unsigned.
pub(crate) fn unsigned(value: i64, what: &str) -> Result<u64, LedgerError> {
    u64::try_from(value).map_err(|_| LedgerError::Corrupt(format!("{what} is negative: {value}")))
}

/// An unsigned sequence number or epoch for an SQL BIGINT.
pub(crate) fn signed_int(value: u64, what: &str) -> Result<i64, LedgerError> {
    i64::try_from(value)
        .map_err(|_| LedgerError::Corrupt(format!("{what} is out of range: {value}")))
}
