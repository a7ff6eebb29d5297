//! One function per command.

use std::io::{IsTerminal, Write};

use kms_chain_signers::{parse_index, signer, Mnemonic, Signer, SignerError};
use kms_core::{Chain, WalletEntry};
use kms_vault::Vault;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};

use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::error::CliError;
use crate::secret_input::{prompt_password, read_secret};

pub fn run(cli: Cli) -> Result<(), CliError> {
    let Some(command) = cli.command else {
        // As the original: no command prints the help.
        let mut cmd = <Cli as clap::CommandFactory>::command();
        cmd.print_long_help()
            .map_err(|e| CliError::failure(format!("Error: {e}")))?;
        return Ok(());
    };
    let ctx = Context::load(cli.global)?;
    match command {
        Command::Daemon(opts) => crate::daemon::run(opts, ctx),
        Command::GenerateWallet { chain } => generate_wallet(&ctx, &chain),
        Command::GenerateManagedWallet { chain } => store_wallet(&ctx, &chain, None),
        Command::StoreManagedWallet { chain } => {
            let chain = parse_chain(&chain)?;
            let phrase = read_secret("Enter mnemonic to store:", "mnemonic")?;
            let mnemonic = Mnemonic::parse(phrase.expose_secret())?;
            store_wallet(&ctx, chain.as_str(), Some(&mnemonic))
        }
        Command::StoreManagedPrivateKey { chain } => store_private_key(&ctx, &chain),
        Command::GenerateManagedPrivateKeyBatch { chain, count } => batch(&ctx, &chain, &count),
        Command::GetPrivateKey { id, index } => get_private_key(&ctx, &id, &index),
        Command::GetAddress { id, index } => get_address(&ctx, &id, &index),
        Command::GetManagedWallet { id } => get_managed_wallet(&ctx, &id),
        Command::RemoveWallet { id } => remove_wallet(&ctx, &id),
        Command::Export => export(&ctx),
        Command::CheckConfig => check_config(&ctx),
        Command::Report { ids } => report(&ctx, &ids),
        Command::Migrate => migrate(&ctx),
        Command::ChangePassword => change_password(&ctx),
        Command::SignPending { file, online } => {
            crate::sign::sign_pending(&ctx, file.as_deref(), online)
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "tatum-kms", &mut std::io::stdout());
            Ok(())
        }
        Command::Manpage => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .map_err(|e| CliError::failure(format!("Error: {e}")))
        }
    }
}

pub(crate) fn parse_chain(name: &str) -> Result<Chain, CliError> {
    Ok(name.parse::<Chain>()?)
}

/// `JSON.stringify(value, null, 2)` on stdout.
pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = zeroize::Zeroizing::new(
        serde_json::to_string_pretty(value)
            .map_err(|e| CliError::failure(format!("Error: {e}")))?,
    );
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", text.as_str())
        .and_then(|()| out.flush())
        .map_err(|e| CliError::failure(format!("Error: writing the output: {e}")))
}

fn check_id(id: &str) -> Result<(), CliError> {
    if id.trim().is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CliError::usage(format!(
            "Error: '{}' is not a signatureId (it must be non-empty, without spaces or control characters)",
            id.escape_debug()
        )));
    }
    Ok(())
}

/// The wallet `id` (already checked by [`check_id`]).
fn wallet<'v>(vault: &'v Vault, id: &str) -> Result<&'v WalletEntry, CliError> {
    vault.get(id).ok_or_else(|| CliError::no_wallet(id))
}

fn wallet_chain(entry: &WalletEntry, id: &str) -> Result<&'static dyn Signer, CliError> {
    let name = entry
        .chain_name()
        .ok_or_else(|| CliError::failure(format!("Error: wallet '{id}' has no chain")))?;
    Ok(signer(parse_chain(name)?))
}

fn generate_wallet(ctx: &Context, chain: &str) -> Result<(), CliError> {
    let chain = parse_chain(chain)?;
    let wallet = signer(chain).generate_wallet(ctx.global.testnet, None)?;
    print_json(&wallet)?;
    Ok(())
}

