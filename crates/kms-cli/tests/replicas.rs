//! Replicas as real processes sharing a signing ledger, against one fake
//! Tatum API with a simulated Solana node (a fresh blockhash on every
//! request): PostgreSQL for three replicas, a replica killed mid-run and
//! the database stopped mid-run; the embedded ledger for a daemon killed
//! between signing and broadcasting. PostgreSQL comes from
//! `scripts/postgres.sh` (started by `scripts/test.sh`): without
//! `KMS_TEST_POSTGRES_URL` those tests skip loudly, and fail under CI.

mod common;

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{stderr, Home};
use kms_core::{Chain, Network, WalletEntry};
use kms_fake_tatum::FakeTatum;
use serde_json::{json, Value};

const API_KEY: &str = "replicas-test-api-key";

/// A fresh, empty database on the test server, as a URL; `None` (after a
/// loud message) where there is no test server, a failure under CI.
fn fresh_database(name: &str) -> Option<String> {
    let Ok(url) = std::env::var("KMS_TEST_POSTGRES_URL") else {
        if std::env::var_os("CI").is_some() {
            panic!("CI: KMS_TEST_POSTGRES_URL is not set; scripts/test.sh starts PostgreSQL with scripts/postgres.sh");
        }
        eprintln!("*** SKIP {name}: no KMS_TEST_POSTGRES_URL (run scripts/postgres.sh start) ***");
        return None;
    };
    let db = format!("kms_{name}_{}", std::process::id());
    Some(kms_test_support::postgres::fresh_database(&url, &db).unwrap())
}

/// A PostgreSQL of this test's own (`scripts/postgres.sh` through
/// `KMS_TEST_POSTGRES_CTL`, with its own state file), so that stopping it
/// never stops the server the other tests share. Removed when dropped.
struct OwnPostgres {
    ctl: String,
    state: tempfile::TempDir,
    url: String,
}

impl OwnPostgres {
    fn start(name: &str) -> Option<OwnPostgres> {
        let Ok(ctl) = std::env::var("KMS_TEST_POSTGRES_CTL") else {
            if std::env::var_os("CI").is_some() {
                panic!("CI: KMS_TEST_POSTGRES_CTL is not set; scripts/test.sh sets it");
            }
            eprintln!("*** SKIP {name}: no KMS_TEST_POSTGRES_CTL (scripts/postgres.sh env) ***");
            return None;
        };
        let state = tempfile::tempdir().unwrap();
        let mut server = OwnPostgres {
            ctl,
            state,
            url: String::new(),
        };
        server.url = server
            .run("start")
            .trim()
            .lines()
            .last()
            .unwrap()
            .to_string();
        Some(server)
    }

