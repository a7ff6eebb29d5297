//! Whole-process benchmarks of the real binary (release build) against the
//! in-process fake Tatum API: a daemon cycle over a large store with pending
//! transactions, an idle cycle per store size, a big key batch. Each figure
//! is the median of several runs with min–max; CPU time and peak memory come
//! from the kernel's accounting of the child (wait4).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kms_fake_tatum::FakeTatum;
use serde_json::{json, Value};

use crate::{cargo, check, target_dir, Result};

pub(crate) const PASSWORD: &str = "bench password";
pub(crate) const API_KEY: &str = "bench-api-key";

/// One run of a child process.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Run {
    pub wall: Duration,
    pub cpu: Duration,
    pub max_rss_kib: u64,
}

/// Runs `cmd` to completion and returns its costs; fails on a non-zero exit.
pub(crate) fn measure(cmd: &mut Command) -> Result<(Run, Vec<u8>, Vec<u8>)> {
    let started = Instant::now();
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    // Read the pipes on threads so a chatty child cannot block on them.
    let mut child = child;
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut out_pipe, &mut buf).ok();
        buf
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut err_pipe, &mut buf).ok();
        buf
    });
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = err_thread.join().unwrap_or_default();
    if waited != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!(
            "{cmd:?} failed (status {status}): {}",
            String::from_utf8_lossy(&stderr)
        ));
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let run = Run {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss as u64,
    };
    Ok((run, stdout, stderr))
}

/// `median (min–max)` of some durations, in ms.
pub(crate) fn ms(values: &[Duration]) -> String {
    let mut v: Vec<f64> = values.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    v.sort_by(f64::total_cmp);
    let median = v[v.len() / 2];
    format!("{median:.1} ({:.1}–{:.1})", v[0], v[v.len() - 1])
}

pub(crate) fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub(crate) fn release_binary() -> Result<PathBuf> {
    check(cargo().args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "kms-cli",
        "--bin",
        "tatum-kms",
    ]))?;
    Ok(target_dir().join("release").join("tatum-kms"))
}

pub(crate) fn kms(bin: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("HOME", home)
        .env("TATUM_KMS_PASSWORD", PASSWORD)
        .env("TATUM_API_KEY", API_KEY)
        .stdin(Stdio::null());
    cmd
}

