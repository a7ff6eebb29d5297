//! The Tatum API is not trusted: the real binary against a fake API that
//! answers whatever an attacker wants. Each attack is shown failing, and
//! beside it the same set-up without the attack succeeding.

mod common;

use common::{stderr, Home, PASSWORD};
use kms_core::WalletEntry;
use kms_fake_tatum::{FakeApprover, FakeTatum};
use serde_json::{json, Value};

const API_KEY: &str = "hostile-test-api-key";
const KEY_TESTNET: &str = "0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603";
const KEY_MAINNET: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
const KEY_OTHER: &str = "0x8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f";

fn eth_wallet(key: &str, testnet: bool) -> WalletEntry {
    WalletEntry::new()
        .with("privateKey", key)
        .with("chain", "ETH")
        .with("testnet", testnet)
}

/// An ETH transaction that needs nothing from the network.
fn eth_tx(id: &str, wallet: &str, chain_id: u64) -> Value {
    json!({
        "id": id, "chain": "ETH", "hashes": [wallet],
        "serializedTransaction": json!({
            "to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee", "value": "1000",
            "gasPrice": "20000000000", "gas": 21000, "nonce": 1, "chainId": chain_id
        }).to_string(),
    })
}

/// A store with a testnet ETH wallet, a second testnet ETH wallet and a
/// mainnet ETH wallet; a fake API and an approver that approves anything.
struct Setup {
    home: Home,
    fake: FakeTatum,
    approver: FakeApprover,
}

fn setup() -> Setup {
    let home = Home::new();
    home.put_wallets(vec![
        ("testnet-a".into(), eth_wallet(KEY_TESTNET, true)),
        ("testnet-b".into(), eth_wallet(KEY_OTHER, true)),
        ("mainnet-m".into(), eth_wallet(KEY_MAINNET, false)),
    ]);
    Setup {
        home,
        fake: FakeTatum::start(API_KEY),
        approver: FakeApprover::start(),
    }
}

impl Setup {
    /// One `daemon --testnet --chain ETH --runOnce` with the approver.
    fn run(&self, extra: &[&str]) -> std::process::Output {
        self.home
            .cmd(PASSWORD)
            .env("TATUM_API_KEY", API_KEY)
            .env("TATUM_API_URL", &self.fake.url)
            .env("RUST_LOG", "info")
            .args(["daemon", "--testnet", "--chain", "ETH", "--runOnce"])
            .args(["--externalUrl", &self.approver.url])
            .args(extra)
            .output()
            .unwrap()
    }

    fn broadcast_ids(&self) -> Vec<String> {
        self.fake
            .broadcasts()
            .iter()
            .map(|b| b.body["signatureId"].as_str().unwrap().to_string())
            .collect()
    }

    fn reported(&self, id: &str) -> Option<String> {
        self.fake
            .error_reports()
            .iter()
            .flat_map(|r| r.as_array().cloned().unwrap_or_default())
            .find(|e| e["signatureId"] == id)
            .map(|e| e["error"].as_str().unwrap_or_default().to_string())
    }
}