/// A stored wallet: the chain's wallet fields, then `chain` and `testnet`.
fn managed(wallet: WalletEntry, chain: Chain, testnet: bool) -> WalletEntry {
    wallet
        .with("chain", chain.as_str())
        .with("testnet", testnet)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn store_wallet(ctx: &Context, chain: &str, mnemonic: Option<&Mnemonic>) -> Result<(), CliError> {
    let chain = parse_chain(chain)?;
    let testnet = ctx.global.testnet;
    let wallet = signer(chain).generate_wallet(testnet, mnemonic)?;
    let mut out = Map::new();
    let id = new_id();
    out.insert("signatureId".into(), json!(id));
    if let Some(address) = wallet.address() {
        out.insert("address".into(), json!(address));
    }
    if let Some(xpub) = wallet.xpub() {
        out.insert("xpub".into(), json!(xpub));
    }
    let mut vault = ctx.open_vault_for_writing()?;
    vault.update(|w| w.insert_first(id, managed(wallet, chain, testnet)))?;
    print_json(&out)?;
    Ok(())
}

fn store_private_key(ctx: &Context, chain: &str) -> Result<(), CliError> {
    let chain = parse_chain(chain)?;
    let testnet = ctx.global.testnet;
    let key = read_secret("Enter private key to store:", "private key")?;
    // Checked before it is stored: a mistyped key would only fail at signing time.
    signer(chain).address_from_private_key(testnet, &key)?;
    let mut vault = ctx.open_vault_for_writing()?;
    let id = new_id();
    let entry = WalletEntry::new().with("privateKey", key.expose_secret());
    vault.update(|w| w.insert_first(id.clone(), managed(entry, chain, testnet)))?;
    print_json(&json!({ "signatureId": id }))?;
    Ok(())
}

fn batch(ctx: &Context, chain: &str, count: &str) -> Result<(), CliError> {
    let chain = parse_chain(chain)?;
    let count: usize = count.trim().parse().map_err(|_| {
        CliError::usage(format!(
            "Error: count must be a whole number, not '{count}'"
        ))
    })?;
    let testnet = ctx.global.testnet;
    let s = signer(chain);
    let mut vault = ctx.open_vault_for_writing()?;

    let progress = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(count as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    // As the original: a fresh wallet each, its key and address at index 1
    // (or the wallet's own secret and address), stored as a private-key
    // wallet. Each needs a PBKDF2 run and a BIP32 path: spread over the cores.
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(count.max(1));
    let made: Vec<(String, SecretString, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let share = count / workers + usize::from(w < count % workers);
                let progress = &progress;
                scope.spawn(move || -> Result<Vec<_>, CliError> {
                    (0..share)
                        .map(|_| {
                            let key = fresh_key(s, chain, testnet)?;
                            progress.inc(1);
                            Ok(key)
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("batch worker panicked"))
            .collect::<Result<Vec<Vec<_>>, CliError>>()
            .map(|parts| parts.into_iter().flatten().collect())
    })?;
    progress.finish_and_clear();
    // One write for the whole batch.
    vault.update(|w| {
        for (id, key, _) in &made {
            let entry = WalletEntry::new().with("privateKey", key.expose_secret());
            w.insert_first(id.clone(), managed(entry, chain, testnet));
        }
    })?;
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    for (id, _, address) in &made {
        let line = json!({ "signatureId": id, "address": address });
        writeln!(stdout, "{line}").map_err(|e| CliError::failure(format!("Error: {e}")))?;
    }
    stdout
        .flush()
        .map_err(|e| CliError::failure(format!("Error: {e}")))
}

/// One new key of the batch: (signatureId, private key, address).
fn fresh_key(
    s: &dyn Signer,
    chain: Chain,
    testnet: bool,
) -> Result<(String, SecretString, String), CliError> {
    let mnemonic = Mnemonic::generate();
    match s.account(testnet, &mnemonic) {
        Ok(account) => Ok((new_id(), account.private_key(1)?, account.address(1)?)),
        // XRP, XLM, ALGO: single-key wallets with their own secret.
        Err(SignerError::Unsupported { .. }) => {
            let wallet = s.generate_wallet(testnet, None)?;
            match (wallet.secret(), wallet.address()) {
                (Some(secret), Some(address)) => Ok((
                    new_id(),
                    SecretString::from(secret.to_string()),
                    address.to_string(),
                )),
                _ => Err(CliError::failure(format!(
                    "Error: {chain} wallets hold no key to store"
                ))),
            }
        }
        Err(e) => Err(e.into()),
    }
}

fn get_private_key(ctx: &Context, id: &str, index: &str) -> Result<(), CliError> {
    check_id(id)?;
    let index = parse_index(index)?;
    let vault = ctx.open_vault()?;
    let entry = wallet(&vault, id)?;
    let key = if let Some(secret) = entry.secret() {
        SecretString::from(secret.to_string())
    } else if let Some(phrase) = entry.mnemonic() {
        let s = wallet_chain(entry, id)?;
        s.account(entry.testnet(), &Mnemonic::parse(phrase)?)?
            .private_key(index)?
    } else if let Some(key) = entry.private_key() {
        // A private-key wallet has one key; the index does not apply.
        SecretString::from(key.to_string())
    } else {
        return Err(CliError::failure(format!(
            "Error: wallet '{id}' holds no key"
        )));
    };
    print_json(&json!({ "privateKey": key.expose_secret() }))?;
    Ok(())
}

fn get_address(ctx: &Context, id: &str, index: &str) -> Result<(), CliError> {
    check_id(id)?;
    let index = parse_index(index)?;
    let vault = ctx.open_vault()?;
    let entry = wallet(&vault, id)?;
    let address = if let Some(address) = entry.address() {
        address.to_string()
    } else {
        let s = wallet_chain(entry, id)?;
        let testnet = entry.testnet();
        if let Some(xpub) = entry.xpub() {
            s.address_from_xpub(testnet, xpub, index)?
        } else if let Some(phrase) = entry.mnemonic() {
            s.account(testnet, &Mnemonic::parse(phrase)?)?
                .address(index)?
        } else if let Some(key) = entry.private_key() {
            s.address_from_private_key(testnet, &SecretString::from(key.to_string()))?
        } else {
            return Err(CliError::failure(format!(
                "Error: wallet '{id}' holds no key"
            )));
        }
    };
    print_json(&json!({ "address": address }))?;
    Ok(())
}

fn get_managed_wallet(ctx: &Context, id: &str) -> Result<(), CliError> {
    check_id(id)?;
    let vault = ctx.open_vault()?;
    print_json(wallet(&vault, id)?)?;
    Ok(())
}

fn remove_wallet(ctx: &Context, id: &str) -> Result<(), CliError> {
    check_id(id)?;
    let mut vault = ctx.open_vault()?;
    if vault.get(id).is_none() {
        return Err(CliError::no_wallet(id));
    }
    vault.update(|w| w.remove(id))?;
    Ok(())
}

fn export(ctx: &Context) -> Result<(), CliError> {
    let vault = ctx.open_vault()?;
    if !vault.file_exists() {
        return Err(CliError::json("No such wallet file."));
    }
    println!("{}", vault.export_pretty().as_str());
    Ok(())
}

fn migrate(ctx: &Context) -> Result<(), CliError> {
    let mut vault = ctx.open_vault()?;
    let backup = vault.migrate()?;
    let out = match backup {
        Some(path) => json!({ "migrated": true, "backup": path.display().to_string() }),
        None => {
            json!({ "migrated": false, "reason": "the store is already in the current format, or empty" })
        }
    };
    print_json(&out)?;
    Ok(())
}

fn change_password(ctx: &Context) -> Result<(), CliError> {
    let mut vault = ctx.open_vault()?;
    let new = match ctx.var("TATUM_KMS_NEW_PASSWORD") {
        Some(p) => SecretString::from(p),
        None => {
            let first = prompt_password("New password:")?;
            let second = prompt_password("New password again:")?;
            match (first, second) {
                (Some(a), Some(b)) if a.expose_secret() == b.expose_secret() => a,
                (Some(_), Some(_)) => return Err(CliError::usage("Error: the two new passwords differ; nothing changed")),
                _ => {
                    return Err(CliError::usage(
                        "Error: no new password: set TATUM_KMS_NEW_PASSWORD, or run on a terminal to be asked",
                    ))
                }
            }
        }
    };
    if new.expose_secret().is_empty() {
        return Err(CliError::usage(
            "Error: refusing an empty password; nothing changed",
        ));
    }
    vault.change_password(&new, ctx.kdf_params()?)?;
    eprintln!("Password changed.");
    Ok(())
}

/// The original's `utils.hideValue`, off-by-one included: the tail it shows
/// skips the very last character.
fn hide_value(value: &str, show_start: usize, show_end: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    let len = chars.len();
    if len <= show_start + show_end {
        return "*".repeat(len);
    }
    let tail: String = chars[len - 1 - show_end..len - 1].iter().collect();
    format!(
        "{}{}{}",
        chars[..show_start].iter().collect::<String>(),
        "*".repeat(len - show_start - show_end),
        tail
    )
}

fn hide_password(value: Option<String>) -> String {
    value
        .map(|v| hide_value(&v, 6, 0))
        .unwrap_or_else(|| "N/A".into())
}

fn hide_api_key(value: Option<String>) -> String {
    value
        .map(|v| hide_value(&v, 6, 6))
        .unwrap_or_else(|| "N/A".into())
}

fn check_config(ctx: &Context) -> Result<(), CliError> {
    let path = ctx.store_path();
    let e = |name: &str| ctx.var(name);
    let rows: Vec<(&str, String)> = vec![
        ("Version", env!("CARGO_PKG_VERSION").to_string()),
        ("Wallet file path", path.display().to_string()),
        ("Wallet exists", path.exists().to_string()),
        ("Wallet store type", ctx.store_type().to_string()),
        (
            "Environment vars file",
            // As the original: the file looked for, whether or not it exists.
            ctx.global
                .env_file
                .clone()
                .unwrap_or_else(crate::env::default_env_file)
                .display()
                .to_string(),
        ),
        (
            "TATUM_API_KEY",
            hide_api_key(ctx.api_key().map(|k| k.expose_secret().to_string())),
        ),
        ("TATUM_KMS_PASSWORD", hide_password(e("TATUM_KMS_PASSWORD"))),
        (
            "TATUM_KMS_VGS_ALIAS",
            hide_password(e("TATUM_KMS_VGS_ALIAS")),
        ),
        (
            "TATUM_KMS_VGS_USERNAME",
            hide_password(e("TATUM_KMS_VGS_USERNAME")),
        ),
        (
            "TATUM_KMS_VGS_PASSWORD",
            hide_password(e("TATUM_KMS_VGS_PASSWORD")),
        ),
        (
            "TATUM_KMS_AZURE_SECRETVERSION",
            hide_password(e("TATUM_KMS_AZURE_SECRETVERSION")),
        ),
        (
            "TATUM_KMS_AZURE_SECRETNAME",
            hide_password(e("TATUM_KMS_AZURE_SECRETNAME")),
        ),
        (
            "TATUM_KMS_AZURE_VAULTURL",
            hide_password(e("TATUM_KMS_AZURE_VAULTURL")),
        ),
        (
            "TATUM_KMS_AWS_REGION",
            e("TATUM_KMS_AWS_REGION").unwrap_or_else(|| "N/A".into()),
        ),
        (
            "TATUM_KMS_AWS_ACCESS_KEY_ID",
            hide_password(e("TATUM_KMS_AWS_ACCESS_KEY_ID")),
        ),
        (
            "TATUM_KMS_AWS_SECRET_ACCESS_KEY",
            hide_password(e("TATUM_KMS_AWS_SECRET_ACCESS_KEY")),
        ),
        (
            "TATUM_KMS_AWS_SECRET_NAME",
            hide_password(e("TATUM_KMS_AWS_SECRET_NAME")),
        ),
        (
            "TATUM_KMS_AWS_SECRET_KEY",
            hide_password(e("TATUM_KMS_AWS_SECRET_KEY")),
        ),
        (
            "TATUM_KMS_DEBUG_MODE",
            e("TATUM_KMS_DEBUG_MODE").unwrap_or_else(|| "N/A".into()),
        ),
    ];
    for (name, value) in rows {
        println!("{name:<33}: {value}");
    }
    Ok(())
}

fn report(ctx: &Context, ids: &str) -> Result<(), CliError> {
    let ids: Vec<&str> = ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let vault = ctx.open_vault()?;
    let mut system_warnings: Vec<String> = Vec::new();
    let mut wallets = Map::new();
    for id in ids {
        let Some(entry) = vault.get(id) else {
            system_warnings.push(format!("No wallet found for signatureId: {id}"));
            continue;
        };
        let mut warnings: Vec<String> = Vec::new();
        let kind = entry.kind();
        let fields: &[(&str, bool)] = match kind {
            kms_core::WalletKind::Mnemonic => &[
                ("chain", true),
                ("mnemonic", true),
                ("xpub", true),
                ("testnet", false),
            ],
            kms_core::WalletKind::PrivateKey => {
                &[("chain", true), ("privateKey", true), ("testnet", false)]
            }
            kms_core::WalletKind::Secret => {
                &[("chain", true), ("secret", true), ("testnet", false)]
            }
            kms_core::WalletKind::Other => {
                warnings.push(
                    "Wallet type is not recognized. Mnemonic, privateKey or secret are absent"
                        .into(),
                );
                &[]
            }
        };
        for (field, string) in fields {
            let value = entry.get(field);
            let ok = if *string {
                value.is_some_and(Value::is_string)
            } else {
                value.is_some_and(Value::is_boolean)
            };
            if !ok {
                let want = if *string { "string" } else { "boolean" };
                let got = match value {
                    None | Some(Value::Null) => "undefined",
                    Some(Value::String(_)) => "string",
                    Some(Value::Bool(_)) => "boolean",
                    Some(Value::Number(_)) => "number",
                    Some(_) => "object",
                };
                warnings.push(format!("Field '{field}' is not {want}. Its type is: {got}"));
            }
        }
        let mut report = Map::new();
        report.insert("type".into(), serde_json::to_value(kind).expect("kind"));
        report.insert(
            "chain".into(),
            entry.get("chain").cloned().unwrap_or(Value::Null),
        );
        report.insert(
            "testnet".into(),
            entry.get("testnet").cloned().unwrap_or(Value::Null),
        );
        if !warnings.is_empty() {
            report.insert("warnings".into(), json!(warnings));
        }
        wallets.insert(id.to_string(), Value::Object(report));
    }
    let mut out = json!({
        "system": {
            "kmsVersion": env!("CARGO_PKG_VERSION"),
            "nodeVersion": "N/A (Rust)",
            "store": { "type": ctx.store_type(), "exists": ctx.store_path().exists() },
        },
        "wallets": wallets,
        "apiKey": hide_api_key(ctx.api_key().map(|k| k.expose_secret().to_string())),
    });
    if !system_warnings.is_empty() {
        out["warnings"] = json!(system_warnings);
    }
    print_json(&out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_the_original() {
        // utils.hideValue('abcdefghijklmnop', 6, 6) in the original.
        assert_eq!(hide_value("abcdefghijklmnop", 6, 6), "abcdef****jklmno");
        assert_eq!(hide_value("short", 6, 0), "*****");
        assert_eq!(hide_password(Some("password123".into())), "passwo*****");
        assert_eq!(hide_password(None), "N/A");
    }
}
