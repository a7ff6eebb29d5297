//! The embedded ledger (an SQLite file) against the conformance cases, and
//! what only a file has: several handles and processes on one file, state
//! across reopening, its mode, its schema version, tampering by hand.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kms_ledger::conformance::{self, signed, subject};
use kms_ledger::{
    verify, AuditFilter, Claim, FileLedger, Ledger, LedgerError, Step, Verification,
    FILE_SCHEMA_VERSION,
};

const LONG: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_file_ledger_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let counter = AtomicUsize::new(0);
    let dir_path = dir.path().to_owned();
    conformance::run_all(|| {
        let path = dir_path.join(format!(
            "wallet.dat.ledger-{}",
            counter.fetch_add(1, Ordering::SeqCst)
        ));
        async move { Arc::new(FileLedger::open(path).await.unwrap()) as Arc<dyn Ledger> }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn handles_on_one_file_grant_each_id_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.dat.ledger");
    let mut handles = Vec::new();
    for _ in 0..4 {
        handles.push(Arc::new(FileLedger::open(&path).await.unwrap()));
    }
    let mut tasks = Vec::new();
    for (n, ledger) in handles.iter().enumerate() {
        for id in 0..20 {
            let ledger = ledger.clone();
            tasks.push(tokio::spawn(async move {
                let claim = ledger
                    .claim(&subject(&format!("id{id}"), "ETH"), &format!("r{n}"), LONG)
                    .await
                    .unwrap();
                (id, matches!(claim, Claim::Granted { .. }))
            }));
        }
    }
    let mut grants = [0; 20];
    for task in tasks {
        let (id, granted) = task.await.unwrap();
        grants[id] += usize::from(granted);
    }
    assert_eq!(grants, [1; 20], "each id granted to exactly one handle");
    let all = handles[0].entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(all.len(), 20);
    let anchor = handles[1].anchor().await.unwrap();
    assert!(verify(&all, (anchor.0, &anchor.1)).is_intact());
}

/// The environment variable that turns [`second_process_claims`] into the
/// other process of [`another_process_cannot_take_the_same_ids`].
const CHILD_LEDGER: &str = "KMS_LEDGER_TEST_CHILD_FILE";

/// Run by [`another_process_cannot_take_the_same_ids`] as a second process:
/// claims ids 0..40 on the file it is given and prints the ones granted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the second process of another_process_cannot_take_the_same_ids"]
async fn second_process_claims() {
    let Ok(path) = std::env::var(CHILD_LEDGER) else {
        eprintln!("only another_process_cannot_take_the_same_ids runs this, as its second process");
        return;
    };
    let granted = claim_forty(Path::new(&path), "child").await;
    println!("GRANTED {}", serde_json::to_string(&granted).unwrap());
}

async fn claim_forty(path: &Path, replica: &str) -> Vec<usize> {
    let ledger = Arc::new(FileLedger::open(path).await.unwrap());
    let tasks: Vec<_> = (0..40)
        .map(|id| {
            let (ledger, replica) = (ledger.clone(), replica.to_owned());
            tokio::spawn(async move {
                let claim = ledger
                    .claim(&subject(&format!("id{id}"), "SOL"), &replica, LONG)
                    .await
                    .unwrap();
                matches!(claim, Claim::Granted { .. }).then_some(id)
            })
        })
        .collect();
    let mut granted = Vec::new();
    for task in tasks {
        granted.extend(task.await.unwrap());
    }
    granted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_cannot_take_the_same_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.dat.ledger");
    // The file exists before both start, as beside a daemon's wallet.dat.
    drop(FileLedger::open(&path).await.unwrap());
    let child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "second_process_claims",
            "--nocapture",
        ])
        .env(CHILD_LEDGER, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mine = claim_forty(&path, "parent").await;
    let out = child.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the second process failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<usize> = stdout
        .lines()
        .find_map(|l| l.strip_prefix("GRANTED "))
        .map(|json| serde_json::from_str(json).unwrap())
        .expect("the second process printed its grants");
    let mut all: Vec<usize> = mine.iter().chain(&theirs).copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..40).collect::<Vec<_>>(),
        "every id granted once, to one process (parent {mine:?}, child {theirs:?})"
    );
}

