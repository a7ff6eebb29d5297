//! Test helpers shared by the KMS crates: the original SDK's vectors
//! ([`vectors`]), a recording HTTP server standing in for the services the
//! KMS calls ([`http`]), a replay of the Tatum API from a vector
//! ([`replay`]), the AWS emulator ([`moto`]), and the project's Python for
//! independent cross-checks.

// Test helpers, not an API: documented where it helps, not item by item.
#![forbid(unsafe_code)]

pub mod http;
pub mod moto;
pub mod postgres;
pub mod replay;
pub mod vectors;

use std::path::PathBuf;
use std::process::{Command, Stdio};

pub use vectors::{load_vectors, vectors_dir};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The project's Python with the cross-check packages (see
/// `scripts/python-env.sh`): `KMS_PYTHON`, else the default venv. `None`
/// where neither exists: the caller skips with a loud message, except under
/// CI (`CI` set), where a missing Python is a failure, so the cross-checks
/// can never be skipped silently there.
pub fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("KMS_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            let home = std::env::var_os("HOME")?;
            Some(PathBuf::from(home).join(".cache/kms-py/bin/python"))
        });
    match candidate {
        Some(p) if p.exists() => Some(p),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("CI: the cross-check Python is missing; run scripts/python-env.sh (it sets up KMS_PYTHON)");
            }
            eprintln!(
                "\n*** SKIPPED: independent cross-check needs the project's Python; run `scripts/python-env.sh` ***\n"
            );
            None
        }
    }
}

/// Runs a Python script with JSON on stdin and returns its stdout as JSON.
/// Panics with the script's stderr when it fails.
pub fn run_python(python: &PathBuf, script: &str, input: &serde_json::Value) -> serde_json::Value {
    use std::io::Write;
    let mut child = Command::new(python)
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "python printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}
