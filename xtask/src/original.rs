//! The original's SDK beside ours, in the same run: `@tatumio/tatum@1.37.68`
//! (what tatum-kms 6.x signs with), installed by npm with `--ignore-scripts`
//! into the target directory (its caver-js asks for the npm placeholder
//! package `http`, which is overridden with a stub re-exporting Node's),
//! then `xtask/bench/original.js` and our `ops` example time the same
//! operations. Skipped with a message where Node is missing.

use std::fmt::Write as _;
use std::process::Command;

use serde_json::Value;

use crate::{cargo, root, target_dir, Result};

fn install() -> Result<std::path::PathBuf> {
    let dir = target_dir().join("bench-node");
    if dir.join("node_modules/@tatumio/tatum").is_dir() {
        return Ok(dir);
    }
    let stub = dir.join("stub-http");
    std::fs::create_dir_all(&stub).map_err(|e| e.to_string())?;
    let write = |p: std::path::PathBuf, s: &str| std::fs::write(p, s).map_err(|e| e.to_string());
    write(
        stub.join("package.json"),
        r#"{"name": "http", "version": "0.0.1-stub", "main": "index.js"}"#,
    )?;
    write(
        stub.join("index.js"),
        "module.exports = require('node:http');\n",
    )?;
    write(
        dir.join("package.json"),
        r#"{"name": "kms-bench-original", "private": true,
  "dependencies": {"@tatumio/tatum": "1.37.68"},
  "overrides": {"http": "file:./stub-http"}}"#,
    )?;
    eprintln!("installing the original's SDK (npm, once)...");
    crate::check(Command::new("npm").current_dir(&dir).args([
        "install",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
    ]))?;
    Ok(dir)
}

fn json_of(cmd: &mut Command) -> Result<Value> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or_default();
    serde_json::from_str(last).map_err(|e| format!("not JSON ({e}): {last}"))
}

/// Markdown rows `| op | original µs | ours µs | ratio |`, or a note.
pub(crate) fn compare(iterations: u32) -> Result<String> {
    if Command::new("node").arg("--version").output().is_err() {
        return Ok(
            "(Node.js is missing: the comparison with the original's SDK is skipped)\n".into(),
        );
    }
    let dir = install()?;
    let vectors = kms_test_support::vectors_dir();
    let original = json_of(
        Command::new("node")
            .arg(root().join("xtask/bench/original.js"))
            .arg(&vectors)
            .arg(iterations.to_string())
            .env("NODE_PATH", dir.join("node_modules")),
    )?;
    let ours = json_of(
        cargo()
            .args([
                "run",
                "--release",
                "--quiet",
                "-p",
                "kms-chain-signers",
                "--example",
                "ops",
                "--",
            ])
            .arg((iterations * 4).to_string()),
    )?;
    let mut out = String::from(
        "| operation | original (µs CPU) | ours (µs CPU) | ratio |\n|---|---|---|---|\n",
    );
    for (op, theirs) in original.as_object().into_iter().flatten() {
        let mine = ours.get(op).and_then(Value::as_f64);
        match (theirs.as_f64(), mine) {
            (Some(a), Some(b)) => {
                let _ = writeln!(out, "| {op} | {a:.0} | {b:.1} | {:.0}× |", a / b);
            }
            (None, Some(b)) => {
                let _ = writeln!(
                    out,
                    "| {op} | {} | {b:.1} | — |",
                    theirs.as_str().unwrap_or("?")
                );
            }
            _ => {}
        }
    }
    Ok(out)
}
