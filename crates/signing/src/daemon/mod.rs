//! The daemon: every period one [`Daemon::cycle`], never two at once. A
//! cycle asks the Tatum API for the pending transactions of the store's
//! wallets, chain by chain; each is approved, signed and broadcast in turn;
//! what failed is reported to the batch error endpoint. One failing
//! transaction, chain or request never stops the others.
//!
//! Driven by a plain [`DaemonConfig`] and the [`TatumApi`] and [`ChainApi`]
//! traits, so it runs against the real client, a fake, or an embedder's own.

mod lock;
mod metrics;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kms_approval::{ApprovalRequest, Approver, Decision};
use kms_chain_signers::{ChainApi, Prepared, Submitted};
use kms_core::{Chain, Network, PendingTransaction, SignatureId};
use kms_tatum_client::{is_newer, ApiError, ReportedError, TatumApi};
use kms_vault::Vault;
use tokio::sync::Notify;

pub use lock::{DaemonLock, LockError};
pub use metrics::Metrics;

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
        self.failed > 0 || self.api_failed
    }

    /// One log line with every figure.
    pub fn log(&self, message: &str) {
        tracing::info!(
            pending = self.pending,
            signed = self.signed,
            rejected = self.rejected,
            failed = self.failed,
            refused = self.refused,
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
}

/// A signing daemon over one store.
pub struct Daemon<A> {
    config: DaemonConfig,
    vault: Vault,
    keys: KeySelector,
    api: Arc<A>,
    approver: Option<Arc<dyn Approver>>,
    /// `--policy`: refuses what it does not allow, whatever the approver says.
    policy: Option<Policy>,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
    wake: Arc<Notify>,
    /// Signature ids per chain of the store as last read: the store is
    /// scanned when it changes, not every cycle.
    ids: HashMap<Chain, Vec<SignatureId>>,
    /// The same, as the scope each chain's answer must stay in.
    scopes: HashMap<Chain, Scope>,
    unauthorized_logged: bool,
    version_logged: Option<Instant>,
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
            keys: KeySelector::new(),
            api,
            approver,
            policy: None,
            stop: Arc::new(AtomicBool::new(false)),
            wake: Arc::new(Notify::new()),
            ids: HashMap::new(),
            scopes: HashMap::new(),
            unauthorized_logged: false,
            version_logged: None,
        };
        daemon.index();
        daemon
    }

    /// Judges every transaction by `policy` before the approver is asked.
    pub fn with_policy(mut self, policy: Policy) -> Daemon<A> {
        self.policy = Some(policy);
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

        for (done, (asked, tx)) in pending.iter().enumerate() {
            if self.stop.load(Ordering::SeqCst) {
                tracing::info!(
                    left = pending.len() - done,
                    "stopping: the remaining transactions stay pending for the next run"
                );
                break;
            }
            if let Some(only) = &self.config.transactions {
                if !only.contains(&tx.id) {
                    tracing::info!(tx = %tx.id.escape_debug(), "skipped: not among --transactionIds");
                    continue;
                }
            }
            match self.process(*asked, tx).await {
                Ok(tx_id) => {
                    report.signed += 1;
                    self.metrics.signed();
                    tracing::info!(tx = %tx.id, chain = %tx.chain, tx_id = tx_id.as_deref().unwrap_or("-"), "signed and broadcast");
                }
                Err(Skip::Rejected(reason)) => {
                    report.rejected += 1;
                    self.metrics.rejected();
                    tracing::warn!(tx = %tx.id, chain = %tx.chain, %reason, "not approved; not signed");
                }
                Err(Skip::Refused(error)) => {
                    report.failed += 1;
                    report.refused += 1;
                    self.metrics.refused();
                    tracing::error!(tx = %tx.id.escape_debug(), asked = %asked, chain = %tx.chain, %error, "refused");
                    errors.push(ReportedError {
                        signature_id: tx.id.clone(),
                        error,
                    });
                }
                Err(Skip::Failed(error)) => {
                    report.failed += 1;
                    self.metrics.failed();
                    tracing::error!(tx = %tx.id, chain = %tx.chain, %error, "failed");
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

    /// Admit, prepare, sign in memory, approve, broadcast. Returns the
    /// broadcast's txId.
    async fn process(
        &mut self,
        asked: Chain,
        tx: &PendingTransaction,
    ) -> Result<Option<String>, Skip> {
        // `prepare` admits the transaction to the request's scope before it
        // touches a key; nothing outside it reaches the approver.
        let failed = |e: SignError| match e {
            SignError::Scope(e) => Skip::Refused(e.to_string()),
            other => Skip::Failed(other.to_string()),
        };
        let api: &dyn ChainApi = self.api.as_ref();
        // Network facts first, then the signature, in memory: the approver
        // is asked about the exact transaction that will leave the KMS.
        let prepared = pipeline::prepare(
            &mut self.keys,
            self.vault.wallets(),
            &self.scopes[&asked],
            tx,
            api,
        )
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
        if let Some(policy) = &mut self.policy {
            if let Err(v) = policy.check(tx, self.config.network, Some(&intent)) {
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
                Decision::Approved => tracing::info!(tx = %tx.id, %digest, "approved"),
                Decision::Rejected(reason) => {
                    return Err(self
                        .release_unsent(tx, &facts, Skip::Rejected(reason))
                        .await)
                }
            }
        }
        if self.config.log_signed_payloads {
            tracing::info!(tx = %tx.id, tx_data = %signed.tx_data, "signed (shown because TATUM_KMS_DEBUG_MODE is set)");
        }
        let tx_data = match pipeline::submit(tx, signed, api).await.map_err(failed)? {
            Submitted::TxData(tx_data) => tx_data,
            Submitted::Broadcast { tx_id } => return Ok(self.broadcast_by_chain(tx, tx_id)),
        };
        let started = Instant::now();
        let sent = match &tx.withdrawal_id {
            Some(withdrawal) => {
                self.api
                    .offchain_broadcast(tx.chain, &tx_data, withdrawal, &tx.id)
                    .await
            }
            None => self.api.broadcast(tx.chain, &tx_data, &tx.id).await,
        };
        self.metrics.api_call(started, sent.is_ok());
        match sent {
            Ok(b) if b.failed => Err(Skip::Failed(format!(
                "the Tatum API could not broadcast it (failed: true, txId {})",
                b.tx_id.as_deref().unwrap_or("none")
            ))),
            Ok(b) => {
                if let Some(policy) = &mut self.policy {
                    policy.record_signed(tx);
                }
                Ok(b.tx_id)
            }
            Err(e) => Err(Skip::Failed(format!("broadcast: {e}"))),
        }
    }

    /// A transaction whose chain's `submit` sent and reported it itself
    /// (FLOW, through `/v3/flow/broadcast`): nothing is left to broadcast;
    /// it counts against the policy's rate as any signed one.
    fn broadcast_by_chain(&mut self, tx: &PendingTransaction, tx_id: String) -> Option<String> {
        if let Some(policy) = &mut self.policy {
            policy.record_signed(tx);
        }
        Some(tx_id)
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

    /// The API's `x-ttm-kms-latest-version` notice, at most every 30 s.
    fn log_version_notice(&mut self) {
        let Some(notice) = self.api.latest_version() else {
            return;
        };
        let ours = crate::VERSION;
        if !is_newer(&notice.latest, ours)
            || self
                .version_logged
                .is_some_and(|t| t.elapsed().as_secs() < 30)
        {
            return;
        }
        self.version_logged = Some(Instant::now());
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
