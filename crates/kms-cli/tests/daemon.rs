//! The daemon, as the real binary, against the fake Tatum API and a fake
//! approval service: what reaches which endpoint, what is never signed,
//! filters, store changes while running, faults and signals.

mod common;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{stderr, wallets_for, Home};
use kms_core::WalletEntry;
use kms_fake_tatum::{FakeApprover, FakeTatum, Fault};
use serde_json::{json, Value};

const API_KEY: &str = "daemon-test-api-key";

fn daemon(home: &Home, fake: &FakeTatum, args: &[&str]) -> Command {
    let mut cmd = home.cmd(common::PASSWORD);
    cmd.env("TATUM_API_KEY", API_KEY)
        .env("TATUM_API_URL", &fake.url)
        .env("TATUM_KMS_VET_NODE_URL", &fake.url)
        .env("RUST_LOG", "info")
        .arg("daemon")
        .args(args);
    cmd
}

fn run(home: &Home, fake: &FakeTatum, args: &[&str]) -> Output {
    daemon(home, fake, args).output().unwrap()
}

fn spawn(home: &Home, fake: &FakeTatum, args: &[&str]) -> Child {
    daemon(home, fake, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sigterm(child: &Child) {
    // SAFETY: a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
}

/// Waits for a child to exit (killing it after `timeout`).
fn wait_exit(mut child: Child, timeout: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > timeout {
            let _ = child.kill();
            panic!("the daemon did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A testnet ETH transaction that needs nothing from the network.
fn complete_eth_tx(id: &str, wallet: &str, nonce: u64) -> Value {
    json!({
        "id": id, "chain": "ETH", "hashes": [wallet],
        "serializedTransaction": json!({
            "to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee", "value": "1000",
            "gasPrice": "20000000000", "gas": 21000, "nonce": nonce, "chainId": 11155111
        }).to_string(),
    })
}

fn eth_key_wallet(key: &str) -> WalletEntry {
    WalletEntry::new()
        .with("privateKey", key)
        .with("chain", "ETH")
        .with("testnet", true)
}

const KEY_A: &str = "0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603";
const KEY_B: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

/// Every signing vector, served as pending by the fake API to a store
/// holding the vector's wallets, comes back as a broadcast of exactly the
/// original's `txData` (CELO's: what the L2 accepts, see
/// `expected_tx_data_today`), on the chain's endpoint, with the pending id.
#[test]
fn every_vector_is_broadcast_as_the_original_signed_it() {
    let file = kms_test_support::vectors::signing();
    let mnemonic = &file.mnemonic;
    let home = Home::new();
    let fake = FakeTatum::start(API_KEY);
    fake.load_signing_vectors(&file.json);
    let approver = FakeApprover::start();
    let vectors = &file.vectors;
    home.put_wallets(
        vectors
            .iter()
            .flat_map(|v| wallets_for(v, mnemonic))
            .collect(),
    );

    let out = run(&home, &fake, &["--runOnce", "--externalUrl", &approver.url]);
    let log = stderr(&out);

    let broadcasts = fake.broadcasts();
    let reported: Vec<Value> = fake
        .error_reports()
        .into_iter()
        .flat_map(|r| r.as_array().cloned().unwrap_or_default())
        .collect();
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for v in vectors {
        let name = v.name();
        let pending = &v["pendingTransaction"];
        let chain = v.chain();
        let sent: Vec<_> = broadcasts
            .iter()
            .filter(|b| b.body["signatureId"] == pending["id"])
            .collect();
        match sent.as_slice() {
            [b] => {
                let want_path = if pending.get("withdrawalId").is_some() {
                    "/v3/offchain/withdrawal/broadcast".to_string()
                } else {
                    format!("/v3/{}/broadcast", chain.broadcast_path())
                };
                assert_eq!(b.path, want_path, "{name}");
                assert_eq!(b.body["txData"], v.expected_tx_data_today(), "{name}");
                if let Some(w) = pending.get("withdrawalId") {
                    assert_eq!(&b.body["withdrawalId"], w, "{name}");
                    assert_eq!(b.body["currency"], v["chain"], "{name}");
                }
                passed.push(name);
            }
            [] => {
                let why = reported
                    .iter()
                    .find(|r| r["signatureId"] == pending["id"])
                    .unwrap_or_else(|| panic!("{name}: neither broadcast nor reported\n{log}"));
                failed.push(format!("{name}: {}", why["error"]));
            }
            _ => panic!("{name}: broadcast {} times", sent.len()),
        }
    }
    // Every transaction was first put to the approver, by GET {url}/{id}.
    assert_eq!(approver.seen().len(), vectors.len());
    assert!(approver.seen().iter().all(|s| s.method == "GET"));
    assert!(failed.is_empty(), "not broadcast: {failed:#?}\n{log}");
    assert_eq!(passed.len(), vectors.len());
    assert_eq!(out.status.success(), failed.is_empty(), "{log}");
}

/// A refusal, an unreachable or a slow approver: nothing signed, nothing
/// broadcast, nothing reported as failed (it comes back next cycle).
#[test]
fn nothing_is_signed_without_approval() {
    let home = Home::new();
    let fake = FakeTatum::start(API_KEY);
    home.put_wallets(vec![("wallet-a".into(), eth_key_wallet(KEY_A))]);
    fake.add_pending(complete_eth_tx("tx-1", "wallet-a", 1));

    let approver = FakeApprover::start();
    approver.refuse("tx-1");
    let out = run(
        &home,
        &fake,
        &["--runOnce", "--testnet", "--externalUrl", &approver.url],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("not approved"), "{}", stderr(&out));

    let gone = FakeApprover::start();
    let gone_url = gone.url.clone();
    drop(gone);
    let out = run(
        &home,
        &fake,
        &["--runOnce", "--testnet", "--externalUrl", &gone_url],
    );
    assert!(stderr(&out).contains("not approved"), "{}", stderr(&out));

    let slow = FakeApprover::start();
    slow.delay(Duration::from_secs(5));
    let started = Instant::now();
    let out = run(
        &home,
        &fake,
        &[
            "--runOnce",
            "--testnet",
            "--externalUrl",
            &slow.url,
            "--externalUrlTimeout",
            "0.5",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(stderr(&out).contains("not approved"), "{}", stderr(&out));

    assert!(fake.broadcasts().is_empty());
    assert!(fake.error_reports().is_empty());
    assert_eq!(fake.still_pending().len(), 1);

    // POST mode sends the pending transaction itself.
    let post = FakeApprover::start();
    let out = run(
        &home,
        &fake,
        &[
            "--runOnce",
            "--testnet",
            "--externalUrl",
            &post.url,
            "--externalUrlMethod",
            "POST",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let seen = post.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/approve/tx-1");
    assert_eq!(seen[0].body["id"], "tx-1");
    assert_eq!(seen[0].body["hashes"], json!(["wallet-a"]));
    assert_eq!(fake.broadcasts().len(), 1);
}

#[test]
fn run_once_filters_wallets_and_transactions() {
    let home = Home::new();
    let fake = FakeTatum::start(API_KEY);
    home.put_wallets(vec![
        ("wallet-a".into(), eth_key_wallet(KEY_A)),
        ("wallet-b".into(), eth_key_wallet(KEY_B)),
    ]);
    fake.add_pending(complete_eth_tx("tx-a", "wallet-a", 1));
    fake.add_pending(complete_eth_tx("tx-b", "wallet-b", 1));
    fake.add_pending(complete_eth_tx("tx-b2", "wallet-b", 2));

    let out = run(
        &home,
        &fake,
        &["--runOnce", "--testnet", "--wallets", "wallet-a"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let asked: Vec<Value> = fake
        .seen()
        .iter()
        .filter(|s| s.path.starts_with("/v3/kms/pending/"))
        .map(|s| s.body.clone())
        .collect();
    assert_eq!(
        asked,
        [json!({"signatureIds": ["wallet-a"]})],
        "only the named wallet, only its chain"
    );
    let sent: Vec<Value> = fake
        .broadcasts()
        .iter()
        .map(|b| b.body["signatureId"].clone())
        .collect();
    assert_eq!(sent, [json!("tx-a")]);

    let out = run(
        &home,
        &fake,
        &["--runOnce", "--testnet", "--transactionIds", "tx-b2"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let sent: Vec<Value> = fake
        .broadcasts()
        .iter()
        .map(|b| b.body["signatureId"].clone())
        .collect();
    assert_eq!(sent, [json!("tx-a"), json!("tx-b2")]);
    assert!(stderr(&out).contains("skipped"), "{}", stderr(&out));
}

/// A wallet stored while the daemon runs is asked for at its next cycle,
/// and SIGTERM ends the daemon cleanly.
#[test]
fn a_wallet_added_while_running_is_served_and_sigterm_exits_cleanly() {
    let home = Home::new();
    let fake = FakeTatum::start(API_KEY);
    home.put_wallets(vec![("wallet-a".into(), eth_key_wallet(KEY_A))]);
    let child = spawn(
        &home,
        &fake,
        &["--testnet", "--period", "0.2", "--chain", "ETH"],
    );
    wait_until("the first pending request", Duration::from_secs(20), || {
        !fake.pending_requests().is_empty()
    });

    let out = home.run_with_stdin(&["storemanagedprivatekey", "ETH", "--testnet"], KEY_B);
    assert!(out.status.success(), "{}", stderr(&out));
    let new_id = common::json_of(&out)["signatureId"]
        .as_str()
        .unwrap()
        .to_string();
    fake.add_pending(complete_eth_tx("tx-new", &new_id, 7));
    wait_until(
        "the new wallet's transaction to be broadcast",
        Duration::from_secs(20),
        || {
            fake.broadcasts()
                .iter()
                .any(|b| b.body["signatureId"] == "tx-new")
        },
    );

    sigterm(&child);
    let out = wait_exit(child, Duration::from_secs(10));
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        stderr(&out)
    );
    assert!(stderr(&out).contains("daemon stopped"), "{}", stderr(&out));
}

#[test]
fn thirty_thousand_wallets_of_a_chain_are_asked_for_in_two_requests() {
    let home = Home::new();
    let fake = FakeTatum::start(API_KEY);
    let wallets = (0..30_000)
        .map(|i| (format!("w-{i:05}"), eth_key_wallet(KEY_A)))
        .collect();
    home.put_wallets(wallets);
    let out = run(
        &home,
        &fake,
        &["--runOnce", "--testnet", "--log-format", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fake.pending_requests(),
        [("ETH".to_string(), 25_000), ("ETH".to_string(), 5_000)]
    );
    // What the cycle cost, for operators and for `cargo xtask bench`.
    let done = stderr(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["fields"]["message"] == "single run done")
        .expect("a JSON line for the finished run");
    let (wall, cpu) = (
        done["fields"]["elapsed_ms"].as_f64().unwrap(),
        done["fields"]["cpu_ms"].as_f64().unwrap(),
    );
    assert!(cpu > 0.0 && wall > 0.0, "{done}");
}

/// Random 5xx, 429, slow and garbage answers for a while: the daemon keeps
/// going, and once the API recovers the transaction is broadcast once.
#[test]
fn faults_never_kill_the_daemon() {
    let home = Home::new();
    let fake = FakeTatum::start(API_KEY);
    home.put_wallets(vec![("wallet-a".into(), eth_key_wallet(KEY_A))]);
    fake.set_fault_rate(0.6, 7);
    let child = spawn(
        &home,
        &fake,
        &["--testnet", "--period", "0.05", "--chain", "ETH"],
    );
    wait_until("faults to be served", Duration::from_secs(30), || {
        fake.faults_served() >= 40
    });
    fake.add_pending(complete_eth_tx("tx-late", "wallet-a", 3));
    fake.set_fault_rate(0.0, 0);
    wait_until(
        "the broadcast after the faults",
        Duration::from_secs(30),
        || {
            fake.broadcasts()
                .iter()
                .any(|b| b.body["signatureId"] == "tx-late")
        },
    );
    sigterm(&child);
    let out = wait_exit(child, Duration::from_secs(10));
    assert!(out.status.success(), "{}", stderr(&out));
    let sent = fake
        .broadcasts()
        .iter()
        .filter(|b| b.body["signatureId"] == "tx-late")
        .count();
    assert_eq!(sent, 1);
}

#[test]
fn bad_starts_fail_at_once_with_a_clear_message() {
    let home = Home::new();
    let fake = FakeTatum::start(API_KEY);
    home.put_wallets(vec![("wallet-a".into(), eth_key_wallet(KEY_A))]);

    let out = daemon(&home, &fake, &["--runOnce", "--testnet"])
        .env("TATUM_KMS_PASSWORD", "not the password")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("wrong password"), "{}", stderr(&out));
    assert!(
        fake.seen().is_empty(),
        "nothing was asked before the password was checked"
    );

    let out = run(&home, &fake, &["--runOnce"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--externalUrl"), "{}", stderr(&out));

    let out = daemon(&home, &fake, &["--runOnce", "--testnet"])
        .env_remove("TATUM_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("TATUM_API_KEY"), "{}", stderr(&out));

    let out = daemon(&home, &fake, &["--runOnce", "--testnet"])
        .env("TATUM_API_KEY", "a-wrong-key")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("refuses the API key"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("a-wrong-key"), "{}", stderr(&out));
}

#[test]
fn failures_are_reported_in_one_batch_and_the_run_exits_1() {
    let home = Home::new();
    let fake = FakeTatum::start(API_KEY);
    home.put_wallets(vec![("wallet-a".into(), eth_key_wallet(KEY_A))]);
    fake.add_pending(complete_eth_tx("tx-ok", "wallet-a", 1));
    fake.add_pending(json!({
        "id": "tx-bad", "chain": "ETH", "hashes": ["wallet-a"],
        "serializedTransaction": "{not json",
    }));
    let out = run(&home, &fake, &["--runOnce", "--testnet"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let reports = fake.error_reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0][0]["signatureId"], "tx-bad");
    assert!(!reports[0][0]["error"].as_str().unwrap().is_empty());
    assert_eq!(fake.broadcasts().len(), 1, "the good one still went out");
}

#[test]
fn health_and_metrics_are_served() {
    let home = Home::new();
    let fake = FakeTatum::start(API_KEY);
    home.put_wallets(vec![("wallet-a".into(), eth_key_wallet(KEY_A))]);
    fake.add_pending(complete_eth_tx("tx-1", "wallet-a", 1));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = spawn(
        &home,
        &fake,
        &["--testnet", "--period", "0.1", "--metrics-addr", &addr],
    );
    wait_until("a broadcast", Duration::from_secs(20), || {
        !fake.broadcasts().is_empty()
    });
    let get = |path: &str| -> (u16, String) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let status = text[9..12].parse().unwrap();
        (status, text)
    };
    let (status, _) = get("/healthz");
    assert_eq!(status, 200);
    let (status, body) = get("/metrics");
    assert_eq!(status, 200);
    for line in [
        "tatum_kms_signed_total 1",
        "tatum_kms_pending_seen_total 1",
        "tatum_kms_up 1",
    ] {
        assert!(body.contains(line), "{line} missing:\n{body}");
    }
    assert!(body.contains("tatum_kms_cycles_total "));
    sigterm(&child);
    let out = wait_exit(child, Duration::from_secs(10));
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn injected_api_faults_are_survived_in_a_single_run() {
    let home = Home::new();
    let fake = FakeTatum::start(API_KEY);
    home.put_wallets(vec![("wallet-a".into(), eth_key_wallet(KEY_A))]);
    fake.add_pending(complete_eth_tx("tx-1", "wallet-a", 1));
    // The pending request gets a 503 then a 429; the broadcast a 500: all retried.
    fake.inject([Fault::Status(503), Fault::Status(429)]);
    let out = run(&home, &fake, &["--runOnce", "--testnet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fake.broadcasts().len(), 1);
}

/// The API's update notice (`x-ttm-kms-latest-version`) is logged once per
/// version newer than ours, not on every cycle; our own version draws none.
#[test]
fn an_update_notice_is_logged_once_per_newer_version() {
    let home = Home::new();
    let fake = FakeTatum::start(API_KEY);
    home.put_wallets(vec![("wallet-a".into(), eth_key_wallet(KEY_A))]);
    let ours = env!("CARGO_PKG_VERSION");
    fake.set_latest_version(&format!("{ours};WARN;Please update"));
    let child = spawn(
        &home,
        &fake,
        &["--testnet", "--period", "0.05", "--chain", "ETH"],
    );
    let cycles_past = |n: usize| {
        let start = fake.pending_requests().len();
        wait_until("more cycles", Duration::from_secs(20), || {
            fake.pending_requests().len() >= start + n
        });
    };
    cycles_past(5);
    fake.set_latest_version("99.0.0;WARN;Please update");
    cycles_past(10);
    fake.set_latest_version("99.1.0;ERROR;Please update now");
    cycles_past(10);
    sigterm(&child);
    let out = wait_exit(child, Duration::from_secs(10));
    assert!(out.status.success(), "{}", stderr(&out));
    let log = stderr(&out);
    let notices: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Current version:"))
        .collect();
    assert_eq!(notices.len(), 2, "one per newer version:\n{log}");
    assert!(notices[0].contains(&format!(
        "Please update. Current version: {ours}. Latest version: 99.0.0"
    )));
    assert!(
        notices[1].contains("Latest version: 99.1.0"),
        "{}",
        notices[1]
    );
}

/// A private key the original stored under a token name (`"chain": "USDT"`)
/// signs ETH transactions, exactly as the same key stored as `ETH`.
#[test]
fn a_wallet_stored_under_a_token_name_signs_for_its_chain() {
    let signed_by = |stored_as: &str| -> Value {
        let home = Home::new();
        let fake = FakeTatum::start(API_KEY);
        let wallet = eth_key_wallet(KEY_A).with("chain", stored_as);
        home.put_wallets(vec![("the-wallet".into(), wallet)]);
        fake.add_pending(complete_eth_tx("tx-1", "the-wallet", 1));
        let out = run(&home, &fake, &["--runOnce", "--testnet", "--chain", "ETH"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let broadcasts = fake.broadcasts();
        assert_eq!(broadcasts.len(), 1, "{stored_as}: {}", stderr(&out));
        assert_eq!(broadcasts[0].body["signatureId"], "tx-1");
        broadcasts[0].body["txData"].clone()
    };
    assert_eq!(signed_by("USDT"), signed_by("ETH"));
}
