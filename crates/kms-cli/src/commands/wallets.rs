//! The wallet commands: generate, store, look up, remove.

use std::io::{IsTerminal, Write};

use kms_chain_signers::{signer, Mnemonic, Signer};
use kms_core::{Chain, Network, WalletEntry};
use kms_vault::Vault;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map};

use super::print_json;
use crate::context::Context;
use crate::error::CliError;
use crate::secret_input::read_secret;

fn check_id(id: &str) -> Result<(), CliError> {
    if id.trim().is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CliError::usage(format!(
            "'{}' is not a signatureId (it must be non-empty, without spaces or control characters)",
            id.escape_debug()
        )));
    }
    Ok(())
}

/// The wallet `id` (already checked by [`check_id`]).
fn wallet<'v>(vault: &'v Vault, id: &str) -> Result<&'v WalletEntry, CliError> {
    vault.get(id).ok_or_else(|| CliError::no_wallet(id))
}

/// The signer of the chain a stored wallet belongs to.
fn wallet_signer(entry: &WalletEntry, id: &str) -> Result<&'static dyn Signer, CliError> {
    let chain = entry
        .chain()
        .map_err(|e| CliError::failure(format!("wallet '{id}': {e}")))?;
    Ok(signer(chain))
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(super) fn generate_wallet(ctx: &Context, chain: Chain) -> Result<(), CliError> {
    let wallet = signer(chain).generate_wallet(ctx.network(), None)?;
    print_json(&wallet)
}

pub(super) fn store_new_wallet(ctx: &Context, chain: Chain) -> Result<(), CliError> {
    let vault = ctx.open_vault_for_writing()?;
    store_wallet(ctx, vault, chain, None)
}

pub(super) fn store_mnemonic_wallet(ctx: &Context, chain: Chain) -> Result<(), CliError> {
    // The password first, then the mnemonic: the original's order, which
    // answers piped to both prompts depend on (`storemanagedprivatekey`
    // asks for the key first, as the original did too).
    let vault = ctx.open_vault_for_writing()?;
    let phrase = read_secret("Enter mnemonic to store:", "mnemonic")?;
    let mnemonic = Mnemonic::parse(phrase.expose_secret())?;
    store_wallet(ctx, vault, chain, Some(&mnemonic))
}

fn store_wallet(
    ctx: &Context,
    mut vault: Vault,
    chain: Chain,
    mnemonic: Option<&Mnemonic>,
) -> Result<(), CliError> {
    let network = ctx.network();
    let wallet = signer(chain).generate_wallet(network, mnemonic)?;
    let mut out = Map::new();
    let id = new_id();
    out.insert("signatureId".into(), json!(id));
    if let Some(address) = wallet.address() {
        out.insert("address".into(), json!(address));
    }
    if let Some(xpub) = wallet.xpub() {
        out.insert("xpub".into(), json!(xpub));
    }
    vault.update(|w| w.insert_first(id, WalletEntry::stored(wallet, chain, network)))?;
    crate::context::report_vault_warnings(&mut vault);
    print_json(&out)
}

pub(super) fn store_private_key(ctx: &Context, chain: Chain) -> Result<(), CliError> {
    let network = ctx.network();
    let key = read_secret("Enter private key to store:", "private key")?;
    // Checked before it is stored: a mistyped key would only fail at signing time.
    signer(chain).address_from_private_key(network, &key)?;
    let mut vault = ctx.open_vault_for_writing()?;
    let id = new_id();
    let entry = WalletEntry::new().with("privateKey", key.expose_secret());
    vault.update(|w| w.insert_first(id.clone(), WalletEntry::stored(entry, chain, network)))?;
    crate::context::report_vault_warnings(&mut vault);
    print_json(&json!({ "signatureId": id }))
}

pub(super) fn batch(ctx: &Context, chain: Chain, count: usize) -> Result<(), CliError> {
    let network = ctx.network();
    let s = signer(chain);
    let mut vault = ctx.open_vault_for_writing()?;

    let progress = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(count as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} keys, {per_sec}, {eta} left",
            )
            .expect("a valid progress template"),
        );
        bar
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
                            let key = fresh_key(s, chain, network)?;
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
            w.insert_first(id.clone(), WalletEntry::stored(entry, chain, network));
        }
    })?;
    crate::context::report_vault_warnings(&mut vault);
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    for (id, _, address) in &made {
        let line = json!({ "signatureId": id, "address": address });
        writeln!(stdout, "{line}").map_err(super::output_error)?;
    }
    stdout.flush().map_err(super::output_error)
}

