//! The store's KDF beside the C reference (issue 15, "KDF at the hardware's
//! speed"): Argon2id m = 256 MiB, t = 3, p = 2, the default cost of a v2
//! `wallet.dat`.
//!
//! In one run, interleaved round by round so a busy machine slows every
//! column alike: our KDF whole process (`kdf once`, the vault crate's
//! example), our whole unlock (`tatum-kms export` of a one-wallet store),
//! and the C reference CLI (Debian's `argon2`, phc-winner-argon2) deriving
//! the same 32 bytes. Before them, our KDF in process, with rayon's threads
//! (the lanes in parallel) and with `RAYON_NUM_THREADS=1` (the lanes one
//! after the other, as before argon2's `parallel` feature was on).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::procbench::{self, measure, median, ms, Run};
use crate::{cargo, check, target_dir, Result};

/// Our salt is 16 random bytes; the CLI takes it as text, so both use these.
const SALT: &str = "0123456789abcdef";
/// The C CLI's arguments for our default cost: Argon2id, t = 3,
/// m = 2^18 KiB = 256 MiB, p = 2, 32 bytes, raw output only (which also
/// skips the verification pass it would otherwise run after hashing).
const C_ARGS: [&str; 10] = ["-id", "-t", "3", "-m", "18", "-p", "2", "-l", "32", "-r"];

/// `cargo xtask bench kdf [--runs N]`: these figures alone.
pub(crate) fn run(extra: &[String]) -> Result {
    print!("{}", table(procbench::runs_arg(extra, 7))?);
    Ok(())
}

fn kdf_example() -> Result<PathBuf> {
    check(cargo().args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "kms-vault",
        "--example",
        "kdf",
    ]))?;
    Ok(target_dir().join("release").join("examples").join("kdf"))
}

/// The C reference CLI: on the PATH, or installed with apt-get when we are
/// root on a Debian-like system (as scripts/test.sh does for buildah).
fn c_reference() -> Option<PathBuf> {
    let on_path = || {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("argon2"))
                .find(|p| p.is_file())
        })
    };
    if let Some(found) = on_path() {
        return Some(found);
    }
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if root && Path::new("/usr/bin/apt-get").exists() {
        eprintln!("installing the C reference (apt-get install argon2)...");
        let installed = Command::new("sh")
            .args([
                "-c",
                "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq argon2",
            ])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if installed {
            return on_path();
        }
    }
    None
}

/// `median (min–max)` of the in-process timings the example printed.
fn in_process(kdf: &Path, runs: usize, rayon_threads: Option<&str>) -> Result<Vec<f64>> {
    let mut cmd = Command::new(kdf);
    cmd.args(["runs", &runs.to_string()]);
    match rayon_threads {
        Some(n) => cmd.env("RAYON_NUM_THREADS", n),
        None => cmd.env_remove("RAYON_NUM_THREADS"),
    };
    let (_, stdout, _) = measure(&mut cmd)?;
    serde_json::from_slice(&stdout).map_err(|e| format!("kdf runs printed no JSON array: {e}"))
}

fn spread(values: &[f64]) -> String {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    format!("{:.1} ({:.1}–{:.1})", median(&v), v[0], v[v.len() - 1])
}

fn row(out: &mut String, what: &str, runs: &[Run], c_median: Option<f64>) -> f64 {
    let walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
    let cpus: Vec<Duration> = runs.iter().map(|r| r.cpu).collect();
    let rss: Vec<f64> = runs.iter().map(|r| r.max_rss_kib as f64 / 1024.0).collect();
    let wall_median = median(
        &walls
            .iter()
            .map(|d| d.as_secs_f64() * 1e3)
            .collect::<Vec<_>>(),
    );
    let ratio = c_median.map_or("-".to_string(), |c| format!("{:.2}×", wall_median / c));
    let _ = writeln!(
        out,
        "| {what} | {} | {} | {:.0} | {ratio} |",
        ms(&walls),
        ms(&cpus),
        median(&rss)
    );
    wall_median
}

