//! `cargo xtask bench throughput`: the daemon under a real API's latency.
//! 1,000 pending ETH transactions over 50 senders (20 each, nonces in
//! order), the fake API answering every call after 100 ms; one run each
//! of: sequential (`--concurrency 1`) and concurrent (`--concurrency 32`)
//! on the embedded ledger, then on PostgreSQL one replica and three. The
//! ledger's own cost: the same 1,000 with no latency, one at a time, on the
//! in-memory ledger, the file and PostgreSQL.
//!
//! PostgreSQL: `KMS_TEST_POSTGRES_URL` when set, else `scripts/postgres.sh`
//! starts a throwaway server of the run's own.

use std::fmt::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kms_fake_tatum::FakeTatum;
use serde_json::{json, Value};

use crate::procbench::{kms, measure, release_binary, tempdir};
use crate::{root, Result};

const SENDERS: usize = 50;

struct Bench {
    bin: std::path::PathBuf,
    home: std::path::PathBuf,
    senders: Vec<String>,
    pending: usize,
}

impl Bench {
    fn new(pending: usize) -> Result<Bench> {
        let bin = release_binary()?;
        let home = tempdir("throughput")?;
        let (_, stdout, _) = measure(kms(&bin, &home).args([
            "generatemanagedprivatekeybatch",
            "ETH",
            &SENDERS.to_string(),
            "--testnet",
        ]))?;
        let senders = String::from_utf8_lossy(&stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| v["signatureId"].as_str().map(str::to_owned))
            .collect::<Vec<_>>();
        if senders.len() != SENDERS {
            return Err(format!("expected {SENDERS} wallets, got {}", senders.len()));
        }
        Ok(Bench {
            bin,
            home,
            senders,
            pending,
        })
    }

    fn load(&self, fake: &FakeTatum, run: &str) {
        let per_sender = self.pending / SENDERS;
        for nonce in 1..=per_sender {
            for sender in &self.senders {
                fake.add_pending(json!({
                    "id": format!("{run}-{sender}-{nonce}"), "chain": "ETH", "hashes": [sender],
                    "serializedTransaction": json!({
                        "to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee", "value": "1000",
                        "gasPrice": "20000000000", "gas": 21000, "nonce": nonce, "chainId": 11155111
                    }).to_string(),
                }));
            }
        }
    }

    fn daemon(&self, fake: &FakeTatum, ledger: &str, concurrency: usize, replica: &str) -> Command {
        let mut cmd = kms(&self.bin, &self.home);
        cmd.env("TATUM_API_URL", &fake.url).args([
            "daemon",
            "--runOnce",
            "--testnet",
            "--chain",
            "ETH",
            "--ledger",
            ledger,
            "--concurrency",
            &concurrency.to_string(),
            "--replica",
            replica,
        ]);
        cmd
    }

