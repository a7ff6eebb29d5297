//! `audit`: the signing ledger's trail as JSON (`audit`), its hash chain
//! checked (`audit verify`), old entries removed (`audit prune`). Needs no
//! password: the ledger holds no secret.

use std::sync::Arc;

use kms_ledger::{verify, AuditFilter, Ledger, Verification};
use serde_json::{json, Value};

use crate::cli::{AuditAction, AuditArgs};
use crate::context::Context;
use crate::error::CliError;

pub(super) fn run(opts: AuditArgs, ctx: &Context) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("starting the async runtime: {e}")))?;
    runtime.block_on(async {
        let ledger = super::daemon::open_ledger(ctx, opts.ledger.as_deref()).await?;
        match opts.action {
            None => list(ledger, &opts.filter()).await,
            Some(AuditAction::Verify { head }) => check(ledger, head.as_deref()).await,
            Some(AuditAction::Prune { before }) => {
                let removed = ledger.prune(before).await.map_err(ledger_error)?;
                let (seq, hash) = ledger.anchor().await.map_err(ledger_error)?;
                super::print_json(
                    &json!({"removed": removed, "anchor": {"seq": seq, "hash": hash}}),
                )
            }
        }
    })
}

fn ledger_error(e: kms_ledger::LedgerError) -> CliError {
    CliError::failure(format!("ledger: {e}"))
}

async fn list(ledger: Arc<dyn Ledger>, filter: &AuditFilter) -> Result<(), CliError> {
    let entries = ledger.entries(filter).await.map_err(ledger_error)?;
    let shown: Vec<Value> = entries
        .iter()
        .map(|entry| {
            let mut value = serde_json::to_value(entry).unwrap_or_default();
            if let Some(object) = value.as_object_mut() {
                object.insert("at".into(), json!(rfc3339(entry.at_ms)));
            }
            value
        })
        .collect();
    super::print_json(&shown)
}

/// Checks the whole trail from its anchor; with `head`, also that the
/// trail still holds that entry (a hash noted earlier, elsewhere): a cut
/// end, which no chain shows by itself, is then found too.
async fn check(ledger: Arc<dyn Ledger>, head: Option<&str>) -> Result<(), CliError> {
    let entries = ledger
        .entries(&AuditFilter::default())
        .await
        .map_err(ledger_error)?;
    let (seq, hash) = ledger.anchor().await.map_err(ledger_error)?;
    let outcome = verify(&entries, (seq, &hash));
    let (report, problem) = match &outcome {
        Verification::Intact {
            entries: n,
            head: last,
        } => {
            let missing_head = head.filter(|h| *h != hash && !entries.iter().any(|e| e.hash == *h));
            match missing_head {
                Some(h) => (
                    json!({"intact": false, "problem": "the noted head is not in the trail: entries were removed from its end or it was rewritten", "head": h}),
                    Some(format!(
                        "audit verify: the trail does not hold the noted head {h}"
                    )),
                ),
                None => (
                    json!({"intact": true, "entries": n, "head": last, "anchor": {"seq": seq, "hash": hash}}),
                    None,
                ),
            }
        }
        Verification::Edited { seq } => (
            json!({"intact": false, "problem": "edited", "seq": seq}),
            Some(format!("audit verify: entry {seq} was edited")),
        ),
        Verification::Missing { seq } => (
            json!({"intact": false, "problem": "missing", "seq": seq}),
            Some(format!("audit verify: entries are missing before {seq}")),
        ),
        Verification::Unlinked { seq } => (
            json!({"intact": false, "problem": "unlinked", "seq": seq}),
            Some(format!(
                "audit verify: entry {seq} does not follow the one before it (rewritten)"
            )),
        ),
    };
    super::print_json(&report)?;
    match problem {
        None => Ok(()),
        Some(message) => Err(CliError::failure(message)),
    }
}

/// `2026-12-05T19:38:30.123Z`.
fn rfc3339(at_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(at_ms)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| at_ms.to_string())
}
