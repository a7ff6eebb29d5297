//! `daemon`: wires the signing daemon of `kms-signing` to the Tatum API
//! client, the approval service, `/healthz` and `/metrics`, and the
//! process's signals. The password is obtained and checked once, at start;
//! SIGTERM or Ctrl-C lets the transaction in hand finish, then exits (a
//! second one exits at once).

use std::sync::Arc;
use std::time::Duration;

use kms_approval::{Approver, HttpApprover, HttpApproverConfig, Method};
use kms_core::{Chain, SignatureId};
use kms_ledger::{Ledger, LedgerError};
use kms_signing::{Daemon, DaemonConfig, DaemonLock, Policy, Stopper};
use secrecy::{ExposeSecret, SecretString};

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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("starting the async runtime: {e}")))?;
    let spec = ledger_spec(&ctx, opts.ledger.as_deref());
    let shared = is_shared(&spec);
    // With the embedded ledger, one daemon per store, chain and network on
    // this machine; a shared ledger's claims keep replicas apart instead.
    let _lock = if shared {
        None
    } else {
        Some(
            DaemonLock::acquire(&ctx.store_path(), &config.chains, config.network)
                .map_err(|e| CliError::failure(e.to_string()))?,
        )
    };
    let ledger = runtime.block_on(connect_ledger(&ctx, &spec, opts.run_once))?;
    tracing::info!(
        ledger = if shared { "PostgreSQL (shared)" } else { "embedded" },
        replica = %config.replica,
        concurrency = config.concurrency,
        lease_s = config.lease.as_secs_f64(),
        "signing ledger open"
    );
    let client = Arc::new(ctx.tatum_client(api_key)?);
    let mut daemon = Daemon::new(config, vault, client, approver(&opts, &ctx)?).with_ledger(ledger);
    match &opts.policy {
        Some(path) => {
            let policy = Policy::load(path).map_err(|e| CliError::usage(e.to_string()))?;
            daemon = daemon.with_policy(policy);
        }
        None => tracing::info!(
            "no --policy: every transaction the approver approves is signed (docs/security.md shows a policy file)"
        ),
    }

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

/// `--ledger`, else `TATUM_KMS_LEDGER`, else empty (the file beside the store).
fn ledger_spec(ctx: &Context, flag: Option<&str>) -> SecretString {
    SecretString::from(
        flag.map(str::to_owned)
            .or_else(|| ctx.var("TATUM_KMS_LEDGER"))
            .unwrap_or_default(),
    )
}

fn is_shared(spec: &SecretString) -> bool {
    kms_ledger::is_shared(spec.expose_secret())
}

/// The ledger, for `audit` (no retry: it reports and exits).
pub(super) async fn open_ledger(
    ctx: &Context,
    flag: Option<&str>,
) -> Result<Arc<dyn Ledger>, CliError> {
    let spec = ledger_spec(ctx, flag);
    let default = ledger_file(ctx);
    kms_ledger::open(spec.expose_secret(), &default)
        .await
        .map_err(|e| CliError::failure(format!("ledger: {e}")))
}

/// `wallet.dat.ledger` beside the store.
fn ledger_file(ctx: &Context) -> std::path::PathBuf {
    let mut name = ctx.store_path().into_os_string();
    name.push(".ledger");
    name.into()
}

/// Opens the ledger. A shared one that does not answer yet is waited for
/// (nothing can be signed without it; the log says so every attempt),
/// except in a single run, which fails at once. A spec that is wrong
/// fails at once.
async fn connect_ledger(
    ctx: &Context,
    spec: &SecretString,
    run_once: bool,
) -> Result<Arc<dyn Ledger>, CliError> {
    let default = ledger_file(ctx);
    let mut wait = Duration::from_secs(1);
    loop {
        match kms_ledger::open(spec.expose_secret(), &default).await {
            Ok(ledger) => return Ok(ledger),
            Err(e @ LedgerError::Unavailable(_)) if is_shared(spec) && !run_once => {
                tracing::error!(error = %e, retry_s = wait.as_secs(), "the signing ledger does not answer; nothing is signed until it does");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(30));
            }
            Err(e) => return Err(CliError::failure(format!("ledger: {e}"))),
        }
    }
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
