//! The daemon: every period one [`Daemon::cycle`], never two at once. A
//! cycle asks the Tatum API for the pending transactions of the store's
//! wallets, chain by chain; each is claimed in the signing ledger,
//! approved, signed, recorded and broadcast; what failed is reported to the
//! batch error endpoint. One failing transaction, chain or request never
//! stops the others.
//!
//! Transactions of different senders run concurrently (at most
//! [`DaemonConfig::concurrency`] at once); those of one sender (the same
//! wallets and index: one account's nonces, one UTXO wallet's coins) run in
//! the order the API listed them.
//!
//! Replicas sharing a [`Ledger`] never sign one pending transaction twice
//! with different bytes: a replica signs only under a live claim, records
//! the bytes before they leave the process, and whoever retries the id
//! later sends exactly those bytes (see `docs/operations.md`).
//!
//! Driven by a plain [`DaemonConfig`] and the [`TatumApi`] and [`ChainApi`]
//! traits, so it runs against the real client, a fake, or an embedder's own.

mod lock;
mod metrics;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use kms_approval::{ApprovalRequest, Approver, Decision};
use kms_chain_signers::{signer, ChainApi, Fate, Prepared, SignedTx, Submitted};
use kms_core::{Chain, Network, PendingTransaction, SignatureId};
use kms_ledger::{
    AuditFilter, Claim, EntryKind, Lease, Ledger, LedgerError, MemoryLedger, SignedRecord, Step,
    Subject,
};
use kms_tatum_client::{ApiError, ReportedError, TatumApi, VersionNoticeLog};
use kms_vault::Vault;
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, Semaphore};

pub use lock::{DaemonLock, LockError};
pub use metrics::{Health, Metrics};

use crate::keys::KeySelector;
use crate::pipeline::{self, SignError};
use crate::policy::Policy;
use crate::scope::Scope;

/// What a daemon serves. Everything else (the API, the approver, the store)
/// is handed to [`Daemon::new`] as a value.
#[derive(Clone, Debug)]
pub struct DaemonConfig {
    /// The chains to ask for, in order.
    pub chains: Vec<Chain>,
    /// The network whose wallets it serves (wallets of the other are left alone).
    pub network: Network,
    /// Only these wallets (`--wallets`); `None` for all.
    pub wallets: Option<HashSet<SignatureId>>,
    /// Only these pending transactions (`--transactionIds`); `None` for all.
    pub transactions: Option<HashSet<String>>,
    /// Time from the start of one cycle to the start of the next.
    pub period: Duration,
    /// Log signed payloads at info level (`TATUM_KMS_DEBUG_MODE`).
    pub log_signed_payloads: bool,
    /// At most this many transactions in hand at once (`--concurrency`).
    pub concurrency: usize,
    /// This replica's name in the ledger: unique among running replicas.
    pub replica: String,
    /// How long a claim lasts without renewal: how soon the other
    /// replicas take over the work of one that died.
    pub lease: Duration,
}

impl DaemonConfig {
    /// The default number of transactions in hand at once: enough to hide
    /// ~100 ms API round trips, few enough not to flood the API.
    pub const DEFAULT_CONCURRENCY: usize = 16;

    /// A configuration with the defaults: every chain in `chains` on
    /// `network`, all wallets, every 30 s... as the original.
    pub fn new(chains: Vec<Chain>, network: Network) -> DaemonConfig {
        DaemonConfig {
            chains,
            network,
            wallets: None,
            transactions: None,
            period: Duration::from_secs(30),
            log_signed_payloads: false,
            concurrency: Self::DEFAULT_CONCURRENCY,
            replica: default_replica_name(),
            lease: kms_ledger::DEFAULT_LEASE,
        }
    }
}

/// `host-pid`: unique among the processes of a cluster (a Kubernetes pod's
/// host name is the pod's name).
pub fn default_replica_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "kms".to_owned());
    format!("{host}-{}", std::process::id())
}

/// What became of one cycle.
#[derive(Debug, Default)]
pub struct CycleReport {
    /// Pending transactions received.
    pub pending: usize,
    /// Signed and broadcast.
    pub signed: usize,
    /// Not approved: they stay pending.
    pub rejected: usize,
    /// Failed and reported to the API (the refused included).
    pub failed: usize,
    /// Refused: outside the chain, network and wallets asked about.
    pub refused: usize,
    /// Left alone: another replica holds them, or they were submitted.
    pub held_elsewhere: usize,
    /// Sent again with the bytes the ledger recorded for them.
    pub resubmitted: usize,
    /// Not signed because the ledger did not answer: they stay pending.
    pub ledger_unavailable: usize,
    /// A pending request or the error report failed.
    pub api_failed: bool,
    /// Wall time of the cycle.
    pub elapsed: Duration,
    /// CPU time the whole process spent during the cycle: what a cycle
    /// costs the machine, apart from waiting on the network.
    pub cpu: Duration,
}

