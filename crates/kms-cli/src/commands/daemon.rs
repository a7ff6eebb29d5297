//! `daemon`: wires the signing daemon of `kms-signing` to the Tatum API
//! client, the approval service, `/healthz` and `/metrics`, and the
//! process's signals. The password is obtained and checked once, at start;
//! SIGTERM or Ctrl-C lets the transaction in hand finish, then exits (a
//! second one exits at once).

use std::sync::Arc;
use std::time::Duration;

use kms_approval::{Approver, HttpApprover, HttpApproverConfig, Method};
use kms_core::{Chain, SignatureId};
use kms_signing::{Daemon, DaemonConfig, DaemonLock, Policy, Stopper};
use secrecy::SecretString;

use super::serve;
use crate::cli::{DaemonArgs, ExternalUrlMethod};
use crate::context::Context;
use crate::error::CliError;

pub(super) fn run(opts: DaemonArgs, ctx: Context) -> Result<(), CliError> {
    let api_key = ctx.api_key().ok_or_else(|| {
        CliError::usage("daemon: no Tatum API key; set TATUM_API_KEY (environment or .env file) or pass --apiKey")
    })?;
    if !opts.run_once && (opts.wallets.is_some() || opts.transaction_ids.is_some()) {
        return Err(CliError::usage(
            "--wallets and --transactionIds only apply to a single run; add --runOnce",
        ));
    }
    // Wrong password, unreadable store: fail now, not at the first transaction.
    let password = ctx.password()?;
    let vault = ctx.unlock(&password)?;
    drop(password);

    let chains = if opts.chain.is_empty() {
        Chain::ALL.to_vec()
    } else {
        opts.chain.clone()
    };
    let mut config = DaemonConfig::new(chains, ctx.network());
    config.wallets = opts
        .wallets
        .clone()
        .map(|ids| ids.into_iter().map(SignatureId::from).collect());
    config.transactions = opts
        .transaction_ids
        .clone()
        .map(|ids| ids.into_iter().collect());
    config.period = Duration::from_secs_f64(opts.period);
    config.log_signed_payloads = ctx
        .var("TATUM_KMS_DEBUG_MODE")
        .is_some_and(|v| v != "false" && v != "0");
    config.concurrency = usize::from(opts.concurrency);
    config.lease = Duration::from_secs_f64(opts.lease);
    if let Some(name) = opts
        .replica
        .clone()
        .or_else(|| ctx.var("TATUM_KMS_REPLICA"))
    {
        config.replica = name;
    }
    // Before anything is asked of the API: no second daemon on these wallets.
    let _lock = DaemonLock::acquire(&ctx.store_path(), &config.chains, config.network)
        .map_err(|e| CliError::failure(e.to_string()))?;
    let client = Arc::new(ctx.tatum_client(api_key)?);
    let mut daemon = Daemon::new(config, vault, client, approver(&opts, &ctx)?);
    match &opts.policy {
        Some(path) => {
            let policy = Policy::load(path).map_err(|e| CliError::usage(e.to_string()))?;
            daemon = daemon.with_policy(policy);
        }
        None => tracing::info!(
            "no --policy: every transaction the approver approves is signed (docs/security.md shows a policy file)"
        ),
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("starting the async runtime: {e}")))?;
    runtime.block_on(async move {
        if let Some(addr) = opts.metrics_addr {
            let bound = serve::serve(addr, daemon.metrics())
                .await
                .map_err(|e| CliError::failure(format!("--metrics-addr {addr}: {e}")))?;
            tracing::info!(%bound, "serving /healthz and /metrics");
        }
        watch_signals(daemon.stopper());
        tracing::info!(
            wallets = daemon.wallets_served(),
            chains = daemon.config().chains.len(),
            testnet = daemon.config().network.is_testnet(),
            period_s = opts.period,
            approval = daemon.has_approver(),
            policy = daemon.has_policy(),
            "daemon started"
        );
        if daemon.wallets_served() == 0 {
            tracing::warn!("no wallets for these chains and network yet; wallets added later are picked up at the next cycle");
        }

        if opts.run_once {
            let report = daemon.cycle().await;
            report.log("single run done");
            return if report.anything_failed() {
                Err(CliError::failure(format!(
                    "the run had failures: {} transaction(s) failed{}",
                    report.failed,
                    if report.api_failed {
                        ", and requests to the Tatum API failed"
                    } else {
                        ""
                    }
                )))
            } else {
                Ok(())
            };
        }
        daemon.run().await;
        tracing::info!("daemon stopped");
        Ok(())
    })
}

/// First SIGTERM/SIGINT: finish the transaction in hand, then stop.
/// Second: stop now.
fn watch_signals(stopper: Stopper) {
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
            stopper.stop();
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
    .map_err(|e| CliError::usage(format!("--externalUrl: {e}")))?;
    Ok(Some(Arc::new(approver)))
}