#[tokio::test]
async fn a_reopened_file_keeps_the_signed_bytes_and_the_trail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.dat.ledger");
    let s = subject("keep", "SOL");
    {
        let ledger = FileLedger::open(&path).await.unwrap();
        let Claim::Granted { lease, .. } = ledger.claim(&s, "a", LONG).await.unwrap() else {
            panic!("a fresh id is granted");
        };
        ledger
            .record(&lease, Step::Signed(signed("the bytes")))
            .await
            .unwrap();
        // Killed here: no Submitted, no Failed. The lease stays a's.
    }
    let ledger = FileLedger::open(&path).await.unwrap();
    match ledger.claim(&s, "a", LONG).await.unwrap() {
        Claim::Granted {
            lease,
            signed: earlier,
            took_over,
        } => {
            assert_eq!(earlier, Some(signed("the bytes")));
            assert_eq!(took_over, None, "a's own claim again");
            assert_eq!(lease.epoch, 2);
        }
        other => panic!("the restarted replica gets its id back: {other:?}"),
    }
    let all = ledger.entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(verify(&all, (0, kms_ledger::GENESIS_HASH)).is_intact());
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.dat.ledger");
    let ledger = FileLedger::open(&path).await.unwrap();
    ledger.claim(&subject("m", "ETH"), "a", LONG).await.unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    assert_eq!(mode(&wal), 0o600, "the WAL holds the same history");
}

#[tokio::test]
async fn a_file_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.dat.ledger");
    drop(FileLedger::open(&path).await.unwrap());
    // At this build's version it opens again.
    drop(FileLedger::open(&path).await.unwrap());
    let newer = FILE_SCHEMA_VERSION + 1;
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", newer)
        .unwrap();
    match FileLedger::open(&path).await {
        Err(LedgerError::Corrupt(message)) => {
            assert!(
                message.contains(&format!("version {newer}"))
                    && message.contains(&format!("{FILE_SCHEMA_VERSION}")),
                "{message}"
            );
        }
        other => panic!("a newer schema must be refused: {other:?}"),
    }
}

#[tokio::test]
async fn a_file_that_is_no_database_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.dat.ledger");
    std::fs::write(
        &path,
        b"this is not an SQLite database, just some text ".repeat(20),
    )
    .unwrap();
    assert!(matches!(
        FileLedger::open(&path).await,
        Err(LedgerError::Corrupt(_))
    ));
}

/// Three ids through their steps: a trail of 9 entries.
async fn busy_ledger(path: &Path) -> FileLedger {
    let ledger = FileLedger::open(path).await.unwrap();
    conformance::fill_three(&ledger).await;
    ledger
}

#[tokio::test]
async fn an_entry_edited_in_the_file_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.dat.ledger");
    let ledger = busy_ledger(&path).await;
    assert!(matches!(
        conformance::verification(&ledger).await,
        Verification::Intact { entries: 9, .. }
    ));
    let edited = rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE ledger_audit SET detail = replace(detail, '\"txData\":\"x2\"', '\"txData\":\"x9\"') WHERE seq = 5",
            [],
        )
        .unwrap();
    assert_eq!(edited, 1);
    assert_eq!(
        conformance::verification(&ledger).await,
        Verification::Edited { seq: 5 }
    );
}

#[tokio::test]
async fn an_entry_deleted_from_the_file_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.dat.ledger");
    let ledger = busy_ledger(&path).await;
    assert!(conformance::verification(&ledger).await.is_intact());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("DELETE FROM ledger_audit WHERE seq = 4", [])
        .unwrap();
    assert_eq!(
        conformance::verification(&ledger).await,
        Verification::Missing { seq: 5 }
    );
}

#[tokio::test]
async fn after_the_last_entry_is_deleted_the_next_one_shows_the_gap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.dat.ledger");
    let ledger = busy_ledger(&path).await;
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("DELETE FROM ledger_audit WHERE seq = 9", [])
        .unwrap();
    // A removed tail is invisible to the chain alone...
    assert!(conformance::verification(&ledger).await.is_intact());
    ledger
        .claim(&subject("x4", "ETH"), "a", LONG)
        .await
        .unwrap();
    // ...but the head remembers where the trail was: the next entry is 10.
    assert_eq!(
        conformance::verification(&ledger).await,
        Verification::Missing { seq: 10 }
    );
}

#[tokio::test]
async fn open_picks_the_file_for_an_empty_or_file_spec() {
    let dir = tempfile::tempdir().unwrap();
    let default = dir.path().join("wallet.dat.ledger");
    let ledger = kms_ledger::open("", &default).await.unwrap();
    ledger
        .claim(&subject("o1", "ETH"), "a", LONG)
        .await
        .unwrap();
    assert!(default.exists());
    let named = dir.path().join("elsewhere.ledger");
    let ledger = kms_ledger::open(&format!("file:{}", named.display()), &default)
        .await
        .unwrap();
    ledger
        .claim(&subject("o2", "ETH"), "a", LONG)
        .await
        .unwrap();
    assert!(named.exists());
    // The default file was not touched by the named one.
    let default_ledger = kms_ledger::open("file:", &default).await.unwrap();
    let ids: Vec<String> = default_ledger
        .entries(&AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, ["o1"]);
    assert!(matches!(
        kms_ledger::open("mysql://somewhere/db", &default).await,
        Err(LedgerError::Unavailable(_))
    ));
}
