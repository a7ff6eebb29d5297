//! Project tasks, run as `cargo xtask <task>`:
//!
//! - `demo`        the whole KMS flow on this machine with nothing else installed
//! - `dist`        release binaries (static where the toolchain allows) + SHA-256 sums
//! - `vectors`     the suites that replay the original SDK's vectors
//! - `bench`       the benchmarks, side by side with their baselines
//!   (`bench kdf`: the store's KDF beside the C reference, alone;
//!   `bench throughput`: 1,000 transactions under 100 ms API latency,
//!   sequential vs concurrent, one replica vs three, and the ledger's cost)
//! - `image-test`  builds the container image with buildah and runs it
//! - `fuzz`        seeds and runs the fuzz targets (cargo-fuzz, nightly)
//! - `campaigns`   the long fault campaigns (500+ kills, 1,000 faulty daemon cycles...)

mod criterion_report;
mod demo;
mod dist;
mod fuzz;
mod image;
mod kdfbench;
mod original;
mod procbench;
mod throughput;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args[args.len().min(1)..];
    let result = match task {
        "demo" => demo::run(rest),
        "dist" => dist::run(rest),
        "vectors" => vectors(rest),
        "bench" => bench(rest),
        "image-test" => image::run(rest),
        "fuzz" => fuzz::run(rest),
        "campaigns" => campaigns(rest),
        _ => {
            eprintln!("usage: cargo xtask <demo|dist|vectors|bench|image-test|fuzz|campaigns>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {task}: {e}");
            ExitCode::FAILURE
        }
    }
}

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Where cargo puts its output (CARGO_TARGET_DIR, or target/).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Runs a command, failing with its name when it fails.
pub fn check(cmd: &mut Command) -> Result {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}

pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// The vector suites: every test that replays `testdata/vectors`.
fn vectors(extra: &[String]) -> Result {
    let filter = "test(/vector/)";
    let mut cmd = cargo();
    if Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        cmd.args(["nextest", "run", "--workspace", "-E", filter]);
    } else {
        cmd.args(["test", "--workspace", "vector"]);
    }
    check(cmd.args(extra))
}

/// The fault campaigns at full length (CI runs their quick versions).
fn campaigns(extra: &[String]) -> Result {
    check(
        cargo()
            .env("KMS_CAMPAIGN", "full")
            .args([
                "nextest",
                "run",
                "-p",
                "kms-cli",
                "--test",
                "campaigns",
                "--no-capture",
            ])
            .args(extra),
    )
}

/// The benchmarks (criterion, function level) and the whole-process ones.
fn bench(extra: &[String]) -> Result {
    match extra.first().map(String::as_str) {
        Some("daemon") => return procbench::run(&extra[1..]),
        Some("kdf") => return kdfbench::run(&extra[1..]),
        Some("throughput") => return throughput::run(&extra[1..]),
        Some("original") => {
            print!("{}", original::compare(50)?);
            return Ok(());
        }
        _ => {}
    }
    // Criterion (function level, each beside its primitive), then the
    // original's SDK beside ours, then whole-process daemon cycles.
    let started = std::time::SystemTime::now();
    check(cargo().args(["bench", "--workspace"]).args(extra))?;
    let mut report = String::from("# Benchmarks\n\n## Functions (criterion)\n\n");
    report.push_str(&criterion_report::tables(
        &target_dir().join("criterion"),
        started,
    )?);
    report.push_str("\n## The original's SDK beside ours (same run)\n\n");
    report.push_str(&original::compare(50)?);
    report.push_str("\n## Store unlock: the KDF beside the C reference (same run)\n\n");
    report.push_str(&kdfbench::table(7)?);
    report.push_str("\n## Daemon cycles (whole process, median (min–max) of 5)\n\n");
    report.push_str(&procbench::table(5)?);
    report.push_str(
        "\n## Throughput under API latency, replicas, the ledger's cost (whole process)\n\n",
    );
    report.push_str(&throughput::table(1_000)?);
    let path = target_dir().join("bench-report.md");
    std::fs::write(&path, &report).map_err(|e| e.to_string())?;
    println!("{report}\n(written to {})", path.display());
    Ok(())
}