#[test]
fn a_mainnet_wallet_is_never_used_by_a_testnet_daemon() {
    let s = setup();
    // The attack: the API slips a chainId 1 transaction of the mainnet wallet
    // into the answer for the testnet wallets.
    s.fake
        .force_pending("ETH", eth_tx("attack-1", "mainnet-m", 1));
    // The control: the same kind of transaction of a wallet it asked about.
    s.fake
        .force_pending("ETH", eth_tx("honest-1", "testnet-a", 11155111));
    let out = s.run(&[]);
    assert_eq!(s.broadcast_ids(), ["honest-1"], "{}", stderr(&out));
    let why = s.reported("attack-1").expect("the refusal is reported");
    assert!(
        why.contains("mainnet-m") && why.contains("refused"),
        "{why}"
    );
    assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
    // The approver is never asked about what this daemon may not sign.
    let asked: Vec<String> = s.approver.seen().into_iter().map(|r| r.path).collect();
    assert_eq!(asked, ["/approve/honest-1"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a refusal is a failure of the run"
    );
}

#[test]
fn a_transaction_of_another_chain_in_the_answer_is_refused() {
    let s = setup();
    let mut sol = eth_tx("attack-sol", "testnet-a", 11155111);
    sol["chain"] = json!("SOL");
    s.fake.force_pending("ETH", sol);
    s.fake
        .force_pending("ETH", eth_tx("honest-2", "testnet-a", 11155111));
    let out = s.run(&[]);
    assert_eq!(s.broadcast_ids(), ["honest-2"], "{}", stderr(&out));
    let why = s.reported("attack-sol").unwrap();
    assert!(
        why.contains("SOL transaction in the answer for ETH"),
        "{why}"
    );
}

#[test]
fn wallets_outside_the_wallets_flag_are_not_used() {
    let s = setup();
    s.fake
        .force_pending("ETH", eth_tx("attack-b", "testnet-b", 11155111));
    s.fake
        .force_pending("ETH", eth_tx("honest-a", "testnet-a", 11155111));
    let out = s.run(&["--wallets", "testnet-a"]);
    assert_eq!(s.broadcast_ids(), ["honest-a"], "{}", stderr(&out));
    assert!(s.reported("attack-b").unwrap().contains("testnet-b"));

    // Without --wallets the daemon asked about testnet-b too: it signs.
    let s = setup();
    s.fake
        .force_pending("ETH", eth_tx("honest-b", "testnet-b", 11155111));
    let out = s.run(&[]);
    assert_eq!(s.broadcast_ids(), ["honest-b"], "{}", stderr(&out));
}

#[test]
fn ids_that_would_reach_other_paths_of_the_approver_are_refused() {
    let s = setup();
    for id in ["../healthz", "%2e%2e/healthz", "..", "a?b", "tx\u{1b}[2J"] {
        s.fake
            .force_pending("ETH", eth_tx(id, "testnet-a", 11155111));
    }
    s.fake.force_pending(
        "ETH",
        eth_tx(
            "7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f60",
            "testnet-a",
            11155111,
        ),
    );
    let out = s.run(&[]);
    let log = stderr(&out);
    assert_eq!(
        s.broadcast_ids(),
        ["7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f60"],
        "{log}"
    );
    let asked: Vec<String> = s.approver.seen().into_iter().map(|r| r.path).collect();
    assert_eq!(asked, ["/approve/7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f60"]);
    assert!(s
        .reported("../healthz")
        .unwrap()
        .contains("not a pending transaction id"));
    // A control character from the API never reaches the log raw.
    assert!(!log.contains('\u{1b}'), "{log}");
    assert!(log.contains(r"tx\u{1b}[2J"), "{log}");
}

#[test]
fn signpending_signs_only_with_wallets_of_its_network() {
    let s = setup();
    let tx = eth_tx("tx-m", "mainnet-m", 1).to_string();
    let refused = s
        .home
        .run_with_stdin(&["signpending", "-", "--testnet"], &tx);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("not one of the ETH testnet wallets"),
        "{}",
        stderr(&refused)
    );
    let signed = s.home.run_with_stdin(&["signpending", "-"], &tx);
    assert!(signed.status.success(), "{}", stderr(&signed));
}

/// Peak resident memory of the largest child this test process waited for.
fn children_peak_rss_mib() -> i64 {
    // SAFETY: getrusage only writes the struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    usage.ru_maxrss / 1024
}

#[test]
fn a_two_gigabyte_pending_answer_does_not_grow_the_daemon() {
    let s = setup();
    s.fake.inject([kms_fake_tatum::Fault::Huge(2 << 30)]);
    let started = std::time::Instant::now();
    let out = s
        .home
        .cmd(PASSWORD)
        .env("TATUM_API_KEY", API_KEY)
        .env("TATUM_API_URL", &s.fake.url)
        .args(["daemon", "--testnet", "--chain", "ETH", "--runOnce"])
        .output()
        .unwrap();
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("larger than 16 MiB"), "{log}");
    assert!(started.elapsed().as_secs() < 20, "stopped reading early");
    // The 64 MiB KDF of the test store and the process itself; the 2 GB never arrive.
    let peak = children_peak_rss_mib();
    assert!(peak < 200, "peak RSS {peak} MiB");

    // Without the attack the same daemon run succeeds.
    let s = setup();
    s.fake
        .force_pending("ETH", eth_tx("honest-3", "testnet-a", 11155111));
    let out = s.run(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(s.broadcast_ids(), ["honest-3"]);
}

