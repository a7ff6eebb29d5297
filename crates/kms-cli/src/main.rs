//! `tatum-kms`: parses flags, reads `.env`, gets the password, wires the
//! library crates together, prints JSON on stdout and messages on stderr,
//! and chooses the exit code. What gets signed, and with which key, is
//! decided in `kms-signing`, not here.

mod cli;
mod commands;
mod context;
mod dotenv;
mod env;
mod error;
mod logging;
mod secret_input;

use std::process::ExitCode;

use error::CliError;

fn main() -> ExitCode {
    harden_process();
    cap_kdf_threads();
    let cli = match cli::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => return report(cli::parse_error(e)),
    };
    logging::init(&cli);
    lock_memory();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(err),
    }
}

/// The KDF's lanes run on rayon's pool, one thread per CPU by default; a
/// store never has more than 16 lanes, and under `mlockall` every idle
/// thread's stack stays locked in memory. Set before any thread exists.
fn cap_kdf_threads() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::env::set_var("RAYON_NUM_THREADS", cpus.min(16).to_string());
    }
}

/// The one place a failure reaches the user: its message on stderr, its
/// exit code.
fn report(err: CliError) -> ExitCode {
    match &err {
        CliError::Clap(e) => {
            let _ = e.print();
        }
        CliError::OutputClosed => {}
        other => eprintln!("{other}"),
    }
    ExitCode::from(err.exit_code())
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

/// Keeps key material out of swap: locks the process's memory when the
/// memlock limit allows it all (the KDF alone takes up to 4 GiB; locking
/// under a small limit would make those allocations fail). Otherwise says
/// so once, and goes on.
fn lock_memory() {
    // SAFETY: plain syscalls on the current process; `limit` is a valid out-pointer.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        let room = libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) == 0
            && (limit.rlim_cur == libc::RLIM_INFINITY || limit.rlim_cur >= 8 << 30);
        if !room {
            tracing::info!(
                limit_bytes = limit.rlim_cur,
                "memory is not locked (RLIMIT_MEMLOCK is below what the KDF needs); keys may reach swap: prefer encrypted or no swap"
            );
            return;
        }
        if libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) != 0 {
            tracing::info!(
                error = %std::io::Error::last_os_error(),
                "memory could not be locked; keys may reach swap: prefer encrypted or no swap"
            );
        }
    }
}
