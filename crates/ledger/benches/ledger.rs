//! What the ledger adds to each pending transaction: the four changes a
//! signed one goes through (claim, approved, signed, submitted), each its
//! own transaction, on the in-memory reference, the embedded file and
//! PostgreSQL (when `KMS_TEST_POSTGRES_URL` names one: `scripts/postgres.sh
//! start`). Alone, then 32 at once (the daemon's concurrency), where the
//! figure is per batch of 32.
//!
//! `cargo bench -p kms-ledger --bench ledger`

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use kms_ledger::conformance::{signed, subject};
use kms_ledger::{
    Claim, FileLedger, Ledger, MemoryLedger, PostgresLedger, PostgresUrl, Step, DEFAULT_LEASE,
};
use tokio::runtime::Runtime;

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// One pending transaction through the ledger, as the daemon does it.
async fn one_transaction(ledger: &dyn Ledger) {
    let id = format!("bench-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
    let Claim::Granted { lease, .. } = ledger
        .claim(&subject(&id, "ETH"), "bench", DEFAULT_LEASE)
        .await
        .unwrap()
    else {
        panic!("a fresh id is granted");
    };
    ledger
        .record(
            &lease,
            Step::Approved {
                digest: format!("sha256:{id}"),
                seen: serde_json::json!({"to": ["0xab"], "amount": "1"}),
            },
        )
        .await
        .unwrap();
    ledger
        .record(&lease, Step::Signed(signed(&id)))
        .await
        .unwrap();
    ledger
        .record(
            &lease,
            Step::Submitted {
                tx_id: Some(format!("0x{id}")),
            },
        )
        .await
        .unwrap();
}

async fn postgres_ledger(base: &str) -> PostgresLedger {
    let name = format!("bench_{}", std::process::id());
    let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls)
        .await
        .expect("connect to KMS_TEST_POSTGRES_URL");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let mut url = url::Url::parse(base).unwrap();
    url.set_path(&format!("/{name}"));
    PostgresLedger::connect(PostgresUrl::new(url.as_str()))
        .await
        .unwrap()
}

fn ledgers(rt: &Runtime, dir: &std::path::Path) -> Vec<(&'static str, Arc<dyn Ledger>)> {
    let mut ledgers: Vec<(&'static str, Arc<dyn Ledger>)> = vec![
        ("memory", Arc::new(MemoryLedger::new())),
        (
            "file",
            Arc::new(
                rt.block_on(FileLedger::open(dir.join("wallet.dat.ledger")))
                    .unwrap(),
            ),
        ),
    ];
    match std::env::var("KMS_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            ledgers.push(("postgres", Arc::new(rt.block_on(postgres_ledger(&base)))));
        }
        _ => eprintln!("KMS_TEST_POSTGRES_URL is not set: PostgreSQL is left out"),
    }
    ledgers
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledgers = ledgers(&rt, dir.path());

    let mut group = c.benchmark_group("claim+approved+signed+submitted");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(4));
    for (name, ledger) in &ledgers {
        group.bench_function(*name, |b| {
            b.iter(|| rt.block_on(one_transaction(black_box(&**ledger))))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("32 transactions at once");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(6));
    for (name, ledger) in &ledgers {
        group.bench_function(*name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let tasks: Vec<_> = (0..32)
                        .map(|_| {
                            let ledger = ledger.clone();
                            tokio::spawn(async move { one_transaction(&*ledger).await })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
