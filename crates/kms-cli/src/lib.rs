//! The `tatum-kms` command line: wiring only. Parses flags, reads `.env`,
//! gets the password, calls the library crates, prints JSON on stdout and
//! messages on stderr, and chooses the exit code.

pub mod cli;
mod commands;
pub mod context;
pub mod daemon;
pub mod env;
mod error;
pub mod keys;
mod logging;
mod secret_input;
mod sign;

use std::process::ExitCode;

pub use error::CliError;

/// Runs the command line; the binary's `main`.
pub fn main() -> ExitCode {
    harden_process();
    let cli = match cli::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    logging::init(&cli);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{}", err.message);
            ExitCode::from(err.code)
        }
    }
}

/// Keeps secrets out of core dumps: no dumps, and no ptrace by other
/// processes of the same user.
fn harden_process() {
    // SAFETY: plain syscalls on the current process with constant arguments.
    unsafe {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &zero);
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}