    fn run(&self, action: &str) -> String {
        let out = Command::new("bash")
            .arg(&self.ctl)
            .arg(action)
            .env("KMS_PG_STATE", self.state.path().join("state"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "postgres.sh {action}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.ctl)
            .arg("stop")
            .env("KMS_PG_STATE", self.state.path().join("state"))
            .status();
    }
}

struct Setup {
    home: Home,
    fake: FakeTatum,
    sol: Value,
    ids: Vec<String>,
}

/// A testnet store with the SOL vector's wallet and `senders` ETH key
/// wallets; the fake serves `sol` SOL transactions and `senders` x
/// `per_sender` ETH ones.
fn setup(sol: usize, senders: usize, per_sender: u64) -> Setup {
    let file = kms_test_support::load_vectors("signing.json");
    let vector = file["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "sol-mainnet-transfer")
        .unwrap()
        .clone();
    let home = Home::new();
    let mut wallets = vec![(
        vector["pendingTransaction"]["hashes"][0]
            .as_str()
            .unwrap()
            .to_string(),
        WalletEntry::stored(
            WalletEntry::new().with("privateKey", vector["signingKeys"][0]["privateKey"].clone()),
            Chain::SOL,
            Network::Testnet,
        ),
    )];
    for i in 0..senders {
        use sha2::{Digest, Sha256};
        let key = format!(
            "0x{}",
            hex::encode(Sha256::digest(format!("eth sender {i}")))
        );
        wallets.push((
            format!("eth-{i}"),
            WalletEntry::stored(
                WalletEntry::new().with("privateKey", key),
                Chain::ETH,
                Network::Testnet,
            ),
        ));
    }
    home.put_wallets(wallets);
    let fake = FakeTatum::start(API_KEY);
    fake.simulate_solana();
    let mut setup = Setup {
        home,
        fake,
        sol: vector["pendingTransaction"].clone(),
        ids: Vec::new(),
    };
    for n in 0..sol {
        setup.add_sol(&format!("sol-{n}"));
    }
    for nonce in 1..=per_sender {
        for sender in 0..senders {
            setup.add_eth(&format!("eth-{sender}-{nonce}"), sender, nonce);
        }
    }
    setup
}

impl Setup {
    fn add_sol(&mut self, id: &str) {
        let mut tx = self.sol.clone();
        tx["id"] = json!(id);
        self.fake.add_pending(tx);
        self.ids.push(id.into());
    }

    /// A testnet ETH transfer that needs nothing from the network.
    fn add_eth(&mut self, id: &str, sender: usize, nonce: u64) {
        self.fake.add_pending(json!({
            "id": id, "chain": "ETH", "hashes": [format!("eth-{sender}")],
            "serializedTransaction": json!({
                "to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee", "value": "1000",
                "gasPrice": "20000000000", "gas": 21000, "nonce": nonce, "chainId": 11155111
            }).to_string(),
        }));
        self.ids.push(id.into());
    }

    fn daemon(&self, replica: &str, ledger: Option<&str>, args: &[&str]) -> Command {
        let mut cmd = self.home.cmd(common::PASSWORD);
        cmd.env("TATUM_API_KEY", API_KEY)
            .env("TATUM_API_URL", &self.fake.url)
            .env("RUST_LOG", "info")
            .args([
                "daemon",
                "--testnet",
                "--chain",
                "SOL,ETH",
                "--replica",
                replica,
            ])
            .args(args);
        if let Some(ledger) = ledger {
            cmd.args(["--ledger", ledger]);
        }
        cmd
    }

    fn spawn(&self, replica: &str, ledger: Option<&str>, args: &[&str]) -> Child {
        self.daemon(replica, ledger, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Broadcasts per id: every txData each id was broadcast with.
    fn broadcasts(&self) -> HashMap<String, Vec<String>> {
        let mut by_id: HashMap<String, Vec<String>> = HashMap::new();
        for b in self.fake.broadcasts() {
            by_id
                .entry(b.body["signatureId"].as_str().unwrap().to_string())
                .or_default()
                .push(b.body["txData"].as_str().unwrap().to_string());
        }
        by_id
    }

    /// Every id broadcast, each only ever with one txData; each SOL id's
    /// transaction is the one that landed, and nothing else landed.
    fn assert_each_id_signed_once(&self, exactly_one_broadcast: bool) {
        let by_id = self.broadcasts();
        let missing: Vec<&String> = self
            .ids
            .iter()
            .filter(|id| !by_id.contains_key(*id))
            .collect();
        assert!(missing.is_empty(), "never broadcast: {missing:?}");
        for (id, tx_data) in &by_id {
            let distinct: HashSet<&String> = tx_data.iter().collect();
            assert_eq!(
                distinct.len(),
                1,
                "{id} was broadcast with different bytes: {tx_data:?}"
            );
            if exactly_one_broadcast {
                assert_eq!(
                    tx_data.len(),
                    1,
                    "{id} was broadcast {} times",
                    tx_data.len()
                );
            }
        }
        let node = self.fake.solana();
        let sol_broadcast: HashSet<String> = by_id
            .iter()
            .filter(|(id, _)| id.starts_with("sol-"))
            .map(|(_, t)| t[0].clone())
            .collect();
        let landed: HashSet<String> = node.landed.iter().cloned().collect();
        assert_eq!(
            landed, sol_broadcast,
            "the node has exactly the SOL transactions broadcast"
        );
        let sent: HashSet<&String> = node.sends.iter().map(|(sig, _)| sig).collect();
        assert_eq!(
            sent.len(),
            landed.len(),
            "no other SOL transaction was ever sent"
        );
    }
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
}

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

#[test]
fn three_replicas_on_postgres_broadcast_500_transactions_each_exactly_once() {
    let Some(url) = fresh_database("three") else {
        return;
    };
    let setup = setup(150, 35, 10);
    assert_eq!(setup.ids.len(), 500);
    setup.fake.set_latency(Duration::from_millis(2));
    let replicas: Vec<Child> = ["r1", "r2", "r3"]
        .iter()
        .map(|r| setup.spawn(r, Some(&url), &["--runOnce", "--concurrency", "16"]))
        .collect();
    let mut signed_by = Vec::new();
    for child in replicas {
        let out = wait_exit(child, Duration::from_secs(300));
        let log = stderr(&out);
        assert!(out.status.success(), "{log}");
        signed_by.push(log.matches("signed and broadcast").count());
    }
    assert_eq!(signed_by.iter().sum::<usize>(), 500, "{signed_by:?}");
    assert!(
        signed_by.iter().filter(|&&n| n > 0).count() >= 2,
        "the work is shared: {signed_by:?}"
    );
    setup.assert_each_id_signed_once(true);

    // The trail says the same, and its chain holds.
    let audit = setup
        .home
        .cmd(common::PASSWORD)
        .args(["audit", "--ledger", &url, "--state", "submitted"])
        .output()
        .unwrap();
    assert!(audit.status.success(), "{}", stderr(&audit));
    let submitted: Vec<Value> = serde_json::from_slice(&audit.stdout).unwrap();
    assert_eq!(submitted.len(), 500);
    let verify = setup
        .home
        .cmd(common::PASSWORD)
        .args(["audit", "verify", "--ledger", &url])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", stderr(&verify));
}

/// One replica is killed mid-run (SIGKILL: no cleanup); the other two
/// finish its claimed work once its claims run out, sending the bytes it
/// recorded.
#[test]
fn a_killed_replicas_work_is_finished_by_the_others_with_identical_bytes() {
    let Some(url) = fresh_database("kill") else {
        return;
    };
    let setup = setup(60, 20, 6);
    setup.fake.set_latency(Duration::from_millis(25));
    let args = ["--period", "0.5", "--lease", "2", "--concurrency", "8"];
    let doomed = setup.spawn("doomed", Some(&url), &args);
    wait_until("the first broadcasts", Duration::from_secs(60), || {
        setup.fake.broadcasts().len() >= 10
    });
    let others: Vec<Child> = ["r2", "r3"]
        .iter()
        .map(|r| setup.spawn(r, Some(&url), &args))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    signal(&doomed, libc::SIGKILL);
    let killed_at = Instant::now();
    let _ = wait_exit(doomed, Duration::from_secs(10));
    let done_at = setup.fake.broadcasts().len();
    assert!(
        done_at < setup.ids.len(),
        "killed too late to matter: {done_at} already broadcast"
    );
    wait_until("every id broadcast", Duration::from_secs(180), || {
        setup.broadcasts().len() == setup.ids.len()
    });
    // The failover time docs/operations.md quotes: lease 2 s, period 0.5 s.
    eprintln!(
        "failover: every id broadcast {:.1} s after the SIGKILL ({} of {} were done before it)",
        killed_at.elapsed().as_secs_f64(),
        done_at,
        setup.ids.len()
    );
    let mut took_over = 0;
    for child in others {
        signal(&child, libc::SIGTERM);
        let out = wait_exit(child, Duration::from_secs(20));
        let log = stderr(&out);
        assert!(out.status.success(), "{log}");
        took_over += log.matches("took over the expired claim").count();
    }
    assert!(
        took_over > 0,
        "the killed replica held claims the others took over"
    );
    setup.assert_each_id_signed_once(false);
}

/// PostgreSQL stops mid-run: nothing is signed without a claim, /healthz
/// says why, and the work resumes when the database is back.
#[test]
fn with_postgres_stopped_nothing_is_signed_and_work_resumes_when_it_is_back() {
    let Some(server) = OwnPostgres::start("stop") else {
        return;
    };
    let url = server.url.clone();
    let mut setup = setup(5, 5, 2);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let args = ["--period", "0.3", "--metrics-addr", addr.as_str()];
    let child = setup.spawn("r1", Some(&url), &args);
    wait_until("the first batch", Duration::from_secs(60), || {
        setup.broadcasts().len() == 15
    });

    server.run("halt");
    let restarted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for n in 0..5 {
            setup.add_sol(&format!("sol-late-{n}"));
            setup.add_eth(&format!("eth-late-{n}"), n, 3);
        }
        let sends = setup.fake.solana().sends.len();
        wait_until("/healthz to say degraded", Duration::from_secs(30), || {
            http_get(&addr, "/healthz").contains("503")
        });
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(
            setup.broadcasts().len(),
            15,
            "nothing signed while the ledger is down"
        );
        assert_eq!(setup.fake.solana().sends.len(), sends);
    }));
    server.run("resume");
    restarted.unwrap();
    wait_until("the late batch", Duration::from_secs(90), || {
        setup.broadcasts().len() == 25
    });
    wait_until("/healthz ok", Duration::from_secs(30), || {
        http_get(&addr, "/healthz").contains("200 OK")
    });
    signal(&child, libc::SIGTERM);
    let out = wait_exit(child, Duration::from_secs(20));
    let log = stderr(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("the signing ledger does not answer"), "{log}");
    setup.assert_each_id_signed_once(true);
}

fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return String::new();
    };
    let _ = write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text
}

