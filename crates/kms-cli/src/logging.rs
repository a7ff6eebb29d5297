//! Logs go to stderr (stdout carries the JSON answers). `RUST_LOG` chooses
//! what is logged; by default warnings for the commands and `info` for the
//! daemon. No secret is ever passed to a log call.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, LogFormat};

pub(crate) fn init(cli: &Cli) {
    let (default_level, format) = match &cli.command {
        Some(Command::Daemon(opts)) => ("info", opts.log_format),
        _ => ("warn", LogFormat::Human),
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    // A second initialisation (tests calling main twice) is harmless: ignore it.
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