/// Fills a store with `count` testnet private-key wallets, half ETH and
/// half BTC; returns the ETH signature ids.
fn fill_store(bin: &Path, home: &Path, count: usize) -> Result<Vec<String>> {
    let mut eth_ids = Vec::new();
    for (chain, n) in [("ETH", count / 2), ("BTC", count - count / 2)] {
        let (_, stdout, _) = measure(kms(bin, home).args([
            "generatemanagedprivatekeybatch",
            chain,
            &n.to_string(),
            "--testnet",
        ]))?;
        if chain == "ETH" {
            for line in String::from_utf8_lossy(&stdout).lines() {
                let v: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
                eth_ids.push(v["signatureId"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    Ok(eth_ids)
}

/// The cycle's own wall and CPU milliseconds, from the daemon's JSON log line.
fn cycle_ms(stderr: &[u8]) -> Option<(f64, f64)> {
    String::from_utf8_lossy(stderr).lines().find_map(|line| {
        let v: Value = serde_json::from_str(line).ok()?;
        let fields = &v["fields"];
        if fields["message"] != "single run done" {
            return None;
        }
        Some((fields["elapsed_ms"].as_f64()?, fields["cpu_ms"].as_f64()?))
    })
}

pub(crate) struct DaemonFigures {
    pub wallets: usize,
    pub pending: usize,
    pub process: Vec<Run>,
    /// Wall and CPU milliseconds of the cycle itself.
    pub cycle_ms: Vec<(f64, f64)>,
}

/// `daemon --runOnce` over a store of `wallets` wallets with `pending`
/// transactions waiting, `runs` times.
pub(crate) fn daemon_cycle(
    bin: &Path,
    wallets: usize,
    pending: usize,
    runs: usize,
) -> Result<DaemonFigures> {
    let home = tempdir("daemon")?;
    let eth_ids = fill_store(bin, &home, wallets)?;
    let fake = FakeTatum::start(API_KEY);
    let mut figures = DaemonFigures {
        wallets,
        pending,
        process: vec![],
        cycle_ms: vec![],
    };
    for _ in 0..runs {
        for (i, id) in eth_ids.iter().take(pending).enumerate() {
            fake.add_pending(json!({
                "id": format!("bench-tx-{i}"), "chain": "ETH", "hashes": [id],
                "serializedTransaction": json!({
                    "to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee", "value": "1000",
                    "gasPrice": "20000000000", "gas": 21000, "nonce": i + 1, "chainId": 11155111
                }).to_string(),
            }));
        }
        fake.clear_seen();
        let (run, _, stderr) = measure(kms(bin, &home).env("TATUM_API_URL", &fake.url).args([
            "daemon",
            "--runOnce",
            "--testnet",
            "--log-format",
            "json",
        ]))?;
        let sent = fake.broadcasts().len();
        if sent != pending {
            return Err(format!("expected {pending} broadcasts, got {sent}"));
        }
        figures.process.push(run);
        figures.cycle_ms.extend(cycle_ms(&stderr));
    }
    let _ = std::fs::remove_dir_all(&home);
    Ok(figures)
}

pub(crate) fn tempdir(tag: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("kms-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

pub(crate) fn daemon_row(out: &mut String, f: &DaemonFigures) {
    let walls: Vec<Duration> = f.process.iter().map(|r| r.wall).collect();
    let cpus: Vec<Duration> = f.process.iter().map(|r| r.cpu).collect();
    let rss: Vec<f64> = f
        .process
        .iter()
        .map(|r| r.max_rss_kib as f64 / 1024.0)
        .collect();
    let spread = |pick: fn(&(f64, f64)) -> f64| {
        let mut c: Vec<f64> = f.cycle_ms.iter().map(pick).collect();
        if c.is_empty() {
            return "-".to_string();
        }
        c.sort_by(f64::total_cmp);
        format!("{:.1} ({:.1}–{:.1})", median(&c), c[0], c[c.len() - 1])
    };
    let (cycle, cycle_cpu) = (spread(|c| c.0), spread(|c| c.1));
    let _ = writeln!(
        out,
        "| {} | {} | {cycle} | {cycle_cpu} | {} | {} | {:.0} |",
        f.wallets,
        f.pending,
        ms(&walls),
        ms(&cpus),
        median(&rss)
    );
}

/// The N of a `--runs N` among `extra`, else `default`.
pub(crate) fn runs_arg(extra: &[String], default: usize) -> usize {
    extra
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| extra.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// `cargo xtask bench daemon [--runs N]`: the daemon's figures alone.
pub(crate) fn run(extra: &[String]) -> Result {
    print!("{}", table(runs_arg(extra, 5))?);
    Ok(())
}

/// The daemon's figures as a markdown table.
pub(crate) fn table(runs: usize) -> Result<String> {
    let bin = release_binary()?;
    let mut out = String::from(
        "| wallets | pending | cycle ms | cycle CPU ms | process wall ms | process CPU ms | peak RSS MiB |\n|---|---|---|---|---|---|---|\n",
    );
    for (wallets, pending) in [(1_000, 0), (25_000, 0), (25_000, 100), (100_000, 0)] {
        eprintln!("daemon cycle: {wallets} wallets, {pending} pending, {runs} runs...");
        let f = daemon_cycle(&bin, wallets, pending, runs)?;
        daemon_row(&mut out, &f);
    }
    // The batch command of the original's README, whole process.
    let mut runs_of_batch = Vec::new();
    for _ in 0..3 {
        let home = tempdir("batch")?;
        let (run, _, _) =
            measure(kms(&bin, &home).args(["generatemanagedprivatekeybatch", "BTC", "10000"]))?;
        runs_of_batch.push(run);
        let _ = std::fs::remove_dir_all(&home);
    }
    let walls: Vec<Duration> = runs_of_batch.iter().map(|r| r.wall).collect();
    let cpus: Vec<Duration> = runs_of_batch.iter().map(|r| r.cpu).collect();
    let _ = writeln!(
        out,
        "\n`generatemanagedprivatekeybatch BTC 10000`: wall {} ms, CPU {} ms (median (min–max) of 3)",
        ms(&walls),
        ms(&cpus)
    );
    Ok(out)
}