impl CycleReport {
    /// Whether a transaction or a request failed.
    pub fn anything_failed(&self) -> bool {
        self.failed > 0 || self.api_failed || self.ledger_unavailable > 0
    }

    /// One log line with every figure.
    pub fn log(&self, message: &str) {
        tracing::info!(
            pending = self.pending,
            signed = self.signed,
            rejected = self.rejected,
            failed = self.failed,
            refused = self.refused,
            held_elsewhere = self.held_elsewhere,
            resubmitted = self.resubmitted,
            ledger_unavailable = self.ledger_unavailable,
            api_failed = self.api_failed,
            elapsed_ms = self.elapsed.as_secs_f64() * 1e3,
            cpu_ms = self.cpu.as_secs_f64() * 1e3,
            "{message}"
        );
    }
}

/// Why a transaction was not broadcast.
enum Skip {
    /// The approver said no (or could not be asked): it comes back next cycle.
    Rejected(String),
    /// Outside the scope of the request it came in: another chain, another
    /// network's wallet, an id of the wrong shape. Reported to the API.
    Refused(String),
    /// Reported to the Tatum API.
    Failed(String),
    /// Another replica holds it, or it was submitted already: not ours.
    Elsewhere(String),
    /// Another replica holds it: the rest of its sender's queue is left to
    /// that replica too, so that one sender's transactions are never in
    /// two replicas' hands at once (nonces fetched twice would collide).
    Held(String),
    /// The ledger did not answer: nothing may be signed. Stays pending.
    LedgerDown(String),
}

/// What became of a transaction that went out.
struct Sent {
    tx_id: Option<String>,
    /// The bytes came from the ledger, signed in an earlier attempt.
    resubmitted: bool,
}

/// A signing daemon over one store.
pub struct Daemon<A> {
    config: DaemonConfig,
    vault: Vault,
    /// Shared by the transactions in hand; locked only to choose keys.
    keys: Mutex<KeySelector>,
    api: Arc<A>,
    approver: Option<Arc<dyn Approver>>,
    /// `--policy`: refuses what it does not allow, whatever the approver says.
    policy: Option<Mutex<Policy>>,
    ledger: Arc<dyn Ledger>,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
    wake: Arc<Notify>,
    /// Signature ids per chain of the store as last read: the store is
    /// scanned when it changes, not every cycle.
    ids: HashMap<Chain, Vec<SignatureId>>,
    /// The same, as the scope each chain's answer must stay in.
    scopes: HashMap<Chain, Scope>,
    unauthorized_logged: bool,
    version_logged: VersionNoticeLog,
}

