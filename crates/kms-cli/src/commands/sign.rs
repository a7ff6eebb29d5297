//! `signpending [FILE|-]`: signs one pending transaction with the stored
//! keys and prints it, without sending anything. For air-gapped signing and
//! for checking what the daemon would broadcast.

use std::io::Read;
use std::path::Path;

use kms_core::PendingTransaction;
use kms_signing::{pipeline, KeySelector, Scope};
use serde_json::json;

use super::print_json;
use crate::context::Context;
use crate::error::CliError;

pub(super) fn sign_pending(
    ctx: &Context,
    file: Option<&Path>,
    online: bool,
) -> Result<(), CliError> {
    let (text, source) = read_input(file)?;
    let pending = PendingTransaction::from_json(&text)
        .map_err(|e| CliError::failure(format!("{source}: {}", e.reason)))?;
    // --online fetches what signing needs (nonce, fee, blockhash...) but
    // never broadcasts: the signed transaction is only printed.
    let client = match online {
        true => {
            let key = ctx.api_key().ok_or_else(|| {
                CliError::usage(
                    "signpending --online: no Tatum API key; set TATUM_API_KEY or pass --apiKey",
                )
            })?;
            Some(ctx.tatum_client(key)?)
        }
        false => None,
    };

    let vault = ctx.open_vault()?;
    let mut keys = KeySelector::new();
    // Only wallets of the transaction's chain on the network of --testnet.
    let scope = Scope::whole_store(&vault, pending.chain, ctx.network());
    let signed = match &client {
        None => pipeline::sign_offline(&mut keys, vault.wallets(), &scope, &pending)?,
        Some(api) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| CliError::failure(format!("starting the async runtime: {e}")))?;
            runtime.block_on(async {
                let prepared =
                    pipeline::prepare(&mut keys, vault.wallets(), &scope, &pending, api).await?;
                let facts = prepared.facts().clone();
                let signed = prepared.sign();
                // Nothing is sent: what prepare reserved (FLOW: Tatum's
                // proposal key) is given back, signed or not.
                pipeline::release(&pending, &facts, api).await?;
                signed
            })?
        }
    };
    tracing::info!(tx = %pending.id, chain = %pending.chain, "signed a pending transaction");

    let mut out = json!({
        "id": pending.id,
        "chain": pending.chain.as_str(),
        "txData": signed.tx_data,
    });
    if let Some(withdrawal_id) = &pending.withdrawal_id {
        out["withdrawalId"] = json!(withdrawal_id);
    }
    if let Some(wire) = signed.node_submission {
        out["signedTransaction"] = json!(wire);
    }
    print_json(&out)
}

/// The file's text, or stdin's for `-` or no file; and how to name it in errors.
fn read_input(file: Option<&Path>) -> Result<(String, String), CliError> {
    match file.filter(|f| f.as_os_str() != "-") {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::failure(format!("{}: {e}", path.display())))?;
            Ok((text, path.display().to_string()))
        }
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::failure(format!("reading stdin: {e}")))?;
            Ok((text, "stdin".into()))
        }
    }
}
