//! `tatum-kms audit` on the embedded ledger a daemon run left: the trail as
//! JSON and its filters; `audit verify` on the untouched trail, then on one
//! edited and one cut behind the KMS's back (with Python's sqlite3, as an
//! attacker with file access would); `audit prune`.

mod common;

use std::process::Command;

use common::{stderr, Home};
use kms_core::{Chain, Network, WalletEntry};
use kms_fake_tatum::FakeTatum;
use serde_json::{json, Value};

const API_KEY: &str = "audit-test-api-key";
const KEY: &str = "0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603";

fn audit(home: &Home, args: &[&str]) -> (bool, Value, String) {
    let out = home.cmd("").arg("audit").args(args).output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.success(), json, stderr(&out))
}

/// Runs SQL on the ledger file, as someone with write access to it could.
fn tamper(home: &Home, sql: &str) {
    let ledger = home.root.join(".tatumrc/wallet.dat.ledger");
    let script =
        "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()";
    let out = Command::new("python3")
        .args(["-c", script, ledger.to_str().unwrap(), sql])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn audit_lists_filters_verifies_and_prunes_the_trail() {
    let home = Home::new();
    home.put_wallets(vec![(
        "wallet-a".into(),
        WalletEntry::stored(
            WalletEntry::new().with("privateKey", KEY),
            Chain::ETH,
            Network::Testnet,
        ),
    )]);
    let fake = FakeTatum::start(API_KEY);
    for nonce in 1..=2u64 {
        fake.add_pending(json!({
            "id": format!("tx-{nonce}"), "chain": "ETH", "hashes": ["wallet-a"],
            "serializedTransaction": json!({
                "to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee", "value": "1000",
                "gasPrice": "20000000000", "gas": 21000, "nonce": nonce, "chainId": 11155111
            }).to_string(),
        }));
    }
    let run = home
        .cmd(common::PASSWORD)
        .env("TATUM_API_KEY", API_KEY)
        .env("TATUM_API_URL", &fake.url)
        .args(["daemon", "--testnet", "--runOnce", "--chain", "ETH"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(fake.broadcasts().len(), 2);

    // The whole trail, in order; no password needed.
    let (ok, all, err) = audit(&home, &[]);
    assert!(ok, "{err}");
    let kinds: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "claimed",
            "signed",
            "submitted",
            "claimed",
            "signed",
            "submitted"
        ]
    );
    let first = &all[1];
    assert_eq!(first["id"], "tx-1");
    assert_eq!(first["wallets"], json!(["wallet-a"]));
    assert_eq!(
        first["detail"]["txData"],
        fake.broadcasts()[0].body["txData"]
    );
    assert!(
        first["at"].as_str().unwrap().ends_with('Z'),
        "{}",
        first["at"]
    );
    assert!(
        !all.to_string().contains(KEY.trim_start_matches("0x")),
        "no key in the ledger"
    );

    // Filters.
    let (_, signed, _) = audit(
        &home,
        &[
            "--state", "signed", "--chain", "eth", "--wallet", "wallet-a",
        ],
    );
    assert_eq!(signed.as_array().unwrap().len(), 2);
    let (_, one, _) = audit(&home, &["--id", "tx-2", "--limit", "1"]);
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(one[0]["id"], "tx-2");
    let (_, future, _) = audit(&home, &["--since", "2999-01-01T00:00:00Z"]);
    assert_eq!(future, json!([]));
    let (ok, _, err) = audit(&home, &["--state", "bogus"]);
    assert!(!ok && err.contains("one of claimed"), "{err}");

    // The untouched trail verifies; its head is noted.
    let (ok, report, err) = audit(&home, &["verify"]);
    assert!(ok, "{err}");
    assert_eq!(report["intact"], true);
    assert_eq!(report["entries"], 6);
    let head = report["head"].as_str().unwrap().to_string();

    // An edited entry: the txData of the first signature changed.
    tamper(
        &home,
        "UPDATE ledger_audit SET detail = replace(detail, '0xf8', '0xf9') WHERE seq = 2;",
    );
    let (ok, report, err) = audit(&home, &["verify"]);
    assert!(!ok, "an edited trail must not verify");
    assert_eq!(report["problem"], "edited");
    assert_eq!(report["seq"], 2);
    assert!(err.contains("entry 2 was edited"), "{err}");
    tamper(
        &home,
        "UPDATE ledger_audit SET detail = replace(detail, '0xf9', '0xf8') WHERE seq = 2;",
    );
    assert!(audit(&home, &["verify"]).0, "restored, it verifies again");

    // A cut end: only the noted head shows it.
    tamper(&home, "DELETE FROM ledger_audit WHERE seq = 6;");
    assert!(
        audit(&home, &["verify"]).0,
        "a chain alone cannot show a cut end"
    );
    let (ok, report, err) = audit(&home, &["verify", "--head", &head]);
    assert!(!ok, "{report}");
    assert!(err.contains("does not hold the noted head"), "{err}");

    // Pruning everything leaves an empty, verifiable trail from its anchor.
    let (ok, pruned, err) = audit(&home, &["prune", "--before", "2999-01-01T00:00:00Z"]);
    assert!(ok, "{err}");
    assert_eq!(pruned["removed"], 5);
    assert_eq!(pruned["anchor"]["seq"], 5);
    let (ok, report, err) = audit(&home, &["verify"]);
    assert!(ok, "{err}");
    assert_eq!(report["entries"], 0);
}
