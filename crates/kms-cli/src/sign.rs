//! `signpending [FILE|-]`: signs one pending transaction with the stored
//! keys and prints it, without sending anything. For air-gapped signing and
//! for checking what the daemon would broadcast.

use std::io::Read;
use std::path::Path;

use kms_chain_signers::{signer, ChainApi, OfflineApi};
use kms_core::PendingTransaction;
use serde_json::{json, Value};

use crate::commands::{parse_chain, print_json};
use crate::context::Context;
use crate::error::CliError;
use crate::keys::KeyCache;

pub fn sign_pending(ctx: &Context, file: Option<&Path>, online: bool) -> Result<(), CliError> {
    let (text, source) = read_input(file)?;
    let pending = parse_pending(&text, &source)?;
    let chain = parse_chain(&pending.chain)?;
    // --online fetches what signing needs (nonce, fee, blockhash...) but
    // never broadcasts: the signed transaction is only printed.
    let client = if online {
        let key = ctx.api_key().ok_or_else(|| {
            CliError::usage(
                "Error: signpending --online: no Tatum API key; set TATUM_API_KEY or pass --apiKey",
            )
        })?;
        Some(ctx.tatum_client(key)?)
    } else {
        None
    };
    let api: &dyn ChainApi = match &client {
        Some(c) => c,
        None => &OfflineApi,
    };

    let vault = ctx.open_vault()?;
    let keys = KeyCache::new()
        .resolve(vault.wallets(), &pending)
        .map_err(|e| CliError::failure(format!("Error: {e}")))?;
    let input = keys.sign_input(&pending, ctx.global.testnet);
    let s = signer(chain);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("Error: starting the async runtime: {e}")))?;
    let prepared = runtime.block_on(s.prepare(&input, api))?;
    let signed = s.sign(&input, &prepared)?;
    tracing::info!(tx = %pending.id, %chain, "signed a pending transaction");

    let mut out = json!({
        "id": pending.id,
        "chain": chain.as_str(),
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
                .map_err(|e| CliError::failure(format!("Error: {}: {e}", path.display())))?;
            Ok((text, path.display().to_string()))
        }
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::failure(format!("Error: reading stdin: {e}")))?;
            Ok((text, "stdin".into()))
        }
    }
}

fn parse_pending(text: &str, source: &str) -> Result<PendingTransaction, CliError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| CliError::failure(format!("Error: {source}: not JSON: {e}")))?;
    if let Value::Array(items) = &value {
        return Err(CliError::failure(format!(
            "Error: {source}: expected one pending transaction (a JSON object), got a list of {}; pass them one at a time (e.g. jq '.[0]')",
            items.len()
        )));
    }
    serde_json::from_value(value).map_err(|e| {
        CliError::failure(format!(
            "Error: {source}: not a pending transaction (id, chain, serializedTransaction, hashes...): {e}"
        ))
    })
}