#[test]
fn a_second_daemon_on_the_same_chains_refuses_to_start() {
    let s = setup();
    let mut first = s
        .home
        .cmd(PASSWORD)
        .env("TATUM_API_KEY", API_KEY)
        .env("TATUM_API_URL", &s.fake.url)
        .args(["daemon", "--testnet", "--chain", "BTC,ETH", "--period", "1"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !s
        .fake
        .seen()
        .iter()
        .any(|r| r.path.starts_with("/v3/kms/pending/"))
    {
        assert!(
            start.elapsed().as_secs() < 30,
            "the first daemon never asked"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let second = s.run(&[]);
    let log = stderr(&second);
    assert_eq!(second.status.code(), Some(1), "{log}");
    assert!(
        log.contains(&format!("another daemon (pid {})", first.id()))
            && log.contains("ETH testnet"),
        "{log}"
    );
    // Another chain of the same store is free.
    let other = s
        .home
        .cmd(PASSWORD)
        .env("TATUM_API_KEY", API_KEY)
        .env("TATUM_API_URL", &s.fake.url)
        .args(["daemon", "--testnet", "--chain", "SOL", "--runOnce"])
        .output()
        .unwrap();
    assert!(other.status.success(), "{}", stderr(&other));
    first.kill().unwrap();
    first.wait().unwrap();
    // Once the first is gone (even killed), the chain is free again.
    let after = s.run(&[]);
    assert!(after.status.success(), "{}", stderr(&after));
}

/// An approved-looking transaction without a chain id, completed by the
/// API with another chain's id (56, BSC): refused before signing. With the
/// right id it is signed, and the approver saw the filled-in value, the
/// decoded intent (where the chain has a decoder) and the digest.
#[test]
fn a_chain_id_filled_in_by_the_api_is_pinned_and_shown_to_the_approver() {
    let run = |chain_id_answer: &str| {
        let home = Home::new();
        home.put_wallets(vec![("mainnet-m".into(), eth_wallet(KEY_MAINNET, false))]);
        let fake = FakeTatum::start(API_KEY);
        let approver = FakeApprover::start();
        let mut tx = eth_tx("late-filled", "mainnet-m", 1);
        let mut fields: Value =
            serde_json::from_str(tx["serializedTransaction"].as_str().unwrap()).unwrap();
        fields.as_object_mut().unwrap().remove("chainId");
        tx["serializedTransaction"] = json!(fields.to_string());
        fake.force_pending("ETH", tx);
        fake.add_recorded(&json!([{
            "method": "POST", "url": "/v3/ethereum/web3/{apiKey}",
            "body": {"jsonrpc": "2.0", "id": "<id>", "method": "eth_chainId", "params": []},
            "answer": {"jsonrpc": "2.0", "id": "<id>", "result": chain_id_answer}
        }]));
        let out = home
            .cmd(PASSWORD)
            .env("TATUM_API_KEY", API_KEY)
            .env("TATUM_API_URL", &fake.url)
            .args(["daemon", "--chain", "ETH", "--runOnce"])
            .args([
                "--externalUrl",
                &approver.url,
                "--externalUrlMethod",
                "POST",
            ])
            .output()
            .unwrap();
        (out, fake, approver)
    };
    let (out, fake, approver) = run("0x38");
    assert!(fake.broadcasts().is_empty(), "{}", stderr(&out));
    assert!(approver.seen().is_empty(), "never asked about it");
    let reported = fake.error_reports();
    let text = serde_json::to_string(&reported).unwrap();
    assert!(text.contains("chain id 56 is not ETH mainnet"), "{text}");

    let (out, fake, approver) = run("0x1");
    assert_eq!(fake.broadcasts().len(), 1, "{}", stderr(&out));
    let asked = &approver.seen()[0].body;
    assert_eq!(asked["kms"]["prepared"]["chainId"], 1, "{asked}");
    let digest = asked["kms"]["digest"].as_str().unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 7 + 64,
        "{digest}"
    );
    // The approval is bound to what was broadcast.
    let tx_data = fake.broadcasts()[0].body["txData"]
        .as_str()
        .unwrap()
        .to_string();
    use sha2::Digest;
    assert_eq!(
        digest,
        format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(tx_data.as_bytes()))
        )
    );
}

/// The local policy refuses what it does not allow even when the approver
/// approves everything: here a destination not on its list.
#[test]
fn the_local_policy_refuses_whatever_the_approver_says() {
    let home = Home::new();
    home.put_wallets(vec![("testnet-a".into(), eth_wallet(KEY_TESTNET, true))]);
    let fake = FakeTatum::start(API_KEY);
    let approver = FakeApprover::start();
    let policy = home.root.join("policy.toml");
    std::fs::write(
        &policy,
        r#"
[chains.ETH]
networks = ["testnet"]
max_amount = "1000"
destinations = ["0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee"]
"#,
    )
    .unwrap();
    let mut elsewhere = eth_tx("to-elsewhere", "testnet-a", 11155111);
    elsewhere["serializedTransaction"] = json!(json!({
        "to": "0x000000000000000000000000000000000000dead", "value": "1000",
        "gasPrice": "20000000000", "gas": 21000, "nonce": 2, "chainId": 11155111
    })
    .to_string());
    fake.force_pending("ETH", elsewhere);
    fake.force_pending("ETH", eth_tx("to-allowed", "testnet-a", 11155111));
    let out = home
        .cmd(PASSWORD)
        .env("TATUM_API_KEY", API_KEY)
        .env("TATUM_API_URL", &fake.url)
        .args(["daemon", "--testnet", "--chain", "ETH", "--runOnce"])
        .args(["--externalUrl", &approver.url])
        .args(["--policy", policy.to_str().unwrap()])
        .output()
        .unwrap();
    let log = stderr(&out);
    let sent: Vec<Value> = fake
        .broadcasts()
        .iter()
        .map(|b| b.body["signatureId"].clone())
        .collect();
    assert_eq!(sent, [json!("to-allowed")], "{log}");
    let reported = serde_json::to_string(&fake.error_reports()).unwrap();
    assert!(
        reported
            .contains("0x000000000000000000000000000000000000dead is not an allowed destination"),
        "{reported}"
    );
    // A policy that does not parse stops the daemon before it starts.
    std::fs::write(&policy, "[chains.ETH]\nnetworks = [\"main\"]\n").unwrap();
    let bad = home
        .cmd(PASSWORD)
        .env("TATUM_API_KEY", API_KEY)
        .env("TATUM_API_URL", &fake.url)
        .args([
            "daemon",
            "--testnet",
            "--runOnce",
            "--policy",
            policy.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("'main' is neither mainnet nor testnet"));
}
