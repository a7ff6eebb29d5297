//! One cycle of the daemon: for every chain, the store's signature ids go to
//! the pending endpoint; each pending transaction is approved, signed and
//! broadcast in turn; what failed is reported to the batch error endpoint.
//! One failing transaction, chain or request never stops the others.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use kms_approval::{Approver, Decision};
use kms_chain_signers::signer;
use kms_core::{Chain, PendingTransaction};
use kms_tatum_client::{is_newer, ReportedError, TatumApi, TatumClient, TatumError};
use kms_vault::Vault;

use super::metrics::Metrics;
use crate::keys::KeyCache;

/// What became of one cycle.
#[derive(Debug, Default)]
pub struct CycleReport {
    pub pending: usize,
    pub signed: usize,
    pub rejected: usize,
    pub failed: usize,
    /// A pending request or the error report failed.
    pub api_failed: bool,
    pub elapsed: std::time::Duration,
    /// CPU time the whole process spent during the cycle: what a cycle
    /// costs the machine, apart from waiting on the network.
    pub cpu: std::time::Duration,
}

impl CycleReport {
    pub fn anything_failed(&self) -> bool {
        self.failed > 0 || self.api_failed
    }

    pub fn log(&self, message: &str) {
        tracing::info!(
            pending = self.pending,
            signed = self.signed,
            rejected = self.rejected,
            failed = self.failed,
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
    /// Reported to the Tatum API.
    Failed(String),
}

pub struct Worker {
    pub vault: Vault,
    pub keys: KeyCache,
    pub chains: Vec<Chain>,
    pub testnet: bool,
    /// `--wallets` (with `--runOnce`): only these signature ids.
    pub wallet_filter: Option<HashSet<String>>,
    /// `--transactionIds` (with `--runOnce`): only these pending transactions.
    pub tx_filter: Option<HashSet<String>>,
    pub client: Arc<TatumClient>,
    pub approver: Option<Arc<dyn Approver>>,
    pub metrics: Arc<Metrics>,
    /// `TATUM_KMS_DEBUG_MODE`: log signed payloads too.
    pub debug: bool,
    pub stop: Arc<AtomicBool>,
    /// Signature ids per chain of the store as last read: the store is
    /// scanned when it changes, not every cycle.
    ids: HashMap<Chain, Vec<String>>,
    unauthorized_logged: bool,
    version_logged: Option<Instant>,
}

impl Worker {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        vault: Vault,
        chains: Vec<Chain>,
        testnet: bool,
        wallet_filter: Option<HashSet<String>>,
        tx_filter: Option<HashSet<String>>,
        client: Arc<TatumClient>,
        approver: Option<Arc<dyn Approver>>,
        metrics: Arc<Metrics>,
        debug: bool,
        stop: Arc<AtomicBool>,
    ) -> Worker {
        let mut worker = Worker {
            vault,
            keys: KeyCache::new(),
            chains,
            testnet,
            wallet_filter,
            tx_filter,
            client,
            approver,
            metrics,
            debug,
            stop,
            ids: HashMap::new(),
            unauthorized_logged: false,
            version_logged: None,
        };
        worker.index();
        worker
    }

    /// How many of the store's wallets this daemon serves.
    pub fn wallets_served(&self) -> usize {
        self.ids.values().map(Vec::len).sum()
    }

    fn index(&mut self) {
        self.ids = self
            .chains
            .iter()
            .map(|&chain| {
                let mut ids = self.vault.ids_for(chain.as_str(), self.testnet);
                if let Some(only) = &self.wallet_filter {
                    ids.retain(|id| only.contains(id));
                }
                (chain, ids)
            })
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
        for chain in self.chains.clone() {
            let ids = &self.ids[&chain];
            if ids.is_empty() {
                continue;
            }
            let started = Instant::now();
            let answer = self.client.pending(chain, ids).await;
            self.metrics.api_call(started, answer.is_ok());
            match answer {
                Ok(txs) => {
                    self.unauthorized_logged = false;
                    tracing::debug!(%chain, wallets = ids.len(), pending = txs.len(), "asked for pending transactions");
                    pending.extend(txs);
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
        report.pending = pending.len();
        Metrics::add(&self.metrics.pending_seen, pending.len() as u64);

        let mut errors = Vec::new();
        for (done, tx) in pending.iter().enumerate() {
            if self.stop.load(Ordering::SeqCst) {
                tracing::info!(
                    left = pending.len() - done,
                    "stopping: the remaining transactions stay pending for the next run"
                );
                break;
            }
            if let Some(only) = &self.tx_filter {
                if !only.contains(&tx.id) {
                    tracing::info!(tx = %tx.id, "skipped: not among --transactionIds");
                    continue;
                }
            }
            match self.process(tx).await {
                Ok(tx_id) => {
                    report.signed += 1;
                    Metrics::add(&self.metrics.signed, 1);
                    tracing::info!(tx = %tx.id, chain = %tx.chain, tx_id = tx_id.as_deref().unwrap_or("-"), "signed and broadcast");
                }
                Err(Skip::Rejected(reason)) => {
                    report.rejected += 1;
                    Metrics::add(&self.metrics.rejected, 1);
                    tracing::warn!(tx = %tx.id, chain = %tx.chain, %reason, "not approved; not signed");
                }
                Err(Skip::Failed(error)) => {
                    report.failed += 1;
                    Metrics::add(&self.metrics.failed, 1);
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
            let sent = self.client.report_errors(&errors).await;
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

    /// Approve, sign, broadcast. Returns the broadcast's txId.
    async fn process(&mut self, tx: &PendingTransaction) -> Result<Option<String>, Skip> {
        let chain: Chain = tx
            .chain
            .parse()
            .map_err(|e: kms_core::UnsupportedChain| Skip::Failed(e.to_string()))?;
        if let Some(approver) = &self.approver {
            match approver.check(tx).await {
                Decision::Approved => tracing::info!(tx = %tx.id, "approved"),
                Decision::Rejected(reason) => return Err(Skip::Rejected(reason)),
            }
        }
        let keys = self
            .keys
            .resolve(self.vault.wallets(), tx)
            .map_err(|e| Skip::Failed(e.to_string()))?;
        let input = keys.sign_input(tx, self.testnet);
        let s = signer(chain);
        let api = self.client.as_ref();
        let prepared = s
            .prepare(&input, api)
            .await
            .map_err(|e| Skip::Failed(e.to_string()))?;
        let signed = s
            .sign(&input, &prepared)
            .map_err(|e| Skip::Failed(e.to_string()))?;
        drop(keys);
        if self.debug {
            tracing::info!(tx = %tx.id, tx_data = %signed.tx_data, "signed (shown because TATUM_KMS_DEBUG_MODE is set)");
        }
        let tx_data = s
            .submit(signed, api)
            .await
            .map_err(|e| Skip::Failed(e.to_string()))?;
        let started = Instant::now();
        let sent = match &tx.withdrawal_id {
            Some(withdrawal) => {
                self.client
                    .offchain_broadcast(chain, &tx_data, withdrawal, &tx.id)
                    .await
            }
            None => self.client.broadcast(chain, &tx_data, &tx.id).await,
        };
        self.metrics.api_call(started, sent.is_ok());
        match sent {
            Ok(b) if b.failed => Err(Skip::Failed(format!(
                "the Tatum API could not broadcast it (failed: true, txId {})",
                b.tx_id.as_deref().unwrap_or("none")
            ))),
            Ok(b) => Ok(b.tx_id),
            Err(e) => Err(Skip::Failed(format!("broadcast: {e}"))),
        }
    }

    fn log_unauthorized(&mut self, e: &TatumError) {
        if !self.unauthorized_logged {
            tracing::error!(error = %e, "the Tatum API refuses the API key; nothing is signed until it is accepted (checking again every cycle)");
            self.unauthorized_logged = true;
        } else {
            tracing::debug!(error = %e, "the API key is still refused");
        }
    }

    /// The API's `x-ttm-kms-latest-version` notice, at most every 30 s.
    fn log_version_notice(&mut self) {
        let Some(notice) = self.client.latest_version() else {
            return;
        };
        let ours = env!("CARGO_PKG_VERSION");
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

/// CPU time used so far by every thread of this process.
fn process_cpu_time() -> std::time::Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec we own.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) } != 0 {
        return std::time::Duration::ZERO;
    }
    std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}
