#![allow(unreachable_pub)] // shared by the test files, each its own crate

//! The real binary in a HOME of its own, shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use kms_chain_signers::{signer, Mnemonic};
use kms_core::{Chain, WalletEntry};
use serde_json::Value;

/// A HOME of its own, so ~/.tatumrc is never the real one.
pub struct Home {
    pub root: PathBuf,
    _owner: Option<tempfile::TempDir>,
}

impl Home {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Home {
            root: dir.path().to_path_buf(),
            _owner: Some(dir),
        }
    }
    /// Another handle on an existing home (its owner deletes it).
    pub fn at(root: PathBuf) -> Self {
        Home { root, _owner: None }
    }
    pub fn store(&self) -> PathBuf {
        self.root.join(".tatumrc/wallet.dat")
    }
    pub fn cmd(&self, password: &str) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("tatum-kms"));
        cmd.env_clear()
            .env("HOME", &self.root)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TATUM_KMS_PASSWORD", password)
            .env("TATUM_KMS_KDF_MEMORY_MIB", "64")
            .stdin(Stdio::null());
        cmd
    }
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd("pw").args(args).output().unwrap()
    }
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut cmd = self.cmd(PASSWORD);
        cmd.args(args);
        output_with_stdin(cmd, input)
    }
    pub fn json(&self, args: &[&str]) -> Value {
        json_of(&self.run(args))
    }
}

/// Runs `cmd` with `input` on its stdin.
pub fn output_with_stdin(mut cmd: Command, input: &str) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

pub fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The password every helper uses.
pub const PASSWORD: &str = "pw";

impl Home {
    /// Writes wallets under the given ids straight through the store
    /// library (the commands choose fresh ids themselves).
    pub fn put_wallets(&self, wallets: Vec<(String, kms_core::WalletEntry)>) {
        let kdf = kms_vault::KdfParams {
            memory_kib: 64 * 1024,
            ..Default::default()
        };
        let mut vault =
            kms_vault::Vault::open(&self.store(), &secrecy::SecretString::from(PASSWORD), kdf)
                .unwrap();
        vault
            .update(|w| {
                for (id, entry) in wallets.into_iter().rev() {
                    w.insert_first(id, entry);
                }
            })
            .unwrap();
    }
}

/// The wallets the original would have found under the vector's
/// signatureIds: the mnemonic wallet when the transaction derives a key
/// (`index`, or an off-chain withdrawal), else the keys as stored by
/// `storemanagedprivatekey` (or generated, for secret-based chains).
pub fn wallets_for(vector: &Value, mnemonic: &str) -> Vec<(String, WalletEntry)> {
    let pending = &vector["pendingTransaction"];
    let chain: Chain = vector["chain"].as_str().unwrap().parse().unwrap();
    let testnet = vector["testnet"].as_bool().unwrap();
    let hashes: Vec<String> = pending["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    let derives = pending.get("index").is_some_and(|i| !i.is_null())
        || pending.get("withdrawalId").is_some_and(|i| !i.is_null());
    let signing_keys = vector["signingKeys"].as_array().unwrap();
    hashes
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let entry = if derives {
                let m = Mnemonic::parse(mnemonic).unwrap();
                signer(chain)
                    .generate_wallet(kms_core::Network::from_testnet(testnet), Some(&m))
                    .unwrap()
            } else {
                let k = &signing_keys[i];
                match (k.get("secret"), k.get("privateKey")) {
                    (Some(secret), _) => WalletEntry::new()
                        .with("address", k["address"].clone())
                        .with("secret", secret.clone()),
                    (None, Some(key)) => WalletEntry::new().with("privateKey", key.clone()),
                    _ => panic!("{}: no key in signingKeys[{i}]", vector["name"]),
                }
            };
            (
                id.clone(),
                entry.with("chain", chain.as_str()).with("testnet", testnet),
            )
        })
        .collect()
}
