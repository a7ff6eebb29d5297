//! One module per command group; [`run`] dispatches.

mod audit;
mod daemon;
mod serve;
mod sign;
mod store;
mod support;
mod wallets;

use std::io::Write;

use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::error::CliError;

pub(crate) fn run(cli: Cli) -> Result<(), CliError> {
    let Some(command) = cli.command else {
        // As the original: no command prints the help.
        let mut cmd = <Cli as clap::CommandFactory>::command();
        return print_text(cmd.render_long_help().to_string().as_bytes());
    };
    let ctx = Context::load(cli.global)?;
    match command {
        Command::Daemon(opts) => daemon::run(*opts, ctx),
        Command::Audit(opts) => audit::run(opts, &ctx),
        Command::GenerateWallet { chain } => wallets::generate_wallet(&ctx, chain),
        Command::GenerateManagedWallet { chain } => wallets::store_new_wallet(&ctx, chain),
        Command::StoreManagedWallet { chain } => wallets::store_mnemonic_wallet(&ctx, chain),
        Command::StoreManagedPrivateKey { chain } => wallets::store_private_key(&ctx, chain),
        Command::GenerateManagedPrivateKeyBatch { chain, count } => {
            wallets::batch(&ctx, chain, count)
        }
        Command::GetPrivateKey { id, index } => wallets::get_private_key(&ctx, &id, index),
        Command::GetAddress { id, index } => wallets::get_address(&ctx, &id, index),
        Command::GetManagedWallet { id } => wallets::get_managed_wallet(&ctx, &id),
        Command::RemoveWallet { id } => wallets::remove_wallet(&ctx, &id),
        Command::Export => store::export(&ctx),
        Command::CheckConfig => support::check_config(&ctx),
        Command::Report { ids } => support::report(&ctx, &ids),
        Command::Migrate => store::migrate(&ctx),
        Command::ChangePassword => store::change_password(&ctx),
        Command::SignPending { file, online } => sign::sign_pending(&ctx, file.as_deref(), online),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut cmd, "tatum-kms", &mut text);
            print_text(&text)
        }
        Command::Manpage => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut text)
                .map_err(|e| CliError::failure(e.to_string()))?;
            print_text(&text)
        }
    }
}

/// `JSON.stringify(value, null, 2)` on stdout.
pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = zeroize::Zeroizing::new(
        serde_json::to_string_pretty(value).map_err(|e| CliError::failure(format!("{e}")))?,
    );
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", text.as_str())
        .and_then(|()| out.flush())
        .map_err(output_error)
}

/// Text on stdout, as it is.
pub(crate) fn print_text(text: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text)
        .and_then(|()| out.flush())
        .map_err(output_error)
}

/// stdout could not be written. When its reader went away (`tatum-kms
/// export | head`) there is nobody left to tell: exit quietly, as a
/// process killed by SIGPIPE would.
pub(crate) fn output_error(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::OutputClosed
    } else {
        CliError::failure(format!("writing the output: {e}"))
    }
}