/// One new key of the batch: (signatureId, private key, address).
fn fresh_key(
    s: &dyn Signer,
    chain: Chain,
    network: Network,
) -> Result<(String, SecretString, String), CliError> {
    match s.mnemonic_wallets() {
        Some(derivation) => {
            let account = derivation.account(network, &Mnemonic::generate())?;
            Ok((new_id(), account.private_key(1)?, account.address(1)?))
        }
        // XRP, XLM, ALGO: single-key wallets with their own secret.
        None => {
            let wallet = s.generate_wallet(network, None)?;
            match (wallet.secret(), wallet.address()) {
                (Some(secret), Some(address)) => Ok((
                    new_id(),
                    SecretString::from(secret.to_string()),
                    address.to_string(),
                )),
                _ => Err(CliError::failure(format!(
                    "{chain} wallets hold no key to store"
                ))),
            }
        }
    }
}

/// The derivation index a mnemonic wallet needs. The original parsed a
/// missing one as NaN and failed inside its SDK; we say what is missing.
fn needed_index(index: Option<u32>, id: &str) -> Result<u32, CliError> {
    index.ok_or_else(|| {
        CliError::usage(format!(
            "wallet '{id}' is a mnemonic wallet: give the derivation index (e.g. 0) after the signatureId"
        ))
    })
}

pub(super) fn get_private_key(ctx: &Context, id: &str, index: Option<u32>) -> Result<(), CliError> {
    check_id(id)?;
    let vault = ctx.open_vault()?;
    let entry = wallet(&vault, id)?;
    let key = if let Some(secret) = entry.secret() {
        SecretString::from(secret.to_string())
    } else if let (None, Some(key)) = (index, entry.private_key()) {
        // No index, and the wallet keeps its own key (a private-key wallet,
        // or SOL's, whose stored key is index 0's): that key, as `getaddress`
        // answers the stored address.
        SecretString::from(key.to_string())
    } else if let Some(phrase) = entry.mnemonic() {
        let s = wallet_signer(entry, id)?;
        let derivation = s.mnemonic_wallets().ok_or_else(|| {
            CliError::failure(format!(
                "wallet '{id}': {} keys are not derived from a mnemonic",
                s.chain()
            ))
        })?;
        derivation
            .account(entry.network(), &Mnemonic::parse(phrase)?)?
            .private_key(needed_index(index, id)?)?
    } else if let Some(key) = entry.private_key() {
        // A private-key wallet has one key; the index does not apply.
        SecretString::from(key.to_string())
    } else {
        return Err(CliError::failure(format!("wallet '{id}' holds no key")));
    };
    print_json(&json!({ "privateKey": key.expose_secret() }))
}

pub(super) fn get_address(ctx: &Context, id: &str, index: Option<u32>) -> Result<(), CliError> {
    check_id(id)?;
    let vault = ctx.open_vault()?;
    let entry = wallet(&vault, id)?;
    let address = if let Some(address) = entry.address() {
        address.to_string()
    } else {
        let s = wallet_signer(entry, id)?;
        let network = entry.network();
        let (xpub, mnemonic, key) = (entry.xpub(), entry.mnemonic(), entry.private_key());
        if let (Some(xpub), Some(derivation)) = (xpub, s.xpub_addresses()) {
            derivation.address_from_xpub(network, xpub, needed_index(index, id)?)?
        } else if let (Some(phrase), Some(derivation)) = (mnemonic, s.mnemonic_wallets()) {
            derivation
                .account(network, &Mnemonic::parse(phrase)?)?
                .address(needed_index(index, id)?)?
        } else if let Some(key) = key {
            // The address the chain's wallets use for this key: what the
            // batch printed for it (docs/chains.md, "Private-key wallets").
            s.wallet_address_of_key(network, &SecretString::from(key.to_string()))?
        } else {
            return Err(CliError::failure(format!("wallet '{id}' holds no key")));
        }
    };
    print_json(&json!({ "address": address }))
}

pub(super) fn get_managed_wallet(ctx: &Context, id: &str) -> Result<(), CliError> {
    check_id(id)?;
    let vault = ctx.open_vault()?;
    print_json(wallet(&vault, id)?)
}

pub(super) fn remove_wallet(ctx: &Context, id: &str) -> Result<(), CliError> {
    check_id(id)?;
    let mut vault = ctx.open_vault()?;
    if vault.get(id).is_none() {
        // The original deleted nothing, silently, and exited 0; scripts that
        // remove a wallet twice rely on it. We say so, and write nothing.
        tracing::warn!("no wallet with signatureId '{id}' in the store; nothing removed");
        return Ok(());
    }
    vault.update(|w| w.remove(id))?;
    crate::context::report_vault_warnings(&mut vault);
    Ok(())
}