impl<A: TatumApi + ChainApi + 'static> Daemon<A> {
    /// A daemon over the unlocked `vault`, asking `api`, and `approver`
    /// before each signature when there is one.
    pub fn new(
        config: DaemonConfig,
        vault: Vault,
        api: Arc<A>,
        approver: Option<Arc<dyn Approver>>,
    ) -> Daemon<A> {
        if let Some(only) = &config.wallets {
            for id in only {
                if vault.get(id.as_str()).is_none() {
                    tracing::warn!(wallet = %id, "--wallets names a wallet the store does not hold; ignored");
                }
            }
        }
        let mut daemon = Daemon {
            metrics: Metrics::new(config.period),
            config,
            vault,
            keys: Mutex::new(KeySelector::new()),
            api,
            approver,
            policy: None,
            ledger: Arc::new(MemoryLedger::new()),
            stop: Arc::new(AtomicBool::new(false)),
            wake: Arc::new(Notify::new()),
            ids: HashMap::new(),
            scopes: HashMap::new(),
            unauthorized_logged: false,
            version_logged: VersionNoticeLog::default(),
        };
        daemon.index();
        daemon
    }

    /// Judges every transaction by `policy` before the approver is asked.
    pub fn with_policy(mut self, policy: Policy) -> Daemon<A> {
        self.policy = Some(Mutex::new(policy));
        self
    }

    /// Records every claim and signature in `ledger`, shared with the
    /// other replicas. Without one, a ledger in memory keeps this process
    /// from signing an id twice, and nothing more.
    pub fn with_ledger(mut self, ledger: Arc<dyn Ledger>) -> Daemon<A> {
        self.ledger = ledger;
        self
    }

    /// Whether a local policy is enforced.
    pub fn has_policy(&self) -> bool {
        self.policy.is_some()
    }

    /// Its counters, for `/metrics` and `/healthz`.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Asks the daemon to stop after the transaction in hand (from a signal
    /// handler, another task...).
    pub fn stopper(&self) -> Stopper {
        Stopper {
            stop: self.stop.clone(),
            wake: self.wake.clone(),
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &DaemonConfig {
        &self.config
    }

    /// Whether an approver is asked before each signature.
    pub fn has_approver(&self) -> bool {
        self.approver.is_some()
    }

    /// How many of the store's wallets it serves.
    pub fn wallets_served(&self) -> usize {
        self.ids.values().map(Vec::len).sum()
    }

    /// Cycles every period until stopped; a cycle that takes longer than
    /// the period is followed at once by the next, never overlapped.
    pub async fn run(&mut self) {
        loop {
            let started = Instant::now();
            let report = self.cycle().await;
            if report.pending > 0 || report.anything_failed() {
                report.log("cycle done");
            }
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep_until((started + self.config.period).into()) => {}
                _ = self.wake.notified() => {}
            }
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
        }
    }

    fn index(&mut self) {
        self.ids = self
            .config
            .chains
            .iter()
            .map(|&chain| {
                let mut ids = self.vault.ids_for(chain, self.config.network);
                if let Some(only) = &self.config.wallets {
                    ids.retain(|id| only.contains(id));
                }
                (chain, ids)
            })
            .collect();
        let network = self.config.network;
        self.scopes = self
            .ids
            .iter()
            .map(|(&chain, ids)| (chain, Scope::new(chain, network, ids.iter().cloned())))
            .collect();
    }

    /// Picks up wallets added (or removed) by other processes, with the key
    /// already held: no KDF run unless the file was re-keyed.
    fn refresh_store(&mut self) {
        match self.vault.reload_if_changed() {
            Ok(false) => {}
            Ok(true) => {
                self.index();
                tracing::info!(
                    wallets = self.wallets_served(),
                    "the wallet store changed; reloaded"
                );
            }
            Err(e) => tracing::warn!(
                error = %e,
                "the wallet store changed but cannot be read; serving the wallets already loaded"
            ),
        }
    }

    /// One cycle.
    pub async fn cycle(&mut self) -> CycleReport {
        let started = Instant::now();
        let cpu_before = process_cpu_time();
        let mut report = self.cycle_inner().await;
        report.elapsed = started.elapsed();
        report.cpu = process_cpu_time().saturating_sub(cpu_before);
        self.metrics.cycle_done(report.anything_failed());
        report
    }

    async fn cycle_inner(&mut self) -> CycleReport {
        let mut report = CycleReport::default();
        self.refresh_store();
        let mut pending = Vec::new();
        let mut errors = Vec::new();
        for chain in self.config.chains.clone() {
            let ids = &self.ids[&chain];
            if ids.is_empty() {
                continue;
            }
            let started = Instant::now();
            let answer = self.api.pending(chain, ids).await;
            self.metrics.api_call(started, answer.is_ok());
            match answer {
                Ok(batch) => {
                    self.unauthorized_logged = false;
                    tracing::debug!(%chain, wallets = ids.len(), pending = batch.transactions.len(), "asked for pending transactions");
                    pending.extend(batch.transactions.into_iter().map(|tx| (chain, tx)));
                    for unreadable in batch.unreadable {
                        report.failed += 1;
                        self.metrics.failed();
                        let id = unreadable.id.as_deref().unwrap_or("-");
                        tracing::error!(tx = %id.escape_debug(), %chain, error = %unreadable.reason.escape_debug(), "failed");
                        if let Some(id) = unreadable.id {
                            errors.push(ReportedError {
                                signature_id: id,
                                error: unreadable.reason,
                            });
                        }
                    }
                }
                Err(e) => {
                    report.api_failed = true;
                    if e.is_unauthorized() {
                        self.log_unauthorized(&e);
                        // Every other request would be refused alike.
                        return report;
                    }
                    tracing::warn!(%chain, error = %e, "cannot get pending transactions; trying again next cycle");
                }
            }
        }
        self.log_version_notice();
        report.pending = pending.len() + report.failed;
        self.metrics.pending_seen(report.pending);

        let transactions: Vec<(Chain, &PendingTransaction)> = pending
            .iter()
            .filter(|(_, tx)| {
                let wanted = self
                    .config
                    .transactions
                    .as_ref()
                    .is_none_or(|only| only.contains(&tx.id));
                if !wanted {
                    tracing::info!(tx = %tx.id.escape_debug(), "skipped: not among --transactionIds");
                }
                wanted
            })
            .map(|(asked, tx)| (*asked, tx))
            .collect();
        let outcomes = self.process_all(&transactions).await;
        let left = transactions.len() - outcomes.len();
        if left > 0 {
            tracing::info!(
                left,
                "stopping: the remaining transactions stay pending for the next run"
            );
        }
        for (_, tx, outcome) in outcomes {
            match outcome {
                Ok(sent) => {
                    report.signed += 1;
                    if sent.resubmitted {
                        report.resubmitted += 1;
                    }
                }
                Err(Skip::Rejected(_)) => report.rejected += 1,
                Err(Skip::Elsewhere(_)) | Err(Skip::Held(_)) => report.held_elsewhere += 1,
                Err(Skip::LedgerDown(_)) => report.ledger_unavailable += 1,
                Err(Skip::Refused(error)) => {
                    report.failed += 1;
                    report.refused += 1;
                    errors.push(ReportedError {
                        signature_id: tx.id.clone(),
                        error,
                    });
                }
                Err(Skip::Failed(error)) => {
                    report.failed += 1;
                    errors.push(ReportedError {
                        signature_id: tx.id.clone(),
                        error,
                    });
                }
            }
        }
        if !errors.is_empty() {
            let started = Instant::now();
            let sent = self.api.report_errors(&errors).await;
            self.metrics.api_call(started, sent.is_ok());
            match sent {
                Ok(()) => tracing::info!(
                    count = errors.len(),
                    "reported the failures to the Tatum API"
                ),
                Err(e) => {
                    report.api_failed = true;
                    tracing::warn!(error = %e, count = errors.len(), "cannot report the failures to the Tatum API");
                }
            }
        }
        report
    }

    /// Processes `transactions`: one sender's in order, different
    /// senders' concurrently, at most `concurrency` at once. Returns the
    /// outcome of each one handled (those left when a stop was asked are
    /// missing), logged as they come.
    async fn process_all<'t>(
        &self,
        transactions: &[(Chain, &'t PendingTransaction)],
    ) -> Vec<(Chain, &'t PendingTransaction, Result<Sent, Skip>)> {
        let mut order: Vec<SenderKey> = Vec::new();
        let mut queues: HashMap<SenderKey, Vec<(Chain, &'t PendingTransaction)>> = HashMap::new();
        for &(asked, tx) in transactions {
            let key = SenderKey::of(tx);
            queues
                .entry(key.clone())
                .or_insert_with(|| {
                    order.push(key);
                    Vec::new()
                })
                .push((asked, tx));
        }
        let permits = Semaphore::new(self.config.concurrency.max(1));
        // A failed ledger call makes the rest of the cycle skip it at once
        // rather than wait for it transaction by transaction.
        let ledger_down = AtomicBool::new(false);
        let senders = order.into_iter().map(|key| {
            let queue = queues.remove(&key).unwrap_or_default();
            let (permits, ledger_down) = (&permits, &ledger_down);
            async move {
                let mut outcomes = Vec::with_capacity(queue.len());
                let mut holder: Option<String> = None;
                for (asked, tx) in queue {
                    if let Some(holder) = &holder {
                        let outcome = Err(Skip::Held(format!(
                            "its sender is in the hands of another replica ({holder})"
                        )));
                        self.log_outcome(asked, tx, &outcome);
                        outcomes.push((asked, tx, outcome));
                        continue;
                    }
                    let Ok(_permit) = permits.acquire().await else {
                        break;
                    };
                    if self.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let outcome = if ledger_down.load(Ordering::Relaxed) {
                        Err(Skip::LedgerDown(
                            "the ledger did not answer earlier in this cycle".into(),
                        ))
                    } else {
                        self.process(asked, tx).await
                    };
                    if matches!(outcome, Err(Skip::LedgerDown(_))) {
                        ledger_down.store(true, Ordering::Relaxed);
                    }
                    if let Err(Skip::Held(why)) = &outcome {
                        holder = Some(why.clone());
                    }
                    self.log_outcome(asked, tx, &outcome);
                    outcomes.push((asked, tx, outcome));
                }
                outcomes
            }
        });
        futures_util::future::join_all(senders)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    fn log_outcome(&self, asked: Chain, tx: &PendingTransaction, outcome: &Result<Sent, Skip>) {
        match outcome {
            Ok(sent) => {
                self.metrics.signed();
                if sent.resubmitted {
                    self.metrics.resubmitted();
                }
                tracing::info!(tx = %tx.id, chain = %tx.chain, tx_id = sent.tx_id.as_deref().unwrap_or("-"), resubmitted = sent.resubmitted, "signed and broadcast");
            }
            Err(Skip::Rejected(reason)) => {
                self.metrics.rejected();
                tracing::warn!(tx = %tx.id, chain = %tx.chain, %reason, "not approved; not signed");
            }
            Err(Skip::Elsewhere(why)) | Err(Skip::Held(why)) => {
                self.metrics.held_elsewhere();
                tracing::debug!(tx = %tx.id, chain = %tx.chain, %why, "left alone");
            }
            Err(Skip::LedgerDown(error)) => {
                tracing::error!(tx = %tx.id.escape_debug(), chain = %tx.chain, %error, "not signed: the signing ledger does not answer; it stays pending");
            }
            Err(Skip::Refused(error)) => {
                self.metrics.refused();
                tracing::error!(tx = %tx.id.escape_debug(), asked = %asked, chain = %tx.chain, %error, "refused");
            }
            Err(Skip::Failed(error)) => {
                self.metrics.failed();
                tracing::error!(tx = %tx.id, chain = %tx.chain, %error, "failed");
            }
        }
    }

    /// Admits, claims, and under the claim (kept alive while it works)
    /// signs or resends; a claim that ends without a submission is
    /// released so that another attempt need not wait for the lease.
    async fn process(&self, asked: Chain, tx: &PendingTransaction) -> Result<Sent, Skip> {
        let scope = &self.scopes[&asked];
        // Before anything reaches the ledger: an id of the wrong shape, or
        // a transaction outside the request, leaves no row behind.
        scope.admit(tx).map_err(|e| Skip::Refused(e.to_string()))?;
        let subject = ledger_subject(tx, self.config.network);
        let claim = self
            .ledger
            .claim(&subject, &self.config.replica, self.config.lease)
            .await;
        self.note_ledger(&claim);
        let (lease, earlier) = match claim.map_err(|e| Skip::LedgerDown(e.to_string()))? {
            Claim::Granted {
                lease,
                signed,
                took_over,
            } => {
                if let Some(replica) = took_over {
                    tracing::warn!(tx = %tx.id, %replica, "took over the expired claim of another replica");
                }
                (lease, signed)
            }
            Claim::Held { replica, .. } => {
                return Err(Skip::Held(format!("claimed by replica {replica}")))
            }
            Claim::Submitted { tx_id } => {
                return Err(Skip::Elsewhere(format!(
                    "already submitted (txId {})",
                    tx_id.as_deref().unwrap_or("-")
                )))
            }
            Claim::Conflict { recorded } => {
                return Err(Skip::Refused(format!(
                    "refused: the Tatum API handed this id over before with another transaction ({recorded}); nothing is signed for it"
                )))
            }
        };
        let work = self.work(asked, tx, &lease, earlier);
        let outcome = tokio::select! {
            outcome = work => outcome,
            never = self.keep_claim(&lease) => match never {},
        };
        let end = match &outcome {
            Ok(_)
            | Err(Skip::Rejected(_))
            | Err(Skip::Elsewhere(_))
            | Err(Skip::Held(_))
            | Err(Skip::LedgerDown(_)) => None,
            Err(Skip::Refused(why)) | Err(Skip::Failed(why)) => Some(why.clone()),
        };
        if let Some(reason) = end {
            let ended = self.ledger.record(&lease, Step::Failed { reason }).await;
            self.note_ledger(&ended);
            if let Err(e) = ended {
                tracing::debug!(tx = %tx.id, error = %e, "could not release the claim; it runs out by itself");
            }
        }
        outcome
    }

    /// Renews `lease` every third of its length, forever; a renewal that
    /// fails is logged and the work goes on, since every record under the
    /// lost claim is refused by the ledger anyway.
    async fn keep_claim(&self, lease: &Lease) -> std::convert::Infallible {
        let every = self.config.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = self.ledger.renew(lease, self.config.lease).await {
                tracing::warn!(tx = %lease.id, error = %e, "cannot renew the claim");
            }
        }
    }

    /// The work under a claim: the bytes recorded earlier if there are
    /// any (sent again, or signed anew only where they can never land),
    /// else a new signature.
    async fn work(
        &self,
        asked: Chain,
        tx: &PendingTransaction,
        lease: &Lease,
        earlier: Option<SignedRecord>,
    ) -> Result<Sent, Skip> {
        let Some(earlier) = earlier else {
            return self.sign_and_send(asked, tx, lease, None).await;
        };
        let signed = SignedTx {
            tx_data: earlier.tx_data.clone(),
            node_submission: earlier.node_submission.clone(),
        };
        let facts = Prepared(earlier.facts.as_object().cloned().unwrap_or_default());
        let api: &dyn ChainApi = self.api.as_ref();
        let fate = signer(tx.chain)
            .fate(&signed, &facts, api)
            .await
            .map_err(|e| {
                Skip::Failed(format!(
                    "cannot tell what became of the earlier signature: {e}"
                ))
            })?;
        match fate {
            Fate::Unknown => {
                tracing::info!(tx = %tx.id, digest = %earlier.digest, "sending the bytes recorded for it again");
                self.send(tx, lease, signed, true).await
            }
            Fate::Landed => {
                tracing::info!(tx = %tx.id, digest = %earlier.digest, "the earlier transaction landed; reporting it");
                Ok(Sent {
                    tx_id: self.broadcast(tx, lease, &signed.tx_data).await?,
                    resubmitted: true,
                })
            }
            Fate::Expired { evidence } => {
                tracing::warn!(tx = %tx.id, superseded = %earlier.digest, %evidence, "the earlier transaction can never land; signing anew");
                self.sign_and_send(asked, tx, lease, Some((earlier.digest, evidence)))
                    .await
            }
        }
    }

    /// Prepare, sign in memory, approve, record, send. `supersedes` names
    /// the recorded transaction this one replaces, and why that is safe.
    async fn sign_and_send(
        &self,
        asked: Chain,
        tx: &PendingTransaction,
        lease: &Lease,
        supersedes: Option<(String, String)>,
    ) -> Result<Sent, Skip> {
        let failed = |e: SignError| match e {
            SignError::Scope(e) => Skip::Refused(e.to_string()),
            other => Skip::Failed(other.to_string()),
        };
        let api: &dyn ChainApi = self.api.as_ref();
        let scope = &self.scopes[&asked];
        let keys = {
            let mut selector = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
            pipeline::admit(&mut selector, self.vault.wallets(), scope, tx).map_err(failed)?
        };
        // Network facts first, then the signature, in memory: the approver
        // is asked about the exact transaction that will leave the KMS.
        let prepared = pipeline::prepare_with(keys, scope.network(), tx, api)
            .await
            .map_err(failed)?;
        // What it does, decoded from what will be signed. A transaction
        // whose operation its chain's decoder does not know is not signed:
        // nobody could judge it.
        let facts = prepared.facts().clone();
        let intent = match prepared.intent() {
            Ok(intent) => intent,
            Err(e) => {
                let skip = Skip::Refused(format!("refused: cannot tell what it does: {e}"));
                return Err(self.release_unsent(tx, &facts, skip).await);
            }
        };
        if let Err(skip) = self.check_shared_rate(tx).await {
            return Err(self.release_unsent(tx, &facts, skip).await);
        }
        if let Some(policy) = &self.policy {
            // Checked and counted at once, so that transactions in hand
            // together cannot all pass an hourly limit meant for one of
            // them; one that then fails still counts (the safe side).
            let verdict = {
                let mut policy = policy.lock().unwrap_or_else(PoisonError::into_inner);
                let verdict = policy.check(tx, self.config.network, Some(&intent));
                if verdict.is_ok() {
                    policy.record_signed(tx);
                }
                verdict
            };
            if let Err(v) = verdict {
                return Err(self
                    .release_unsent(tx, &facts, Skip::Refused(v.to_string()))
                    .await);
            }
        }
        let signed = match prepared.sign() {
            Ok(signed) => signed,
            Err(e) => return Err(self.release_unsent(tx, &facts, failed(e)).await),
        };
        let digest = pipeline::digest(&signed);
        if let Some(approver) = &self.approver {
            let request = ApprovalRequest {
                pending: tx,
                prepared: &facts.0,
                intent: Some(&intent),
                digest: &digest,
            };
            match approver.check(&request).await {
                Decision::Approved => {
                    tracing::info!(tx = %tx.id, %digest, "approved");
                    let seen = serde_json::to_value(&intent).unwrap_or_default();
                    let step = Step::Approved {
                        digest: digest.clone(),
                        seen,
                    };
                    if let Err(skip) = self.record(lease, step).await {
                        return Err(self.release_unsent(tx, &facts, skip).await);
                    }
                }
                Decision::Rejected(reason) => {
                    let step = Step::Rejected {
                        digest: digest.clone(),
                        reason: reason.clone(),
                    };
                    // The claim ends either way; a lost record only
                    // means it runs out by itself.
                    if let Err(e) = self.record(lease, step).await {
                        tracing::debug!(tx = %tx.id, "could not record the refusal: {}", skip_text(&e));
                    }
                    return Err(self
                        .release_unsent(tx, &facts, Skip::Rejected(reason))
                        .await);
                }
            }
        }
        let record = SignedRecord {
            tx_data: signed.tx_data.clone(),
            node_submission: signed.node_submission.clone(),
            digest,
            facts: serde_json::Value::Object(facts.0.clone()),
        };
        // Recorded before anything leaves the process: whoever retries
        // this id, here or on another replica, sends these bytes.
        let step = match supersedes {
            None => Step::Signed(record),
            Some((superseded, evidence)) => Step::Resigned {
                record,
                superseded,
                evidence,
            },
        };
        if let Err(skip) = self.record(lease, step).await {
            return Err(self.release_unsent(tx, &facts, skip).await);
        }
        if self.config.log_signed_payloads {
            tracing::info!(tx = %tx.id, tx_data = %signed.tx_data, "signed (shown because TATUM_KMS_DEBUG_MODE is set)");
        }
        self.send(tx, lease, signed, false).await
    }

    /// Hands `signed` to the network where its chain needs that, then to
    /// the broadcast endpoint (but for a chain whose `submit` reported it
    /// itself: FLOW).
    async fn send(
        &self,
        tx: &PendingTransaction,
        lease: &Lease,
        signed: SignedTx,
        resubmitted: bool,
    ) -> Result<Sent, Skip> {
        let api: &dyn ChainApi = self.api.as_ref();
        let submitted = pipeline::submit(tx, signed, api)
            .await
            .map_err(|e| Skip::Failed(e.to_string()))?;
        let tx_id = match submitted {
            Submitted::TxData(tx_data) => self.broadcast(tx, lease, &tx_data).await?,
            // FLOW: its `submit` sent and reported it itself (through
            // `/v3/flow/broadcast`); only the ledger's record is left.
            Submitted::Broadcast { tx_id } => {
                self.record_submitted(tx, lease, Some(tx_id.clone())).await;
                Some(tx_id)
            }
        };
        Ok(Sent { tx_id, resubmitted })
    }

    /// Posts `tx_data` to the broadcast endpoint and records the outcome;
    /// returns the txId the API answered.
    async fn broadcast(
        &self,
        tx: &PendingTransaction,
        lease: &Lease,
        tx_data: &str,
    ) -> Result<Option<String>, Skip> {
        let started = Instant::now();
        let sent = match &tx.withdrawal_id {
            Some(withdrawal) => {
                self.api
                    .offchain_broadcast(tx.chain, tx_data, withdrawal, &tx.id)
                    .await
            }
            None => self.api.broadcast(tx.chain, tx_data, &tx.id).await,
        };
        self.metrics.api_call(started, sent.is_ok());
        match sent {
            Ok(b) if b.failed => Err(Skip::Failed(format!(
                "the Tatum API could not broadcast it (failed: true, txId {})",
                b.tx_id.as_deref().unwrap_or("none")
            ))),
            Ok(b) => {
                self.record_submitted(tx, lease, b.tx_id.clone()).await;
                Ok(b.tx_id)
            }
            Err(e) => Err(Skip::Failed(format!("broadcast: {e}"))),
        }
    }

    /// Tells the metrics (and `/healthz`) whether the ledger is usable: an
    /// answer refusing something (a lost claim...) is an answer; no answer,
    /// or one that cannot be read, is not.
    fn note_ledger<T>(&self, outcome: &Result<T, LedgerError>) {
        self.metrics.ledger_answered(!matches!(
            outcome,
            Err(LedgerError::Unavailable(_) | LedgerError::Corrupt(_))
        ));
    }

    /// Records `step` under `lease`. A lost claim means another replica
    /// goes on with the id; an unreachable ledger, that nothing more may
    /// be done with it now.
    async fn record(&self, lease: &Lease, step: Step) -> Result<(), Skip> {
        let recorded = self.ledger.record(lease, step).await;
        self.note_ledger(&recorded);
        recorded.map_err(|e| match e {
            LedgerError::LeaseLost { .. } => {
                Skip::Elsewhere("the claim ran out and another replica took it over".into())
            }
            LedgerError::Unavailable(_) => Skip::LedgerDown(e.to_string()),
            other => Skip::Failed(other.to_string()),
        })
    }

    /// The policy's hourly limit per wallet, counted over the ledger's
    /// signatures of the last hour, every replica's: the in-process count
    /// (`Policy::check`) only sees this replica's. Replicas checking at the
    /// same moment may each pass one more than the limit; the in-process
    /// count bounds it per replica.
    async fn check_shared_rate(&self, tx: &PendingTransaction) -> Result<(), Skip> {
        let Some(limit) = self.policy.as_ref().and_then(|p| {
            p.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .hourly_limit(tx.chain)
        }) else {
            return Ok(());
        };
        let hour_ago = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
            - 3_600_000;
        for wallet in SenderKey::wallets(tx) {
            let filter = AuditFilter {
                chain: Some(tx.chain.to_string()),
                wallet: Some(wallet.clone()),
                kind: Some(EntryKind::Signed),
                since_ms: Some(hour_ago),
                limit: Some(limit as usize),
                ..AuditFilter::default()
            };
            let signed = self.ledger.entries(&filter).await;
            self.note_ledger(&signed);
            let signed = signed.map_err(|e| Skip::LedgerDown(e.to_string()))?;
            if signed.len() >= limit as usize {
                return Err(Skip::Refused(format!(
                    "wallet {wallet} signed {limit} {} transactions in the last hour (all replicas)",
                    tx.chain
                )));
            }
        }
        Ok(())
    }

    /// Records that `tx` went out. A failure is only logged: it went out,
    /// and a replica that takes the id over sends the same bytes again,
    /// which changes nothing.
    async fn record_submitted(
        &self,
        tx: &PendingTransaction,
        lease: &Lease,
        tx_id: Option<String>,
    ) {
        if let Err(e) = self.record(lease, Step::Submitted { tx_id }).await {
            tracing::warn!(tx = %tx.id, "sent, but the ledger did not record it: {}", skip_text(&e));
        }
    }

    /// A prepared transaction that will not be submitted gives back what
    /// `prepare` reserved (FLOW: Tatum's proposal key, locked until then).
    /// A failure to release is logged; `skip` says why it was not sent.
    async fn release_unsent(&self, tx: &PendingTransaction, facts: &Prepared, skip: Skip) -> Skip {
        if let Err(e) = pipeline::release(tx, facts, self.api.as_ref()).await {
            tracing::warn!(tx = %tx.id, error = %e, "could not release what was reserved for it");
        }
        skip
    }

    fn log_unauthorized(&mut self, e: &ApiError) {
        if !self.unauthorized_logged {
            tracing::error!(error = %e, "the Tatum API refuses the API key; nothing is signed until it is accepted (checking again every cycle)");
            self.unauthorized_logged = true;
        } else {
            tracing::debug!(error = %e, "the API key is still refused");
        }
    }

    /// The API's `x-ttm-kms-latest-version` notice, once per newer version
    /// (the API repeats it on every answer).
    fn log_version_notice(&mut self) {
        let Some(notice) = self.api.latest_version() else {
            return;
        };
        let ours = crate::VERSION;
        if !self.version_logged.should_show(&notice, ours) {
            return;
        }
        let text = format!(
            "{}: {}. Current version: {ours}. Latest version: {}",
            notice.level, notice.message, notice.latest
        );
        match notice.level.as_str() {
            "ERROR" => tracing::error!("{text}"),
            "INFO" => tracing::info!("{text}"),
            _ => tracing::warn!("{text}"),
        }
    }
}

/// Stops a running [`Daemon`] after the transaction in hand.
#[derive(Clone)]
pub struct Stopper {
    stop: Arc<AtomicBool>,
    wake: Arc<Notify>,
}

impl Stopper {
    /// Asks for the stop; the daemon's sleep between cycles ends at once.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }
}

/// CPU time used so far by every thread of this process.
#[allow(unsafe_code)]
fn process_cpu_time() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec we own.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Who sends a transaction: its chain, wallets and index. Transactions of
/// one sender are handled in order (one account's nonces or sequence
/// numbers, one wallet's coins); different senders' concurrently. Chains
/// whose transactions carry no per-account counter (SOL and TRON name a
/// recent block, ALGO a round range) need no order: each of their
/// transactions is a sender of its own.
#[derive(Clone, PartialEq, Eq, Hash)]
struct SenderKey {
    chain: Chain,
    wallets: Vec<String>,
    index: Option<u32>,
    unordered: Option<String>,
}

impl SenderKey {
    fn of(tx: &PendingTransaction) -> SenderKey {
        let unordered = matches!(tx.chain, Chain::SOL | Chain::TRON | Chain::ALGO);
        SenderKey {
            chain: tx.chain,
            wallets: SenderKey::wallets(tx),
            index: tx.index,
            unordered: unordered.then(|| tx.id.clone()),
        }
    }

    /// The wallets a transaction names, sorted, each once.
    fn wallets(tx: &PendingTransaction) -> Vec<String> {
        let mut ids: Vec<String> = crate::policy::wallets_of(tx)
            .map(|id| id.as_str().to_owned())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// What the ledger knows `tx` by: its id, chain, network, wallets, and the
/// digest of what decides its signature.
pub fn ledger_subject(tx: &PendingTransaction, network: Network) -> Subject {
    Subject {
        id: tx.id.clone(),
        chain: tx.chain.to_string(),
        network: network.to_string(),
        wallets: SenderKey::wallets(tx),
        request_digest: request_digest(tx),
    }
}

/// `sha256:` of what decides the signature in a pending transaction (not
/// fields the API may change between two listings, like `txId`): the same
/// id handed over with another digest is refused by the ledger.
fn request_digest(tx: &PendingTransaction) -> String {
    let decisive = serde_json::json!({
        "chain": tx.chain.to_string(),
        "serializedTransaction": tx.serialized_transaction,
        "hashes": tx.hashes,
        "index": tx.index,
        "signatures": tx.signatures,
        "withdrawalId": tx.withdrawal_id,
        "withdrawalResponses": tx.withdrawal_responses,
    });
    let text = kms_ledger::canonical_json(&decisive);
    format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

fn skip_text(skip: &Skip) -> &str {
    match skip {
        Skip::Rejected(s)
        | Skip::Refused(s)
        | Skip::Failed(s)
        | Skip::Elsewhere(s)
        | Skip::Held(s)
        | Skip::LedgerDown(s) => s,
    }
}