/// The figures as markdown.
pub(crate) fn table(runs: usize) -> Result<String> {
    let kdf = kdf_example()?;
    let kms = procbench::release_binary()?;
    let c_cli = c_reference();
    let home = procbench::tempdir("kdf")?;
    // A one-wallet store at the default cost: its unlock is one KDF run
    // plus reading, decrypting and parsing a few hundred bytes.
    measure(procbench::kms(&kms, &home).args([
        "generatemanagedprivatekeybatch",
        "ETH",
        "1",
        "--testnet",
    ]))?;
    let password_file = home.join("password");
    std::fs::write(&password_file, procbench::PASSWORD).map_err(|e| e.to_string())?;

    eprintln!("kdf: {runs} in-process derivations, with and without rayon's threads...");
    wait_for_idle_cpus();
    let parallel = in_process(&kdf, runs, None)?;
    let serial = in_process(&kdf, runs, Some("1"))?;

    eprintln!("kdf: {runs} rounds of whole processes...");
    let (mut ours_kdf, mut ours_unlock, mut c_runs) = (vec![], vec![], vec![]);
    let mut quiet = Vec::new();
    for _ in 0..runs {
        quiet.push(wait_for_idle_cpus());
        ours_kdf.push(
            measure(
                Command::new(&kdf)
                    .arg("once")
                    .env_remove("RAYON_NUM_THREADS"),
            )?
            .0,
        );
        ours_unlock.push(measure(procbench::kms(&kms, &home).arg("export"))?.0);
        if let Some(c_cli) = &c_cli {
            let stdin = std::fs::File::open(&password_file).map_err(|e| e.to_string())?;
            let mut cmd = Command::new(c_cli);
            cmd.arg(SALT).args(C_ARGS).stdin(stdin);
            c_runs.push(measure(&mut cmd)?.0);
        }
    }
    let _ = std::fs::remove_dir_all(&home);
    // Rounds that started beside other work measure that work as much as
    // the KDF: leave them out while enough quiet ones remain.
    let quiet_rounds = quiet.iter().filter(|q| **q).count();
    let kept = |all: Vec<Run>| -> Vec<Run> {
        if quiet_rounds < 3 {
            return all;
        }
        all.into_iter()
            .zip(&quiet)
            .filter_map(|(run, q)| q.then_some(run))
            .collect()
    };
    let (ours_kdf, ours_unlock, c_runs) = (kept(ours_kdf), kept(ours_unlock), kept(c_runs));

    let mut out = format!(
        "Argon2id m = 256 MiB, t = 3, p = 2, 32-byte key; {} logical CPUs; median (min–max).\n\n\
         In process (`{} runs {runs}`): with rayon's threads {} ms; lanes one after the other \
         (`RAYON_NUM_THREADS=1`, the path before argon2's `parallel` feature) {} ms; {:.2}× faster.\n\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        kdf.display(),
        spread(&parallel),
        spread(&serial),
        median(&serial) / median(&parallel),
    );
    out.push_str(
        "| whole process | wall ms | CPU ms | peak RSS MiB | wall, ours / C |\n|---|---|---|---|---|\n",
    );
    let c_median = if c_runs.is_empty() {
        None
    } else {
        Some(row(
            &mut out,
            "C reference: `argon2` CLI (Debian)",
            &c_runs,
            None,
        ))
    };
    row(
        &mut out,
        "ours: KDF alone (`kdf once`)",
        &ours_kdf,
        c_median,
    );
    row(
        &mut out,
        "ours: `tatum-kms export`, one-wallet store",
        &ours_unlock,
        c_median,
    );
    if quiet_rounds < runs {
        let kept = if quiet_rounds >= 3 {
            format!("the table has the {quiet_rounds} others")
        } else {
            "too few were quiet, so the table has them all".to_string()
        };
        let _ = writeln!(
            out,
            "\n{} of {runs} rounds started while other work kept the CPUs over 10% busy \
             (the two lanes then share cores, and wall times near the CPU times); {kept}.",
            runs - quiet_rounds
        );
    }
    if c_cli.is_none() {
        out.push_str(
            "\nThe C reference `argon2` CLI is missing (not on PATH, and it could not be installed with apt-get): no ratio.\n",
        );
    }
    let _ = writeln!(
        out,
        "\nReproduce: `cargo xtask bench kdf --runs {runs}`; the C row is `printf '{}' | argon2 {SALT} {}`.",
        procbench::PASSWORD,
        C_ARGS.join(" ")
    );
    Ok(out)
}

/// Waits (up to 30 s) until the CPUs are at least 90% idle over a quarter
/// second: the two lanes only run side by side on free cores, so a round
/// started beside a compiler measures the machine's load, not the KDF.
/// Returns whether they were.
fn wait_for_idle_cpus() -> bool {
    // user nice system idle iowait irq softirq steal, summed over all CPUs.
    let sample = || -> Option<(u64, u64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .take(8)
            .filter_map(|f| f.parse().ok())
            .collect();
        Some((fields.iter().sum(), *fields.get(3)?))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        let Some((total_before, idle_before)) = sample() else {
            return false;
        };
        std::thread::sleep(Duration::from_millis(250));
        let Some((total, idle)) = sample() else {
            return false;
        };
        let elapsed = total.saturating_sub(total_before).max(1);
        if idle.saturating_sub(idle_before) * 10 >= elapsed * 9 {
            return true;
        }
    }
    false
}