    /// Wall time until every pending transaction was broadcast by
    /// `replicas` processes started together.
    fn run(
        &self,
        latency: Duration,
        ledger: &str,
        concurrency: usize,
        replicas: usize,
    ) -> Result<Duration> {
        let fake = FakeTatum::start(crate::procbench::API_KEY);
        let run = format!("r{}", std::process::id());
        self.load(&fake, &run);
        fake.set_latency(latency);
        let started = Instant::now();
        let children: Vec<Child> = (0..replicas)
            .map(|r| {
                self.daemon(&fake, ledger, concurrency, &format!("replica-{r}"))
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<_>>()?;
        for child in children {
            let out = child.wait_with_output().map_err(|e| e.to_string())?;
            if !out.status.success() {
                return Err(format!(
                    "a replica failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        let elapsed = started.elapsed();
        let sent = fake.broadcasts().len();
        if sent != self.pending {
            return Err(format!("expected {} broadcasts, got {sent}", self.pending));
        }
        Ok(elapsed)
    }
}

/// A PostgreSQL URL and, if this run started the server, the state file
/// `scripts/postgres.sh` keeps it in (its own: stopping it never stops a
/// server someone else started).
struct Postgres {
    url: String,
    own_state: Option<std::path::PathBuf>,
}

impl Postgres {
    fn get() -> Result<Postgres> {
        if let Ok(url) = std::env::var("KMS_TEST_POSTGRES_URL") {
            return Ok(Postgres {
                url,
                own_state: None,
            });
        }
        let state = std::env::temp_dir().join(format!("kms-bench-pg-{}.state", std::process::id()));
        let out = Postgres::script(&state, "start")?;
        // `start` prints the server's URL on its last line.
        let url = out
            .lines()
            .last()
            .filter(|l| l.starts_with("postgres"))
            .ok_or("scripts/postgres.sh start printed no URL")?
            .to_owned();
        Ok(Postgres {
            url,
            own_state: Some(state),
        })
    }

    fn script(state: &std::path::Path, action: &str) -> Result<String> {
        let script = root().join("scripts/postgres.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg(action)
            .env("KMS_PG_STATE", state)
            .output()
            .map_err(|e| format!("{}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!(
                "scripts/postgres.sh {action}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A new empty database on the server, as a URL.
    fn fresh(&self, name: &str) -> Result<String> {
        kms_test_support::postgres::fresh_database(&self.url, name)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(state) = &self.own_state {
            let _ = Postgres::script(state, "stop");
        }
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

/// The report's table.
pub(crate) fn table(pending: usize) -> Result<String> {
    let bench = Bench::new(pending)?;
    let pg = Postgres::get()?;
    let file = |tag: &str| {
        format!(
            "file:{}",
            bench.home.join(format!("{tag}.ledger")).display()
        )
    };
    let latency = Duration::from_millis(100);
    let mut out = format!(
        "{pending} pending ETH transactions over {SENDERS} senders; every call to the fake API answered after 100 ms.\n\n| run | ledger | concurrency | replicas | wall s | vs sequential |\n|---|---|---|---|---|---|\n"
    );
    eprintln!("throughput: sequential (this takes a while: {pending} x 100 ms)...");
    let sequential = bench.run(latency, &file("seq"), 1, 1)?;
    let _ = writeln!(
        out,
        "| sequential | file | 1 | 1 | {} | 1.0x |",
        secs(sequential)
    );
    let rows: Vec<(&str, String, usize, usize)> = vec![
        ("concurrent", file("c32"), 32, 1),
        ("concurrent", pg.fresh("kms_bench_pg1")?, 32, 1),
        ("concurrent", pg.fresh("kms_bench_pg3")?, 32, 3),
    ];
    for (name, ledger, concurrency, replicas) in rows {
        eprintln!("throughput: {name}, concurrency {concurrency}, {replicas} replica(s)...");
        let wall = bench.run(latency, &ledger, concurrency, replicas)?;
        let kind = if ledger.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "file"
        };
        let _ = writeln!(
            out,
            "| {name} | {kind} | {concurrency} | {replicas} | {} | {:.1}x |",
            secs(wall),
            sequential.as_secs_f64() / wall.as_secs_f64()
        );
    }
    // The ledger's cost per transaction: no latency, one at a time, each
    // ledger beside the in-memory one (which does nothing durable).
    let mut cost = String::from(
        "\nThe ledger's own cost (no API latency, `--concurrency 1`, whole process, same run):\n\n| ledger | wall s | per transaction vs in-memory |\n|---|---|---|\n",
    );
    let memory = bench.run(Duration::ZERO, "memory:", 1, 1)?;
    let _ = writeln!(cost, "| in-memory | {} | — |", secs(memory));
    for (kind, ledger) in [
        ("file", file("cost")),
        ("PostgreSQL", pg.fresh("kms_bench_cost")?),
    ] {
        let wall = bench.run(Duration::ZERO, &ledger, 1, 1)?;
        let per = (wall.as_secs_f64() - memory.as_secs_f64()) * 1e3 / pending as f64;
        let _ = writeln!(cost, "| {kind} | {} | {per:+.2} ms |", secs(wall));
    }
    out.push_str(&cost);
    let _ = std::fs::remove_dir_all(&bench.home);
    Ok(out)
}

/// `cargo xtask bench throughput [--pending N]`.
pub(crate) fn run(extra: &[String]) -> Result {
    let pending = extra
        .iter()
        .position(|a| a == "--pending")
        .and_then(|i| extra.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    print!("{}", table(pending)?);
    Ok(())
}
