//! No secret (mnemonic, private key, password) appears in any output of any
//! command, except on the stdout of the commands whose job is to print them.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "hygiene-password-Zq81";
const MNEMONIC: &str = "evidence attack report captain near hawk project victory common village grass hungry wrestle begin typical torch that slow clown spend dentist tilt rib spray";
const WIF: &str = "KxVnnQgLvPrT3xukRmVSi1r2YrE9QKxchPSpuHruqg2rkKSWPcEd";

fn run(home: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("tatum-kms"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("TATUM_KMS_PASSWORD", PASSWORD)
        .env("TATUM_KMS_KDF_MEMORY_MIB", "64")
        .env("RUST_LOG", "trace")
        .env("TATUM_API_KEY", "api-key-secret-7731")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn secrets_stay_out_of_every_output_that_is_not_for_them() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let words: Vec<&str> = MNEMONIC.split(' ').collect();
    let mnemonic_id = serde_json::from_slice::<serde_json::Value>(
        &run(h, &["storemanagedwallet", "BTC"], Some(MNEMONIC)).stdout,
    )
    .unwrap()["signatureId"]
        .as_str()
        .unwrap()
        .to_string();
    let key_id = serde_json::from_slice::<serde_json::Value>(
        &run(h, &["storemanagedprivatekey", "BTC"], Some(WIF)).stdout,
    )
    .unwrap()["signatureId"]
        .as_str()
        .unwrap()
        .to_string();
    let derived = serde_json::from_slice::<serde_json::Value>(
        &run(h, &["getprivatekey", &mnemonic_id, "0"], None).stdout,
    )
    .unwrap()["privateKey"]
        .as_str()
        .unwrap()
        .to_string();

    let both = format!("{mnemonic_id},{key_id}");
    // Pending transactions the store can sign (or fail to): keys are used,
    // never shown.
    let bad_tx = serde_json::json!({
        "id": "tx-1", "chain": "BTC", "hashes": [key_id],
        "signatures": [{"id": mnemonic_id, "index": 3}],
        "serializedTransaction": "{\"inputs\": \"not a transaction\"}",
    })
    .to_string();
    let eth_tx = serde_json::json!({
        "id": "tx-2", "chain": "ETH", "hashes": [mnemonic_id], "index": 0,
        "serializedTransaction": "{\"to\":\"0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee\",\"value\":\"1\"}",
    })
    .to_string();
    // (command, stdin, whether its stdout may carry secrets)
    let cases: Vec<(Vec<&str>, Option<&str>, bool)> = vec![
        (vec!["getaddress", &mnemonic_id, "0"], None, false),
        (vec!["getaddress", &key_id, "0"], None, false),
        (vec!["report", &both], None, false),
        (vec!["checkconfig"], None, false),
        (vec!["generatemanagedwallet", "ETH"], None, false),
        (vec!["storemanagedwallet", "BTC"], Some("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon"), false),
        (vec!["storemanagedprivatekey", "ETH"], Some(WIF), false),
        (vec!["getaddress", "missing", "0"], None, false),
        (vec!["getprivatekey", &mnemonic_id, "99999999999"], None, false),
        (vec!["migrate"], None, false),
        (vec!["signpending"], Some(bad_tx.as_str()), false),
        (vec!["signpending", "-"], Some(eth_tx.as_str()), false),
        (vec!["getprivatekey", &mnemonic_id, "0"], None, true),
        (vec!["getmanagedwallet", &mnemonic_id], None, true),
        (vec!["export"], None, true),
    ];
    let secrets = [PASSWORD, WIF, derived.as_str(), "api-key-secret-7731"];
    for (args, stdin, may_print) in &cases {
        let out = run(h, args, *stdin);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        for secret in secrets {
            assert!(
                !stderr.contains(secret),
                "{args:?}: stderr shows a secret: {stderr}"
            );
        }
        // Four consecutive words of the mnemonic would be a leak.
        for window in words.windows(4) {
            let phrase = window.join(" ");
            assert!(
                !stderr.contains(&phrase),
                "{args:?}: stderr shows mnemonic words"
            );
            if !may_print {
                assert!(
                    !stdout.contains(&phrase),
                    "{args:?}: stdout shows mnemonic words"
                );
            }
        }
        if !may_print {
            for secret in secrets {
                assert!(
                    !stdout.contains(secret),
                    "{args:?}: stdout shows a secret: {stdout}"
                );
            }
        }
    }
    // A wrong password's error names the problem, not the password.
    let out = Command::new(assert_cmd::cargo::cargo_bin("tatum-kms"))
        .arg("export")
        .env_clear()
        .env("HOME", h)
        .env("TATUM_KMS_PASSWORD", "wrong-Zq81-password")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("wrong-Zq81-password"));
}

/// The daemon at trace level, signing one transaction and failing another,
/// against the fake API and approver: it uses every key and prints none.
#[test]
fn the_daemon_at_trace_level_prints_no_secret() {
    const ETH_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    const API_KEY: &str = "api-key-secret-7731";
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let id_of = |out: Output| -> String {
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["signatureId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mnemonic_id = id_of(run(
        h,
        &["storemanagedwallet", "BTC", "--testnet"],
        Some(MNEMONIC),
    ));
    let key_id = id_of(run(
        h,
        &["storemanagedprivatekey", "ETH", "--testnet"],
        Some(ETH_KEY),
    ));
    let derived = serde_json::from_slice::<serde_json::Value>(
        &run(h, &["getprivatekey", &mnemonic_id, "0"], None).stdout,
    )
    .unwrap()["privateKey"]
        .as_str()
        .unwrap()
        .to_string();

    let fake = kms_fake_tatum::FakeTatum::start(API_KEY);
    let approver = kms_fake_tatum::FakeApprover::start();
    fake.add_pending(serde_json::json!({
        "id": "eth-1", "chain": "ETH", "hashes": [key_id],
        "serializedTransaction": serde_json::json!({
            "to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee", "value": "1000",
            "gasPrice": "20000000000", "gas": 21000, "nonce": 7, "chainId": 11155111
        }).to_string(),
    }));
    fake.add_pending(serde_json::json!({
        "id": "btc-1", "chain": "BTC", "hashes": [mnemonic_id],
        "serializedTransaction": "{\"inputs\": \"not a transaction\"}",
    }));

    let out = Command::new(assert_cmd::cargo::cargo_bin("tatum-kms"))
        .args([
            "daemon",
            "--testnet",
            "--runOnce",
            "--externalUrl",
            &approver.url,
        ])
        .env_clear()
        .env("HOME", h)
        .env("TATUM_KMS_PASSWORD", PASSWORD)
        .env("TATUM_API_KEY", API_KEY)
        .env("TATUM_API_URL", &fake.url)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The run did its work, so the keys really were used.
    assert_eq!(fake.broadcasts().len(), 1, "{stderr}");
    assert_eq!(fake.error_reports().len(), 1, "{stderr}");
    assert!(
        stderr.contains("TRACE") || stderr.contains("trace"),
        "trace logging was not on"
    );

    for text in [&stdout, &stderr] {
        for secret in [PASSWORD, ETH_KEY, &ETH_KEY[2..], derived.as_str(), API_KEY] {
            assert!(
                !text.contains(secret),
                "the daemon printed a secret: {text}"
            );
        }
        for window in MNEMONIC.split(' ').collect::<Vec<_>>().windows(4) {
            assert!(
                !text.contains(&window.join(" ")),
                "the daemon printed mnemonic words"
            );
        }
    }
}