/// The embedded ledger: a daemon killed after signing (its SOL
/// transaction already at the node) and before the broadcast answered;
/// restarted, it sends exactly the same bytes.
#[test]
fn the_embedded_ledger_resends_the_same_bytes_after_a_kill_between_sign_and_broadcast() {
    let setup = setup(1, 1, 1);
    setup.fake.hold_broadcasts(true);
    let args = ["--period", "0.3", "--lease", "1"];
    let first = setup.spawn("first", None, &args);
    wait_until(
        "both broadcasts to be attempted",
        Duration::from_secs(60),
        || {
            setup
                .fake
                .seen()
                .iter()
                .filter(|s| s.path.ends_with("/broadcast"))
                .count()
                >= 2
        },
    );
    signal(&first, libc::SIGKILL);
    let _ = wait_exit(first, Duration::from_secs(10));
    let attempted: HashMap<String, String> = setup
        .fake
        .seen()
        .iter()
        .filter(|s| s.path.ends_with("/broadcast"))
        .map(|s| {
            (
                s.body["signatureId"].as_str().unwrap().to_string(),
                s.body["txData"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(setup.fake.broadcasts().is_empty(), "none answered");
    assert!(setup.home.root.join(".tatumrc/wallet.dat.ledger").exists());

    setup.fake.hold_broadcasts(false);
    let second = setup.spawn("second", None, &args);
    wait_until("both broadcast", Duration::from_secs(60), || {
        setup.broadcasts().len() == 2
    });
    signal(&second, libc::SIGTERM);
    let out = wait_exit(second, Duration::from_secs(20));
    assert!(out.status.success(), "{}", stderr(&out));
    for (id, tx_data) in setup.broadcasts() {
        assert_eq!(
            tx_data,
            [attempted[&id].clone()],
            "{id}: the same bytes as before the kill"
        );
    }
    setup.assert_each_id_signed_once(true);
    assert_eq!(
        setup.fake.solana().sends.len(),
        2,
        "the SOL bytes were sent again, unchanged"
    );
}
