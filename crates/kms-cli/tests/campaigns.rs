//! Fault campaigns (docs/security.md). Each runs a quick version by default
//! (CI); `KMS_CAMPAIGN=full` runs the long one (`cargo xtask campaigns`).
//!
//! * crash consistency: the CLI killed (SIGKILL) at random moments during
//!   writes of every kind; after each kill the store opens and holds the
//!   state before or after the interrupted command, never anything else;
//! * a full disk and a read-only folder: a clear error, the old file intact;
//! * eight writers at once while a daemon reads: nothing lost, nothing torn;
//! * the daemon under random API faults and hostile approvers for many
//!   cycles: alive, nothing signed without a valid approval, memory flat.

mod common;

use std::collections::BTreeSet;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{stderr, Home};
use kms_core::WalletEntry;
use kms_fake_tatum::{FakeApprover, FakeTatum};
use serde_json::{json, Value};

fn full() -> bool {
    std::env::var("KMS_CAMPAIGN").is_ok_and(|v| v == "full")
}

/// xorshift: repeatable random timings.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The wallet ids the store holds, opened with `password`; `None` if it
/// does not open with it.
fn ids(home: &Home, password: &str) -> Option<BTreeSet<String>> {
    let out = home.cmd(password).arg("export").output().unwrap();
    if !out.status.success() {
        return None;
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(v.as_object().unwrap().keys().cloned().collect())
}

#[test]
fn killed_writers_leave_the_state_before_or_after() {
    let kills = if full() { 520 } else { 30 };
    let home = Home::new();
    // Start from the original's format, so the first writes migrate it.
    let legacy = kms_test_support::vectors::legacy_walletdat();
    let v = &legacy.vectors[0];
    let mut password = v.password.clone();
    std::fs::create_dir_all(home.store().parent().unwrap()).unwrap();
    std::fs::write(home.store(), &v.wallet_dat).unwrap();
    let mut state = ids(&home, &password).expect("the legacy store opens");
    let mut rng = Rng(0x5eed_1234);
    let mut outcomes = [0usize; 2]; // [before, after]
    for round in 0..kills {
        let other = if password == "campaign-a" {
            "campaign-b"
        } else {
            "campaign-a"
        };
        let mut cmd = home.cmd(&password);
        // 0 add, 1 batch, 2 remove (an add while the store is empty), 3
        // changepassword, 4 migrate, 5 store a key.
        let op = match round % 6 {
            2 if state.is_empty() => 0,
            op => op,
        };
        match op {
            0 => cmd.args(["generatemanagedwallet", "BTC"]),
            1 => cmd.args(["generatemanagedprivatekeybatch", "ETH", "25"]),
            2 => cmd.args(["removewallet", state.iter().next().unwrap()]),
            3 => cmd
                .env("TATUM_KMS_NEW_PASSWORD", other)
                .arg("changepassword"),
            4 => cmd.arg("migrate"),
            _ => cmd
                .args(["storemanagedprivatekey", "ETH"])
                .stdin(Stdio::piped()),
        };
        let mut child: Child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if op == 5 {
            use std::io::Write;
            let _ =
                child.stdin.take().unwrap().write_all(
                    b"0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603",
                );
        }
        std::thread::sleep(Duration::from_micros(rng.below(400_000)));
        let _ = child.kill();
        let finished = child.wait().unwrap().success();

        // The store must open, with the old or (for changepassword) the new password.
        let (now, new_password) = match ids(&home, &password) {
            Some(now) => (now, None),
            None => {
                let now = ids(&home, other).unwrap_or_else(|| {
                    panic!("round {round} (op {op}): the store opens with neither password")
                });
                assert_eq!(
                    op, 3,
                    "round {round}: only changepassword may change the password"
                );
                (now, Some(other.to_string()))
            }
        };
        if let Some(p) = new_password {
            password = p;
        }
        if now == state {
            outcomes[0] += 1;
        } else {
            outcomes[1] += 1;
            // The one change the command makes, whole.
            let added: Vec<_> = now.difference(&state).collect();
            let removed: Vec<_> = state.difference(&now).collect();
            match op {
                0 | 5 => assert!(
                    added.len() == 1 && removed.is_empty(),
                    "round {round}: {added:?} {removed:?}"
                ),
                1 => assert!(
                    added.len() == 25 && removed.is_empty(),
                    "round {round}: {} added",
                    added.len()
                ),
                2 => assert!(
                    added.is_empty() && removed.len() == 1,
                    "round {round}: {added:?} {removed:?}"
                ),
                _ => panic!("round {round}: op {op} changed the wallets: {added:?} {removed:?}"),
            }
        }
        if finished && op != 3 && op != 4 {
            assert_ne!(
                now, state,
                "round {round}: a finished command changed nothing"
            );
        }
        state = now;
        // No temporary files left behind that the next run could trip on.
    }
    eprintln!(
        "{kills} kills: {} left the state before the command, {} after; 0 lost",
        outcomes[0], outcomes[1]
    );
    assert!(
        outcomes[0] > 0 && outcomes[1] > 0,
        "the kills never hit mid-write: {outcomes:?}"
    );
}

/// A tmpfs of `size` mounted at `dir`, unmounted on drop; `None` where mounting is not allowed.
struct Mount(std::path::PathBuf);
impl Mount {
    fn tmpfs(dir: &std::path::Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(dir.to_path_buf()))
    }
    fn read_only(&self) {
        let s = std::process::Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(s.success());
    }
}
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn a_full_disk_or_a_read_only_folder_keeps_the_old_store() {
    let home = Home::new();
    let tatumrc = home.root.join(".tatumrc");
    let Some(mount) = Mount::tmpfs(&tatumrc, "1m") else {
        eprintln!("\n*** SKIPPED: mounting a small tmpfs needs root (disk-full and read-only cases) ***\n");
        return;
    };
    assert!(home.run(&["generatemanagedwallet", "BTC"]).status.success());
    let before = ids(&home, common::PASSWORD).unwrap();
    let bytes_before = std::fs::read(home.store()).unwrap();

    // Fill the disk but for a few KiB: a big batch cannot be written.
    let filler = tatumrc.join("filler");
    let free = 1024 * 1024 - bytes_before.len() - 16 * 1024;
    std::fs::write(&filler, vec![0u8; free]).ok();
    let out = home.run(&["generatemanagedprivatekeybatch", "ETH", "500"]);
    assert_ne!(out.status.code(), Some(0), "the batch cannot fit");
    let err = stderr(&out);
    assert!(
        err.contains("No space left") || err.contains("space"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(home.store()).unwrap(),
        bytes_before,
        "the old file changed"
    );
    assert_eq!(ids(&home, common::PASSWORD).unwrap(), before);
    std::fs::remove_file(&filler).unwrap();

    // Read-only: the write is refused clearly, reading still works.
    mount.read_only();
    let out = home.run(&["generatemanagedwallet", "ETH"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("Read-only") || stderr(&out).contains("read-only"),
        "{}",
        stderr(&out)
    );
    assert_eq!(ids(&home, common::PASSWORD).unwrap(), before);
}

fn eth_wallet() -> WalletEntry {
    WalletEntry::new()
        .with(
            "privateKey",
            "0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603",
        )
        .with("chain", "ETH")
        .with("testnet", true)
}

#[test]
fn eight_writers_while_a_daemon_reads() {
    let per_writer = if full() { 25 } else { 5 };
    let home = Home::new();
    home.put_wallets(vec![("seed-wallet".into(), eth_wallet())]);
    let fake = FakeTatum::start("campaign-key");
    let daemon = home
        .cmd(common::PASSWORD)
        .env("TATUM_API_KEY", "campaign-key")
        .env("TATUM_API_URL", &fake.url)
        .env("RUST_LOG", "info")
        .args(["daemon", "--testnet", "--period", "0.02"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let dir = home.root.clone();
            std::thread::spawn(move || {
                let home = Home::at(dir);
                for _ in 0..per_writer {
                    let out = home.run(&["generatemanagedwallet", "ETH", "--testnet"]);
                    assert!(out.status.success(), "{}", stderr(&out));
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let all = ids(&home, common::PASSWORD).unwrap();
    assert_eq!(all.len(), 1 + 8 * per_writer, "a wallet was lost");
    // The daemon comes to ask for every one of them.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let asked: BTreeSet<String> = fake
            .seen()
            .iter()
            .filter(|s| s.path == "/v3/kms/pending/ETH")
            .flat_map(|s| {
                s.body["signatureIds"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        if asked == all {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the daemon never asked for all wallets"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let out = daemon.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        !log.contains("cannot be read"),
        "the daemon saw a torn store:\n{log}"
    );
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn metric(addr: &str, name: &str) -> u64 {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return 0;
    };
    let _ = write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn the_daemon_survives_faults_and_hostile_approvers() {
    let cycles = if full() { 1000 } else { 40 };
    let home = Home::new();
    home.put_wallets(vec![("w".into(), eth_wallet())]);
    let fake = FakeTatum::start("campaign-key");
    fake.set_fault_rate(0.3, 99);
    // Approval in signed mode, but the approver answers 2xx without a valid
    // signature (a spoofed or broken approver): nothing may be signed.
    let approver = FakeApprover::start();
    for i in 0..5 {
        fake.add_pending(json!({
            "id": format!("tx-{i}"), "chain": "ETH", "hashes": ["w"],
            "serializedTransaction": json!({"to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee", "value": "1",
                "gasPrice": "1000000000", "gas": 21000, "nonce": i + 1, "chainId": 11155111}).to_string(),
        }));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = home
        .cmd(common::PASSWORD)
        .env("TATUM_API_KEY", "campaign-key")
        .env("TATUM_API_URL", &fake.url)
        .env("TATUM_KMS_APPROVAL_SECRET", "the real secret")
        .args([
            "daemon",
            "--testnet",
            "--period",
            "0.005",
            "--chain",
            "ETH",
            "--metrics-addr",
            &addr,
        ])
        .args([
            "--externalUrl",
            &approver.url,
            "--externalUrlTimeout",
            "0.2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(if full() { 2400 } else { 120 });
    let mut rss_early = None;
    loop {
        let done = metric(&addr, "tatum_kms_cycles_total");
        if rss_early.is_none() && done >= cycles / 10 {
            rss_early = Some(rss_kib(pid));
            approver.delay(Duration::from_millis(300)); // now slow: every answer times out
        }
        if done >= cycles {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {done} cycles before the deadline"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let rss_late = rss_kib(pid);
    let faults = fake.faults_served();
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the daemon did not exit cleanly");
    assert!(
        fake.broadcasts().is_empty(),
        "signed without a valid approval"
    );
    assert!(!approver.seen().is_empty(), "the approver was never asked");
    let early = rss_early.unwrap();
    eprintln!("{cycles} cycles, {faults} faults served, RSS {early} KiB -> {rss_late} KiB");
    assert!(faults > 0);
    assert!(
        rss_late < early + early / 4 + 4096,
        "memory grew: {early} KiB -> {rss_late} KiB"
    );
}
