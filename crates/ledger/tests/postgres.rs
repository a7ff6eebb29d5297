//! The PostgreSQL ledger against a real server: `scripts/postgres.sh start`
//! prints the URL for `KMS_TEST_POSTGRES_URL` (scripts/test.sh does it).
//! Each test works in a database of its own. Without the variable the tests
//! say SKIPPED loudly, except under CI, where they fail.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kms_ledger::conformance::{self, signed, subject};
use kms_ledger::{
    verify, AuditFilter, Claim, Ledger, LedgerError, PostgresLedger, PostgresUrl, Step,
    Verification, POSTGRES_SCHEMA_VERSION,
};

const LONG: Duration = Duration::from_secs(60);

fn required_env(name: &str, what: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("CI: {name} is missing; scripts/test.sh starts a PostgreSQL with scripts/postgres.sh and sets it");
            }
            eprintln!("\n*** SKIPPED: {what} needs {name} (run `scripts/postgres.sh start`, then `eval \"$(scripts/postgres.sh env)\"`) ***\n");
            None
        }
    }
}

fn base_url() -> Option<String> {
    required_env("KMS_TEST_POSTGRES_URL", "the PostgreSQL ledger test")
}

async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL");
    tokio::spawn(connection);
    client
}

/// A new, empty database on the test server; its URL.
async fn fresh_database(base: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!(
        "t_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    admin(base)
        .await
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let mut url = url::Url::parse(base).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

async fn ledger_at(url: &str) -> PostgresLedger {
    PostgresLedger::connect(PostgresUrl::new(url))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_postgres_ledger_conforms() {
    let Some(base) = base_url() else { return };
    conformance::run_all(|| {
        let base = base.clone();
        async move {
            let url = fresh_database(&base).await;
            Arc::new(ledger_at(&url).await) as Arc<dyn Ledger>
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_grant_each_id_once_and_share_one_chain() {
    let Some(base) = base_url() else { return };
    let url = fresh_database(&base).await;
    let (a, b, c) = tokio::join!(ledger_at(&url), ledger_at(&url), ledger_at(&url));
    let replicas = [Arc::new(a), Arc::new(b), Arc::new(c)];
    let mut tasks = Vec::new();
    for (n, ledger) in replicas.iter().enumerate() {
        for id in 0..30 {
            let ledger = ledger.clone();
            tasks.push(tokio::spawn(async move {
                let replica = format!("replica-{n}");
                let claim = ledger
                    .claim(&subject(&format!("id{id}"), "SOL"), &replica, LONG)
                    .await
                    .unwrap();
                if let Claim::Granted { lease, .. } = &claim {
                    ledger
                        .record(lease, Step::Signed(signed(&format!("{id} by {replica}"))))
                        .await
                        .unwrap();
                }
                (id, matches!(claim, Claim::Granted { .. }))
            }));
        }
    }
    let mut grants = [0; 30];
    for task in tasks {
        let (id, granted) = task.await.unwrap();
        grants[id] += usize::from(granted);
    }
    assert_eq!(grants, [1; 30], "each id granted to exactly one replica");
    let all = replicas[2].entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(all.len(), 60, "a claim and a signature per id");
    let anchor = replicas[0].anchor().await.unwrap();
    assert!(verify(&all, (anchor.0, &anchor.1)).is_intact());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_migrate_once() {
    let Some(base) = base_url() else { return };
    let url = fresh_database(&base).await;
    let (a, b, c) = tokio::join!(
        PostgresLedger::connect(PostgresUrl::new(&url)),
        PostgresLedger::connect(PostgresUrl::new(&url)),
        PostgresLedger::connect(PostgresUrl::new(&url)),
    );
    for ledger in [a, b, c] {
        ledger.unwrap().check().await.unwrap();
    }
    let versions: Vec<i32> = admin(&url)
        .await
        .query(
            "SELECT version FROM kms_ledger_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, (1..=POSTGRES_SCHEMA_VERSION).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused() {
    let Some(base) = base_url() else { return };
    let url = fresh_database(&base).await;
    ledger_at(&url).await;
    // At this build's version it connects again.
    ledger_at(&url).await;
    let newer = POSTGRES_SCHEMA_VERSION + 1;
    admin(&url)
        .await
        .execute(
            "INSERT INTO kms_ledger_migrations (version) VALUES ($1)",
            &[&newer],
        )
        .await
        .unwrap();
    match PostgresLedger::connect(PostgresUrl::new(&url)).await {
        Err(LedgerError::Corrupt(message)) => assert!(
            message.contains(&format!("version {newer}"))
                && message.contains(&POSTGRES_SCHEMA_VERSION.to_string()),
            "{message}"
        ),
        other => panic!("a newer schema must be refused: {other:?}"),
    }
}

/// Three ids through their steps: a trail of 9 entries.
async fn busy_ledger(url: &str) -> PostgresLedger {
    let ledger = ledger_at(url).await;
    conformance::fill_three(&ledger).await;
    ledger
}

#[tokio::test]
async fn an_entry_edited_in_the_database_is_found() {
    let Some(base) = base_url() else { return };
    let url = fresh_database(&base).await;
    let ledger = busy_ledger(&url).await;
    assert!(matches!(
        conformance::verification(&ledger).await,
        Verification::Intact { entries: 9, .. }
    ));
    let edited = admin(&url)
        .await
        .execute(
            "UPDATE kms_ledger_audit SET detail = replace(detail, '\"txData\":\"x2\"', '\"txData\":\"x9\"') WHERE seq = 5",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(edited, 1);
    assert_eq!(
        conformance::verification(&ledger).await,
        Verification::Edited { seq: 5 }
    );
}

#[tokio::test]
async fn an_entry_deleted_from_the_database_is_found() {
    let Some(base) = base_url() else { return };
    let url = fresh_database(&base).await;
    let ledger = busy_ledger(&url).await;
    assert!(conformance::verification(&ledger).await.is_intact());
    admin(&url)
        .await
        .execute("DELETE FROM kms_ledger_audit WHERE seq = 4", &[])
        .await
        .unwrap();
    assert_eq!(
        conformance::verification(&ledger).await,
        Verification::Missing { seq: 5 }
    );
}

#[tokio::test]
async fn the_password_shows_nowhere() {
    let Some(base) = base_url() else { return };
    let url = url::Url::parse(&base).unwrap();
    let password = url
        .password()
        .expect("the test URL has a password")
        .to_owned();
    // The right password connects...
    let ledger = ledger_at(&base).await;
    for shown in [
        format!("{ledger:?}"),
        ledger.url().to_string(),
        format!("{:?}", ledger.url()),
    ] {
        assert!(!shown.contains(&password), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
    // ...a wrong one is refused, and neither shows in the error.
    let mut wrong = url.clone();
    let wrong_password = format!("{password}-wrong");
    wrong.set_password(Some(&wrong_password)).unwrap();
    let error = PostgresLedger::connect(PostgresUrl::new(wrong.as_str()))
        .await
        .expect_err("a wrong password must not connect");
    assert!(matches!(error, LedgerError::Unavailable(_)), "{error:?}");
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains(&password), "{shown}");
    }
    // Nor in the error for a URL that does not parse as PostgreSQL's.
    let mut bad = url.clone();
    bad.set_query(Some("sslmode=disable&connect_timeout=soon"));
    let error = PostgresLedger::connect(PostgresUrl::new(bad.as_str()))
        .await
        .expect_err("a bad option must be refused");
    assert!(matches!(error, LedgerError::Unavailable(_)), "{error:?}");
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains(&password), "{shown}");
        assert!(shown.contains("connect_timeout"), "{shown}");
    }
}

#[tokio::test]
async fn sslmode_require_refuses_a_server_without_tls() {
    let Some(base) = base_url() else { return };
    // The test server has no TLS: `prefer` falls back to plain TCP...
    let mut prefer = url::Url::parse(&base).unwrap();
    prefer.set_query(Some("sslmode=prefer"));
    ledger_at(prefer.as_str()).await.check().await.unwrap();
    // ...`require` never does.
    let mut require = prefer.clone();
    require.set_query(Some("sslmode=require"));
    assert!(matches!(
        PostgresLedger::connect(PostgresUrl::new(require.as_str())).await,
        Err(LedgerError::Unavailable(_))
    ));
}

/// A PostgreSQL of this test's own (the shared one must not stop under the
/// other tests), stopped and removed when dropped.
struct OwnServer {
    ctl: String,
    state: tempfile::TempDir,
    tls: bool,
}

impl OwnServer {
    /// Starts one (`tls`: serving TLS only, from a CA of its own); `None`
    /// (after a SKIPPED line, or a panic under CI) without the script.
    fn start(tls: bool) -> Option<(OwnServer, String)> {
        let ctl = required_env(
            "KMS_TEST_POSTGRES_CTL",
            "a test with a PostgreSQL of its own",
        )?;
        let server = OwnServer {
            ctl,
            state: tempfile::tempdir().unwrap(),
            tls,
        };
        let url = server.ctl("start");
        Some((server, url))
    }

    fn ctl(&self, command: &str) -> String {
        let out = Command::new(&self.ctl)
            .arg(command)
            .env("KMS_PG_STATE", self.state.path().join("state"))
            .env("KMS_PG_TLS", if self.tls { "on" } else { "off" })
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "postgres.sh {command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = Command::new(&self.ctl)
            .arg("stop")
            .env("KMS_PG_STATE", self.state.path().join("state"))
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_fails_closed_and_the_ledger_recovers() {
    let Some((server, url)) = OwnServer::start(false) else {
        return;
    };
    let ledger = ledger_at(&url).await;
    let s = subject("outage", "SOL");
    let Claim::Granted { lease, .. } = ledger.claim(&s, "a", LONG).await.unwrap() else {
        panic!("a fresh id is granted");
    };
    ledger
        .record(
            &lease,
            Step::Approved {
                digest: "sha256:x".into(),
                seen: serde_json::json!({}),
            },
        )
        .await
        .unwrap();

    server.ctl("halt");
    assert!(matches!(
        ledger.record(&lease, Step::Signed(signed("during"))).await,
        Err(LedgerError::Unavailable(_))
    ));
    assert!(matches!(
        ledger.claim(&subject("other", "ETH"), "a", LONG).await,
        Err(LedgerError::Unavailable(_))
    ));
    assert!(matches!(
        ledger.check().await,
        Err(LedgerError::Unavailable(_))
    ));

    server.ctl("resume");
    ledger.check().await.unwrap();
    ledger
        .record(&lease, Step::Signed(signed("after")))
        .await
        .unwrap();
    let all = ledger.entries(&AuditFilter::default()).await.unwrap();
    let kinds: Vec<_> = all.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["claimed", "approved", "signed"],
        "nothing written while down"
    );
    assert_eq!(all[2].detail["txData"], "after");
    assert!(verify(&all, (0, kms_ledger::GENESIS_HASH)).is_intact());
}

#[tokio::test]
async fn open_picks_postgres_for_its_urls() {
    let Some(base) = base_url() else { return };
    let url = fresh_database(&base).await;
    let dir = tempfile::tempdir().unwrap();
    let default = dir.path().join("wallet.dat.ledger");
    let as_postgresql = url.replacen("postgres://", "postgresql://", 1);
    for spec in [url.as_str(), as_postgresql.as_str()] {
        let ledger = kms_ledger::open(spec, &default).await.unwrap();
        ledger
            .claim(&subject(&format!("o-{}", spec.len()), "ETH"), "a", LONG)
            .await
            .unwrap();
    }
    assert!(!default.exists(), "no file for a PostgreSQL ledger");
    let entries = ledger_at(&url)
        .await
        .entries(&AuditFilter::default())
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);
}

fn with_query(url: &str, query: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_query(Some(query));
    url.to_string()
}

#[tokio::test]
async fn tls_is_verified_against_the_given_ca() {
    let Some((server, url)) = OwnServer::start(true) else {
        return;
    };
    let ca = server.ctl("ca");
    // The server's certificate comes from the test CA, named by sslrootcert...
    let verified = with_query(&url, &format!("sslmode=verify-full&sslrootcert={ca}"));
    let ledger = ledger_at(&verified).await;
    ledger
        .claim(&subject("tls", "ETH"), "a", LONG)
        .await
        .unwrap();
    // ...which is what made it connect: the server takes TLS only...
    assert!(matches!(
        PostgresLedger::connect(PostgresUrl::new(&with_query(&url, "sslmode=disable"))).await,
        Err(LedgerError::Unavailable(_))
    ));
    // ...and a certificate no trusted CA issued (a server in the middle) is
    // refused, whatever the mode, when the CA is not given.
    for mode in ["require", "verify-full", "prefer"] {
        let untrusted = with_query(&url, &format!("sslmode={mode}"));
        assert!(
            matches!(
                PostgresLedger::connect(PostgresUrl::new(&untrusted)).await,
                Err(LedgerError::Unavailable(_))
            ),
            "sslmode={mode} accepted a certificate from an unknown CA"
        );
    }
    // A missing CA file is an error, not a fall-back to other roots.
    let missing = with_query(&url, "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem");
    assert!(matches!(
        PostgresLedger::connect(PostgresUrl::new(&missing)).await,
        Err(LedgerError::Unavailable(_))
    ));
}
