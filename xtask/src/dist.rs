//! Release binaries with SHA-256 checksums, in `target/dist/`.

use std::fs;
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::{cargo, check, target_dir, Result};

const TARGET: &str = "x86_64-unknown-linux-gnu";

pub(crate) fn run(_extra: &[String]) -> Result {
    build().map(|_| ())
}

/// Builds the release binary and its checksum; returns the binary's path.
pub(crate) fn build() -> Result<std::path::PathBuf> {
    // A static glibc binary runs on `scratch` and on any Linux; naming the
    // target keeps crt-static away from build scripts and proc macros.
    let mut build = cargo();
    build
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            TARGET,
            "-p",
            "kms-cli",
            "--bin",
            "tatum-kms",
        ])
        .env("RUSTFLAGS", "-C target-feature=+crt-static");
    check(&mut build)?;

    let built = target_dir().join(TARGET).join("release").join("tatum-kms");
    let dist = target_dir().join("dist");
    fs::create_dir_all(&dist).map_err(|e| e.to_string())?;
    let name = format!("tatum-kms-{}-{TARGET}", env!("CARGO_PKG_VERSION"));
    let out = dist.join(&name);
    fs::copy(&built, &out).map_err(|e| format!("{}: {e}", built.display()))?;

    let bytes = fs::read(&out).map_err(|e| e.to_string())?;
    let sum = hex::encode(Sha256::digest(&bytes));
    let sums = dist.join("SHA256SUMS");
    fs::write(&sums, format!("{sum}  {name}\n")).map_err(|e| e.to_string())?;

    let file = Command::new("file").arg(&out).output().ok();
    println!("{}", out.display());
    println!("{sum}  {name}  ({} bytes)", bytes.len());
    if let Some(file) = file {
        print!("{}", String::from_utf8_lossy(&file.stdout));
    }
    println!("checksums: {}", sums.display());
    Ok(out)
}
