//! The reference ledger, in memory: one process, nothing survives it. The
//! file and PostgreSQL backends behave exactly like it (the conformance
//! tests run the same cases on all three).

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::audit::{AuditEntry, AuditFilter, EntryKind, GENESIS_HASH};
use crate::{Claim, Lease, Ledger, LedgerError, SignedRecord, Step, Subject};

/// A ledger in memory.
#[derive(Default)]
pub struct MemoryLedger {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    rows: HashMap<String, Row>,
    entries: Vec<AuditEntry>,
    anchor: Option<(u64, String)>,
}

struct Row {
    subject: Subject,
    replica: String,
    epoch: u64,
    lease_until_ms: i64,
    /// The claim ended (submitted, failed, rejected): nobody holds it.
    released: bool,
    signed: Option<SignedRecord>,
    submitted: Option<(Option<String>, i64)>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> MemoryLedger {
        MemoryLedger::default()
    }
}

/// Milliseconds since the Unix epoch, by this machine's clock.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2)
}

/// The detail recorded for a signed transaction.
pub(crate) fn signed_detail(record: &SignedRecord) -> Value {
    json!({
        "digest": record.digest,
        "txData": record.tx_data,
        "nodeSubmission": record.node_submission,
        "facts": record.facts,
    })
}

impl Inner {
    fn append(&mut self, subject: &Subject, replica: &str, kind: EntryKind, detail: Value) {
        let (seq, prev) = match self.entries.last() {
            Some(last) => (last.seq, last.hash.clone()),
            None => self.anchor.clone().unwrap_or((0, GENESIS_HASH.to_owned())),
        };
        let entry = AuditEntry {
            seq: seq + 1,
            at_ms: now_ms(),
            id: subject.id.clone(),
            chain: subject.chain.clone(),
            network: subject.network.clone(),
            wallets: subject.wallets.clone(),
            replica: replica.to_owned(),
            kind,
            detail,
            prev_hash: String::new(),
            hash: String::new(),
        }
        .seal(&prev);
        self.entries.push(entry);
    }

    /// The row `lease` names, if the lease is still the live claim on it.
    fn held(&mut self, lease: &Lease) -> Result<&mut Row, LedgerError> {
        let now = now_ms();
        match self.rows.get_mut(&lease.id) {
            Some(row)
                if row.epoch == lease.epoch
                    && row.replica == lease.replica
                    && !row.released
                    && row.lease_until_ms > now =>
            {
                Ok(row)
            }
            _ => Err(LedgerError::LeaseLost {
                id: lease.id.clone(),
            }),
        }
    }
}

#[async_trait]
impl Ledger for MemoryLedger {
    async fn claim(
        &self,
        subject: &Subject,
        replica: &str,
        lease: Duration,
    ) -> Result<Claim, LedgerError> {
        let mut inner = self.inner.lock().await;
        let now = now_ms();
        let until = now.saturating_add(lease_ms(lease));
        let Some(row) = inner.rows.get_mut(&subject.id) else {
            inner.rows.insert(
                subject.id.clone(),
                Row {
                    subject: subject.clone(),
                    replica: replica.to_owned(),
                    epoch: 1,
                    lease_until_ms: until,
                    released: false,
                    signed: None,
                    submitted: None,
                },
            );
            inner.append(
                subject,
                replica,
                EntryKind::Claimed,
                json!({"epoch": 1, "leaseUntilMs": until}),
            );
            return Ok(Claim::Granted {
                lease: Lease {
                    id: subject.id.clone(),
                    replica: replica.to_owned(),
                    epoch: 1,
                },
                signed: None,
                took_over: None,
            });
        };
        if row.subject.request_digest != subject.request_digest {
            let recorded = row.subject.request_digest.clone();
            inner.append(
                subject,
                replica,
                EntryKind::Conflict,
                json!({"recorded": recorded, "offered": subject.request_digest}),
            );
            return Ok(Claim::Conflict { recorded });
        }
        if let Some((tx_id, _)) = &row.submitted {
            return Ok(Claim::Submitted {
                tx_id: tx_id.clone(),
            });
        }
        if !row.released && row.lease_until_ms > now && row.replica != replica {
            return Ok(Claim::Held {
                replica: row.replica.clone(),
                until_ms: row.lease_until_ms,
            });
        }
        let took_over = (!row.released && row.replica != replica).then(|| row.replica.clone());
        row.epoch += 1;
        row.replica = replica.to_owned();
        row.lease_until_ms = until;
        row.released = false;
        let (epoch, signed, recorded) = (row.epoch, row.signed.clone(), row.subject.clone());
        inner.append(
            &recorded,
            replica,
            EntryKind::Claimed,
            json!({"epoch": epoch, "leaseUntilMs": until, "tookOver": took_over}),
        );
        Ok(Claim::Granted {
            lease: Lease {
                id: subject.id.clone(),
                replica: replica.to_owned(),
                epoch,
            },
            signed,
            took_over,
        })
    }

    async fn renew(&self, lease: &Lease, duration: Duration) -> Result<(), LedgerError> {
        let mut inner = self.inner.lock().await;
        let row = inner.held(lease)?;
        row.lease_until_ms = now_ms().saturating_add(lease_ms(duration));
        Ok(())
    }

    async fn record(&self, lease: &Lease, step: Step) -> Result<(), LedgerError> {
        let mut inner = self.inner.lock().await;
        let row = inner.held(lease)?;
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
                        return Ok(());
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
                row.submitted = Some((tx_id.clone(), now_ms()));
                (EntryKind::Submitted, json!({"txId": tx_id}))
            }
            Step::Failed { reason } => {
                row.released = true;
                (EntryKind::Failed, json!({"reason": reason}))
            }
        };
        let subject = row.subject.clone();
        inner.append(&subject, &lease.replica, kind, detail);
        Ok(())
    }

    async fn entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, LedgerError> {
        let inner = self.inner.lock().await;
        Ok(inner
            .entries
            .iter()
            .filter(|e| filter.matches(e))
            .take(filter.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect())
    }

    async fn anchor(&self) -> Result<(u64, String), LedgerError> {
        let inner = self.inner.lock().await;
        Ok(inner.anchor.clone().unwrap_or((0, GENESIS_HASH.to_owned())))
    }

    async fn prune(&self, before_ms: i64) -> Result<u64, LedgerError> {
        let mut inner = self.inner.lock().await;
        let cut = inner
            .entries
            .iter()
            .rposition(|e| e.at_ms < before_ms)
            .map_or(0, |i| i + 1);
        if cut == 0 {
            return Ok(0);
        }
        let last = &inner.entries[cut - 1];
        inner.anchor = Some((last.seq, last.hash.clone()));
        inner.entries.drain(..cut);
        inner
            .rows
            .retain(|_, row| !matches!(row.submitted, Some((_, at)) if at < before_ms));
        Ok(cut as u64)
    }

    async fn check(&self) -> Result<(), LedgerError> {
        Ok(())
    }
}
