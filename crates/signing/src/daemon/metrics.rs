//! The daemon's counters: what `/metrics` shows (Prometheus text) and what
//! `/healthz` decides on. Serving them is the embedder's choice.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The daemon's health, as `/healthz` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Cycles keep completing and the ledger answers.
    Ok,
    /// No cycle completed for a while.
    Stale,
    /// The signing ledger does not answer: nothing is signed.
    LedgerDown,
}

/// Counters of a running daemon, shared with whatever serves them.
#[derive(Default)]
pub struct Metrics {
    cycles: AtomicU64,
    cycles_failed: AtomicU64,
    pending_seen: AtomicU64,
    signed: AtomicU64,
    rejected: AtomicU64,
    failed: AtomicU64,
    refused: AtomicU64,
    held_elsewhere: AtomicU64,
    resubmitted: AtomicU64,
    ledger_errors: AtomicU64,
    /// 1 while the signing ledger answers (0 after a failed call, until
    /// one succeeds).
    ledger_down: std::sync::atomic::AtomicBool,
    api_requests: AtomicU64,
    api_errors: AtomicU64,
    api_latency_micros: AtomicU64,
    /// Unix seconds of the end of the last cycle (0: none yet).
    last_cycle_end: AtomicU64,
    /// The longest a healthy daemon goes between two cycle ends, in seconds.
    stale_after_secs: AtomicU64,
    started: AtomicU64,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Metrics {
    /// Counters for a daemon that starts a cycle every `period`.
    pub fn new(period: Duration) -> Arc<Metrics> {
        let m = Metrics::default();
        // A cycle may take a while (retries, slow approvers): three periods
        // and a minute of grace before health turns red.
        m.stale_after_secs
            .store(3 * period.as_secs().max(1) + 60, Ordering::Relaxed);
        m.started.store(now_secs(), Ordering::Relaxed);
        Arc::new(m)
    }

    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// One request to the Tatum API that took since `started`.
    pub(crate) fn api_call(&self, started: Instant, ok: bool) {
        Self::add(&self.api_requests, 1);
        if !ok {
            Self::add(&self.api_errors, 1);
        }
        Self::add(
            &self.api_latency_micros,
            started.elapsed().as_micros() as u64,
        );
    }

    pub(crate) fn cycle_done(&self, failed: bool) {
        Self::add(&self.cycles, 1);
        if failed {
            Self::add(&self.cycles_failed, 1);
        }
        self.last_cycle_end.store(now_secs(), Ordering::Relaxed);
    }

    pub(crate) fn pending_seen(&self, n: usize) {
        Self::add(&self.pending_seen, n as u64);
    }

    pub(crate) fn signed(&self) {
        Self::add(&self.signed, 1);
    }

    pub(crate) fn rejected(&self) {
        Self::add(&self.rejected, 1);
    }

    pub(crate) fn failed(&self) {
        Self::add(&self.failed, 1);
    }

    pub(crate) fn refused(&self) {
        Self::add(&self.refused, 1);
    }

    pub(crate) fn held_elsewhere(&self) {
        Self::add(&self.held_elsewhere, 1);
    }

    pub(crate) fn resubmitted(&self) {
        Self::add(&self.resubmitted, 1);
    }

    /// Whether the ledger answered its last call.
    pub(crate) fn ledger_answered(&self, answered: bool) {
        if !answered {
            Self::add(&self.ledger_errors, 1);
        }
        self.ledger_down.store(!answered, Ordering::Relaxed);
    }

    /// Whether the signing ledger failed its last call: nothing is signed
    /// until it answers again.
    pub fn ledger_down(&self) -> bool {
        self.ledger_down.load(Ordering::Relaxed)
    }

    /// What `/healthz` reports.
    pub fn health(&self) -> Health {
        if self.ledger_down() {
            Health::LedgerDown
        } else if self.healthy() {
            Health::Ok
        } else {
            Health::Stale
        }
    }

    /// Healthy while cycles keep ending (or the first is still due).
    pub fn healthy(&self) -> bool {
        let last = match self.last_cycle_end.load(Ordering::Relaxed) {
            0 => self.started.load(Ordering::Relaxed),
            t => t,
        };
        now_secs().saturating_sub(last) <= self.stale_after_secs.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let counters: [(&str, &str, &AtomicU64); 12] = [
            (
                "tatum_kms_cycles_total",
                "Daemon cycles completed.",
                &self.cycles,
            ),
            (
                "tatum_kms_cycles_failed_total",
                "Cycles in which something failed.",
                &self.cycles_failed,
            ),
            (
                "tatum_kms_pending_seen_total",
                "Pending transactions received from the Tatum API.",
                &self.pending_seen,
            ),
            (
                "tatum_kms_signed_total",
                "Transactions signed and handed to the Tatum API.",
                &self.signed,
            ),
            (
                "tatum_kms_rejected_total",
                "Transactions the approval service did not approve.",
                &self.rejected,
            ),
            (
                "tatum_kms_failed_total",
                "Transactions that failed (reported to the Tatum API).",
                &self.failed,
            ),
            (
                "tatum_kms_refused_total",
                "Transactions refused before signing: another chain, another network's or an unasked wallet, a malformed id.",
                &self.refused,
            ),
            (
                "tatum_kms_held_elsewhere_total",
                "Pending transactions left alone: claimed by another replica, or already submitted.",
                &self.held_elsewhere,
            ),
            (
                "tatum_kms_resubmitted_total",
                "Transactions sent again with the bytes the ledger recorded for them.",
                &self.resubmitted,
            ),
            (
                "tatum_kms_ledger_errors_total",
                "Calls to the signing ledger that failed.",
                &self.ledger_errors,
            ),
            (
                "tatum_kms_api_requests_total",
                "Requests to the Tatum API.",
                &self.api_requests,
            ),
            (
                "tatum_kms_api_errors_total",
                "Requests to the Tatum API that failed.",
                &self.api_errors,
            ),
        ];
        let mut out = String::new();
        for (name, help, value) in counters {
            let v = value.load(Ordering::Relaxed);
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n"
            ));
        }
        out.push_str(&format!(
            "# HELP tatum_kms_api_latency_seconds Time spent waiting for the Tatum API.\n# TYPE tatum_kms_api_latency_seconds summary\ntatum_kms_api_latency_seconds_sum {}\ntatum_kms_api_latency_seconds_count {}\n",
            self.api_latency_micros.load(Ordering::Relaxed) as f64 / 1e6,
            self.api_requests.load(Ordering::Relaxed)
        ));
        let last = self.last_cycle_end.load(Ordering::Relaxed);
        out.push_str(&format!(
            "# HELP tatum_kms_last_cycle_timestamp_seconds End of the last cycle (unix time, 0 = none yet).\n# TYPE tatum_kms_last_cycle_timestamp_seconds gauge\ntatum_kms_last_cycle_timestamp_seconds {last}\n"
        ));
        out.push_str(&format!(
            "# HELP tatum_kms_ledger_up Whether the signing ledger answered its last call.\n# TYPE tatum_kms_ledger_up gauge\ntatum_kms_ledger_up {}\n",
            u8::from(!self.ledger_down())
        ));
        out.push_str(&format!(
            "# HELP tatum_kms_up Whether cycles keep completing.\n# TYPE tatum_kms_up gauge\ntatum_kms_up {}\n",
            u8::from(self.healthy())
        ));
        out
    }
}
