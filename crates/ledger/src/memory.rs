//! The ledger in memory: one process, nothing survives it. Its rules are
//! the shared ones of `engine.rs`, as the file's and PostgreSQL's
//! (the conformance tests run the same cases on all three).

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::audit::{AuditEntry, AuditFilter, GENESIS_HASH};
use crate::engine::{self, Append, Row};
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
    /// Stores `row` (when the rules changed it) and appends `append`.
    fn write(&mut self, row: Option<Row>, append: Option<Append>, now: i64) {
        if let Some(row) = row {
            self.rows.insert(row.subject.id.clone(), row);
        }
        if let Some(append) = append {
            let (seq, prev) = match self.entries.last() {
                Some(last) => (last.seq, last.hash.clone()),
                None => self.anchor.clone().unwrap_or((0, GENESIS_HASH.to_owned())),
            };
            self.entries.push(append.seal(seq + 1, now, &prev));
        }
    }
}

/// The rules are the shared ones (`engine.rs`), as the SQL backends'; this
/// backend only keeps the rows and the trail in memory, under one lock.
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
        let row = inner.rows.get(&subject.id).cloned();
        let plan = engine::claim(row, subject, replica, lease, now);
        inner.write(plan.row, plan.append, now);
        Ok(plan.answer)
    }

    async fn renew(&self, lease: &Lease, duration: Duration) -> Result<(), LedgerError> {
        let mut inner = self.inner.lock().await;
        let now = now_ms();
        let mut row = engine::held(inner.rows.get(&lease.id).cloned(), lease, now)?;
        row.lease_until_ms = now.saturating_add(engine::lease_ms(duration));
        inner.write(Some(row), None, now);
        Ok(())
    }

    async fn record(&self, lease: &Lease, step: Step) -> Result<(), LedgerError> {
        let mut inner = self.inner.lock().await;
        let now = now_ms();
        let row = inner.rows.get(&lease.id).cloned();
        if let Some((row, append)) = engine::record(row, lease, step, now)? {
            inner.write(Some(row), Some(append), now);
        }
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
