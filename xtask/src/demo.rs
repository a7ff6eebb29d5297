//! The main job on an embedded default, on this machine, with nothing else
//! installed: builds `tatum-kms`, creates a throwaway testnet wallet in a
//! temporary store, and reads it back, printing every step.
//!
//! (The daemon's part of the flow — a fake Tatum API serving a pending
//! transaction, the example approver, one signing cycle — joins this demo
//! when the daemon is built.)

use std::path::Path;
use std::process::Command;

use crate::{cargo, check, target_dir, Result};

const PASSWORD: &str = "demo password, not for real funds";

pub fn run(_extra: &[String]) -> Result {
    step("build tatum-kms");
    check(cargo().args(["build", "--quiet", "-p", "kms-cli", "--bin", "tatum-kms"]))?;
    let bin = target_dir().join("debug").join("tatum-kms");

    let home = std::env::temp_dir().join(format!("tatum-kms-demo-{}", std::process::id()));
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let result = flow(&bin, &home);
    let _ = std::fs::remove_dir_all(&home);
    result
}

fn flow(bin: &Path, home: &Path) -> Result {
    let store = home.join(".tatumrc").join("wallet.dat");
    println!("temporary store: {}", store.display());

    step("tatum-kms generatemanagedwallet BTC --testnet");
    let stored = kms(bin, home, &["generatemanagedwallet", "BTC", "--testnet"])?;
    let id = stored["signatureId"]
        .as_str()
        .ok_or("no signatureId in the output")?
        .to_string();

    step(&format!("tatum-kms getaddress {id} 0"));
    kms(bin, home, &["getaddress", &id, "0"])?;

    step("tatum-kms report (what the store holds, no secrets)");
    kms(bin, home, &["report", &id])?;

    step("the store on disk");
    let meta = std::fs::metadata(&store).map_err(|e| e.to_string())?;
    let head = std::fs::read(&store).map_err(|e| e.to_string())?;
    println!(
        "{} bytes, mode {:o}, starts with {:?} (the authenticated v2 format, docs/wallet-format.md)",
        meta.len(),
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        String::from_utf8_lossy(&head[..7])
    );
    println!("\ndemo done: a testnet wallet was created, stored encrypted and read back; the store is deleted now.");
    Ok(())
}

fn step(title: &str) {
    println!("\n==> {title}");
}

/// Runs one command in the demo's HOME and prints its JSON output.
fn kms(bin: &Path, home: &Path, args: &[&str]) -> Result<serde_json::Value> {
    let out = Command::new(bin)
        .args(args)
        .env("HOME", home)
        .env("TATUM_KMS_PASSWORD", PASSWORD)
        // The cheapest accepted KDF cost keeps the demo quick; real stores use 256 MiB.
        .env("TATUM_KMS_KDF_MEMORY_MIB", "64")
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    if !out.status.success() {
        return Err(format!(
            "tatum-kms {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_str(&stdout).map_err(|e| format!("not JSON: {e}"))
}
