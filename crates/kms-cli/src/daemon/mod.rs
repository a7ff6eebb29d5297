//! The signing daemon: every `--period` seconds one [`cycle::Worker::cycle`],
//! never two at once. The password is obtained and checked once, at start;
//! SIGTERM or Ctrl-C lets the transaction in hand finish, then exits
//! (a second one exits at once).

mod cycle;
mod metrics;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kms_approval::{Approver, HttpApprover, HttpApproverConfig, Method};
use kms_core::Chain;
use kms_vault::Vault;
use secrecy::SecretString;

use crate::cli::{DaemonArgs, ExternalUrlMethod};
use crate::context::Context;
use crate::error::CliError;
use cycle::Worker;
use metrics::Metrics;

pub fn run(opts: DaemonArgs, ctx: Context) -> Result<(), CliError> {
    let testnet = ctx.global.testnet;
    let api_key = ctx.api_key().ok_or_else(|| {
        CliError::usage("Error: daemon: no Tatum API key; set TATUM_API_KEY (environment or .env file) or pass --apiKey")
    })?;
    if !opts.run_once && (opts.wallets.is_some() || opts.transaction_ids.is_some()) {
        return Err(CliError::usage(
            "Error: --wallets and --transactionIds only apply to a single run; add --runOnce",
        ));
    }
    // Wrong password, unreadable store: fail now, not at the first transaction.
    let password = ctx.password()?;
    let vault = Vault::open(&ctx.store_path(), &password, ctx.kdf_params()?)?;
    drop(password);

    let chains = if opts.chain.is_empty() {
        Chain::ALL.to_vec()
    } else {
        opts.chain.clone()
    };
    let period = Duration::from_secs_f64(opts.period);
    let client = Arc::new(ctx.tatum_client(api_key)?);
    let approver = approver(&opts, &ctx)?;
    let metrics = Metrics::new(period);
    let stop = Arc::new(AtomicBool::new(false));
    let wallet_filter = opts.wallets.clone().map(HashSet::from_iter);
    let tx_filter = opts.transaction_ids.clone().map(HashSet::from_iter);
    if let Some(ids) = &wallet_filter {
        for id in ids {
            if vault.get(id).is_none() {
                tracing::warn!(wallet = %id, "--wallets names a wallet the store does not hold; ignored");
            }
        }
    }
    let mut worker = Worker::new(
        vault,
        chains,
        testnet,
        wallet_filter,
        tx_filter,
        client,
        approver,
        metrics.clone(),
        ctx.var("TATUM_KMS_DEBUG_MODE")
            .is_some_and(|v| v != "false" && v != "0"),
        stop.clone(),
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("Error: starting the async runtime: {e}")))?;
    runtime.block_on(async move {
        if let Some(addr) = opts.metrics_addr {
            let bound = metrics::serve(addr, metrics.clone()).await.map_err(|e| {
                CliError::failure(format!("Error: --metrics-addr {addr}: {e}"))
            })?;
            tracing::info!(%bound, "serving /healthz and /metrics");
        }
        let wake = Arc::new(tokio::sync::Notify::new());
        watch_signals(stop.clone(), wake.clone());
        tracing::info!(
            wallets = worker.wallets_served(),
            chains = worker.chains.len(),
            testnet,
            period_s = opts.period,
            approval = worker.approver.is_some(),
            "daemon started"
        );
        if worker.wallets_served() == 0 {
            tracing::warn!("no wallets for these chains and network yet; wallets added later are picked up at the next cycle");
        }

        if opts.run_once {
            let report = worker.cycle().await;
            report.log("single run done");
            return if report.anything_failed() {
                Err(CliError::failure(format!(
                    "Error: the run had failures: {} transaction(s) failed{}",
                    report.failed,
                    if report.api_failed { ", and requests to the Tatum API failed" } else { "" }
                )))
            } else {
                Ok(())
            };
        }
        loop {
            let started = Instant::now();
            let report = worker.cycle().await;
            if report.pending > 0 || report.anything_failed() {
                report.log("cycle done");
            }
            if stop.load(Ordering::SeqCst) {
                break;
            }
            // The next cycle starts a period after this one started, or at
            // once if this one took longer: cycles never overlap.
            let next = started + period;
            tokio::select! {
                _ = tokio::time::sleep_until(next.into()) => {}
                _ = wake.notified() => {}
            }
            if stop.load(Ordering::SeqCst) {
                break;
            }
        }
        tracing::info!("daemon stopped");
        Ok(())
    })
}

/// First SIGTERM/SIGINT: finish the transaction in hand, then stop.
/// Second: stop now.
fn watch_signals(stop: Arc<AtomicBool>, wake: Arc<tokio::sync::Notify>) {
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("cannot watch for SIGTERM/SIGINT");
            return;
        };
        for count in 1.. {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            if count > 1 {
                tracing::warn!("second signal: exiting now");
                std::process::exit(130);
            }
            tracing::info!("signal received: finishing the transaction in hand, then exiting");
            stop.store(true, Ordering::SeqCst);
            wake.notify_one();
        }
    });
}

/// `--externalUrl`: the approval service, asked before every signature;
/// `TATUM_KMS_APPROVAL_SECRET` turns on signed requests and answers.
fn approver(opts: &DaemonArgs, ctx: &Context) -> Result<Option<Arc<dyn Approver>>, CliError> {
    let Some(url) = &opts.external_url else {
        return Ok(None);
    };
    let secret = ctx.var("TATUM_KMS_APPROVAL_SECRET").map(SecretString::from);
    if secret.is_none() {
        tracing::info!("TATUM_KMS_APPROVAL_SECRET is not set: approval requests and answers are not signed (docs/approval.md)");
    }
    let approver = HttpApprover::new(HttpApproverConfig {
        url: url.trim_end_matches('/').to_string(),
        method: match opts.external_url_method {
            ExternalUrlMethod::Get => Method::Get,
            ExternalUrlMethod::Post => Method::Post,
        },
        timeout: Duration::from_secs_f64(opts.external_url_timeout),
        secret,
    })
    .map_err(|e| CliError::usage(format!("Error: --externalUrl: {e}")))?;
    Ok(Some(Arc::new(approver)))
}
