//! The main job on an embedded default, on this machine, with nothing else
//! installed: builds `tatum-kms`, creates throwaway testnet wallets in a
//! temporary store, starts a local fake of the Tatum API serving a pending
//! transaction for one of them and an approval service, runs one daemon
//! cycle, and shows the broadcast the fake API received. Every step printed.

use std::path::Path;
use std::process::Command;

use crate::{cargo, check, target_dir, Result};

const PASSWORD: &str = "demo password, not for real funds";

pub(crate) fn run(_extra: &[String]) -> Result {
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

    step("tatum-kms generatemanagedwallet ETH --testnet");
    let eth = kms(bin, home, &["generatemanagedwallet", "ETH", "--testnet"])?;
    let eth_id = eth["signatureId"]
        .as_str()
        .ok_or("no signatureId")?
        .to_string();
    let from = kms(bin, home, &["getaddress", &eth_id, "0"])?;

    step("a local fake of the Tatum API, serving one pending transaction for that wallet");
    let api_key = "demo-api-key";
    let fake = kms_fake_tatum::FakeTatum::start(api_key);
    let pending = serde_json::json!({
        "id": "demo-pending-tx-1",
        "chain": "ETH",
        "hashes": [eth_id],
        "index": 0,
        "serializedTransaction": serde_json::json!({
            "to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee",
            "value": "1000000000000000",
            "gasPrice": "20000000000",
            "gas": 21000,
            "nonce": 1,
            "chainId": 11155111
        }).to_string(),
    });
    println!("{} (from {})", fake.url, from["address"]);
    println!(
        "{}",
        serde_json::to_string_pretty(&pending).unwrap_or_default()
    );
    fake.add_pending(pending);

    step("the example approval service (examples/approver/approver.py, four-eye principle, HMAC-signed)");
    let secret = "demo approval secret, shared by the KMS and the approver";
    let approver = Approval::start(secret)?;
    println!("{}", approver.url());

    step("tatum-kms daemon --runOnce --testnet --externalUrl <approver>");
    let status = Command::new(bin)
        .args([
            "daemon",
            "--runOnce",
            "--testnet",
            "--externalUrl",
            &approver.url(),
        ])
        .env("HOME", home)
        .env("TATUM_KMS_PASSWORD", PASSWORD)
        .env("TATUM_API_KEY", api_key)
        .env("TATUM_API_URL", &fake.url)
        .env("TATUM_KMS_APPROVAL_SECRET", secret)
        .status()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    if !status.success() {
        return Err(format!("the daemon's cycle failed ({status})"));
    }

    step("what the approval service was asked, and what the fake Tatum API received");
    approver.show();
    let broadcasts = fake.broadcasts();
    for b in &broadcasts {
        println!("tatum api: POST {} {}", b.path, b.body);
    }
    if broadcasts.len() != 1 {
        return Err(format!("expected one broadcast, got {}", broadcasts.len()));
    }

    step("the store on disk");
    let meta = std::fs::metadata(&store).map_err(|e| e.to_string())?;
    let head = std::fs::read(&store).map_err(|e| e.to_string())?;
    println!(
        "{} bytes, mode {:o}, starts with {:?} (the authenticated v2 format, docs/wallet-format.md)",
        meta.len(),
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        String::from_utf8_lossy(&head[..7])
    );
    println!("\ndemo done: testnet wallets were created and stored encrypted, a pending transaction was approved, signed and handed back for broadcast; the store is deleted now.");
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

/// The example approver when Python is there; else the in-process fake
/// (unsigned), so the demo runs with nothing installed.
enum Approval {
    Example(std::process::Child, u16),
    Fake(kms_fake_tatum::FakeApprover),
}

impl Approval {
    fn start(secret: &str) -> Result<Approval> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let script = crate::root().join("examples/approver/approver.py");
        let spawned = Command::new("python3")
            .arg(&script)
            .args(["--port", &port.to_string()])
            .env("TATUM_KMS_APPROVAL_SECRET", secret)
            .stderr(std::process::Stdio::inherit())
            .spawn();
        match spawned {
            Ok(child) => {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                    if std::time::Instant::now() > deadline {
                        return Err("the example approver did not start".into());
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Ok(Approval::Example(child, port))
            }
            Err(_) => {
                println!("(python3 not found: using the built-in fake approver, unsigned)");
                Ok(Approval::Fake(kms_fake_tatum::FakeApprover::start()))
            }
        }
    }

    fn url(&self) -> String {
        match self {
            Approval::Example(_, port) => format!("http://127.0.0.1:{port}/kms"),
            Approval::Fake(f) => f.url.clone(),
        }
    }

    /// What the approver was asked (the example logs its decisions itself).
    fn show(&self) {
        if let Approval::Fake(f) = self {
            for seen in f.seen() {
                println!("approver: {} {}", seen.method, seen.path);
            }
        }
    }
}

impl Drop for Approval {
    fn drop(&mut self) {
        if let Approval::Example(child, _) = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
