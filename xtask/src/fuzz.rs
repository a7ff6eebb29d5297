//! `cargo xtask fuzz [--seconds N] [TARGET...]`: seeds each fuzz target's
//! corpus from the vectors (testdata/vectors), then runs it with cargo-fuzz (nightly)
//! for N seconds (default 600). Crashes land in fuzz/artifacts/<target>/;
//! once fixed, each is kept in fuzz/regressions/<target>/.
//!
//! `cargo xtask fuzz --quick` is the CI version: the same targets built with
//! stable (no sanitizer, no coverage guidance), run over the seeds and every
//! kept regression input, then a few seconds of random mutations.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{check, root, Result};

const TARGETS: [&str; 5] = [
    "wallet_file",
    "pending_json",
    "serialized_tx",
    "intent",
    "approval_answer",
];

fn vectors(name: &str) -> Result<serde_json::Value> {
    let dir = kms_test_support::vectors_dir();
    let text = std::fs::read_to_string(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))
}

fn put(dir: &Path, name: &str, bytes: &[u8]) -> Result {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(name), bytes).map_err(|e| e.to_string())
}

/// The seeds: real inputs of every kind, from the vectors.
pub(crate) fn seed() -> Result {
    let corpus = root().join("fuzz/corpus");
    let signing = vectors("signing.json")?;
    let legacy = vectors("legacy_walletdat.json")?;
    for (i, v) in legacy["vectors"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let dir = corpus.join("wallet_file");
        if let Some(file) = v["walletDat"].as_str() {
            put(&dir, &format!("legacy-{i}"), file.as_bytes())?;
        }
        if let Some(plain) = v["plaintext"].as_str() {
            // Parsed as it is, and (the target's round trips) encrypted in
            // both formats under the target's key and decrypted again.
            put(&dir, &format!("plain-{i}"), plain.as_bytes())?;
        }
    }
    let chains = kms_core::Chain::ALL;
    for v in signing["vectors"].as_array().into_iter().flatten() {
        let name = v["name"].as_str().unwrap_or("v");
        let pending = &v["pendingTransaction"];
        put(
            &corpus.join("pending_json"),
            name,
            pending.to_string().as_bytes(),
        )?;
        let chain: kms_core::Chain = v["chain"]
            .as_str()
            .unwrap_or("BTC")
            .parse()
            .map_err(|e| format!("{e}"))?;
        let pick = chains.iter().position(|c| *c == chain).unwrap_or(0) as u8;
        let mut bytes = vec![pick];
        bytes.extend_from_slice(
            pending["serializedTransaction"]
                .as_str()
                .unwrap_or("")
                .as_bytes(),
        );
        put(&corpus.join("serialized_tx"), name, &bytes)?;
        put(&corpus.join("intent"), name, &bytes)?;
    }
    let dir = corpus.join("approval_answer");
    put(
        &dir,
        "signature",
        format!("v1={}", "ab".repeat(32)).as_bytes(),
    )?;
    put(&dir, "version", b"9.1.0;ERROR;please update")?;
    Ok(())
}

pub(crate) fn run(extra: &[String]) -> Result {
    let mut seconds = 600u64;
    let mut targets = Vec::new();
    let mut args = extra.iter();
    while let Some(a) = args.next() {
        if a == "--quick" {
            return quick();
        } else if a == "--seconds" {
            seconds = args
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or("--seconds takes a number")?;
        } else {
            targets.push(a.clone());
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| t.to_string()).collect();
    }
    if Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_err()
    {
        return Err(
            "cargo-fuzz is missing: cargo install cargo-fuzz (needs a nightly toolchain)".into(),
        );
    }
    seed()?;
    for target in &targets {
        println!("==> fuzzing {target} for {seconds} s");
        check(
            Command::new("cargo")
                .current_dir(root().join("fuzz"))
                .args(["+nightly", "fuzz", "run", target])
                .arg(root().join("fuzz/corpus").join(target))
                .args(kept_regressions(target))
                .args([
                    "--",
                    &format!("-max_total_time={seconds}"),
                    "-rss_limit_mb=4096",
                ])
                // Nightly and sanitizer builds kept apart from the stable ones.
                .env("CARGO_TARGET_DIR", crate::target_dir().join("fuzz")),
        )?;
    }
    Ok(())
}

/// Every target over its seeds and kept regression inputs, then briefly at
/// random; a panic on any of them fails.
fn quick() -> Result {
    seed()?;
    // The workspace's own target directory and profile: the fuzz crate's lock
    // file pins the workspace's versions, so most dependencies are reused.
    let target_dir = crate::target_dir();
    let artifacts = target_dir.join("fuzz-artifacts");
    std::fs::create_dir_all(&artifacts).map_err(|e| format!("{}: {e}", artifacts.display()))?;
    check(
        crate::cargo()
            .args(["build", "--bins", "--manifest-path"])
            .arg(root().join("fuzz/Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target_dir)
            // As cargo-fuzz builds them: `cfg(fuzzing)` opens up the internals
            // the targets call (kms-vault's format modules).
            .env("RUSTFLAGS", fuzzing_rustflags()),
    )?;
    for target in TARGETS {
        let mut inputs = vec![root().join("fuzz/corpus").join(target)];
        inputs.extend(kept_regressions(target));
        println!("==> {target}: seeds, kept regressions, then 15 s at random");
        check(
            Command::new(target_dir.join("debug").join(target))
                .args(&inputs)
                .args(["-max_total_time=15", "-rss_limit_mb=4096"])
                // Where a crash input would be written; not the checkout.
                .arg(format!("-artifact_prefix={}/", artifacts.display())),
        )?;
    }
    Ok(())
}

/// The caller's RUSTFLAGS, plus `--cfg fuzzing`.
fn fuzzing_rustflags() -> String {
    let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
    if !flags.is_empty() {
        flags.push(' ');
    }
    flags.push_str("--cfg fuzzing");
    flags
}

/// The folder of fixed crash inputs kept for `target`, if it has any.
fn kept_regressions(target: &str) -> Option<PathBuf> {
    let kept = root().join("fuzz/regressions").join(target);
    kept.is_dir().then_some(kept)
}
