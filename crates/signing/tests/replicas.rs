//! The daemon with a signing ledger, in process against the fake Tatum API
//! and its simulated Solana node (a fresh blockhash on every request):
//! replicas sharing a ledger sign each pending id once; bytes recorded by a
//! replica that died are sent again, and a SOL transaction is signed anew
//! only once it is shown never to land; a ledger that does not answer stops
//! all signing; a hostile API cannot get a second signature for an id.
//! The PostgreSQL and file ledgers run the same daemon in
//! `crates/kms-cli/tests/replicas.rs`, as real processes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kms_core::{ApiRequest, Chain, ChainApi, Network, PendingTransaction, WalletEntry};
use kms_fake_tatum::FakeTatum;
use kms_ledger::{
    AuditEntry, AuditFilter, Claim, EntryKind, Lease, Ledger, LedgerError, MemoryLedger,
    SignedRecord, Step, Subject,
};
use kms_signing::{ledger_subject, pipeline, Daemon, DaemonConfig, KeySelector, Scope};
use kms_tatum_client::{ClientConfig, TatumClient};
use kms_vault::{KdfParams, Vault};
use secrecy::SecretString;
use serde_json::{json, Value};
use tempfile::TempDir;

const API_KEY: &str = "replica-test-key";

struct Fixture {
    _dir: TempDir,
    store: std::path::PathBuf,
    fake: FakeTatum,
    sol: Value,
}

fn password() -> SecretString {
    SecretString::from("replica test password".to_string())
}

/// A store with the SOL vector's wallet and `eth_senders` ETH key wallets
/// (`eth-0`, `eth-1`, ...), and a fake API with a simulated Solana node.
fn fixture(eth_senders: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("wallet.dat");
    let cheap = KdfParams {
        memory_kib: KdfParams::MIN_MEMORY_KIB,
        iterations: KdfParams::MIN_ITERATIONS,
        parallelism: 1,
    };
    let file = kms_test_support::load_vectors("signing.json");
    let sol = file["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "sol-mainnet-transfer")
        .unwrap()
        .clone();
    let mut vault = Vault::open(&store, &password(), cheap).unwrap();
    vault
        .update(|w| {
            let id = sol["pendingTransaction"]["hashes"][0].as_str().unwrap();
            let key =
                WalletEntry::new().with("privateKey", sol["signingKeys"][0]["privateKey"].clone());
            w.insert_first(
                id.to_string(),
                WalletEntry::stored(key, Chain::SOL, Network::Mainnet),
            );
            for i in 0..eth_senders {
                let key = WalletEntry::new().with("privateKey", eth_key(i));
                w.insert_first(
                    format!("eth-{i}"),
                    WalletEntry::stored(key, Chain::ETH, Network::Mainnet),
                );
            }
        })
        .unwrap();
    let fake = FakeTatum::start(API_KEY);
    fake.simulate_solana();
    Fixture {
        _dir: dir,
        store,
        fake,
        sol,
    }
}

/// A valid secp256k1 key per sender, derived from its number.
fn eth_key(i: usize) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "0x{}",
        hex::encode(Sha256::digest(format!("eth sender {i}")))
    )
}

fn sol_pending(f: &Fixture, id: &str) -> Value {
    let mut tx = f.sol["pendingTransaction"].clone();
    tx["id"] = json!(id);
    tx
}

/// A mainnet ETH transaction that needs nothing from the network. The
/// nonce is `nonce + 1`: as in the original's SDK, a nonce of 0 reads as
/// absent and is fetched.
fn eth_pending(id: &str, sender: usize, nonce: u64) -> Value {
    let nonce = nonce + 1;
    json!({
        "id": id, "chain": "ETH", "hashes": [format!("eth-{sender}")],
        "serializedTransaction": json!({
            "to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee", "value": "1000",
            "gasPrice": "20000000000", "gas": 21000, "nonce": nonce, "chainId": 1
        }).to_string(),
    })
}

fn client(f: &Fixture) -> Arc<TatumClient> {
    let config = ClientConfig::new(&f.fake.url, SecretString::from(API_KEY.to_string()));
    Arc::new(TatumClient::new(config).unwrap())
}

fn daemon(
    f: &Fixture,
    replica: &str,
    ledger: Arc<dyn Ledger>,
    concurrency: usize,
) -> Daemon<TatumClient> {
    let vault = Vault::open(&f.store, &password(), KdfParams::default()).unwrap();
    let mut config = DaemonConfig::new(vec![Chain::SOL, Chain::ETH], Network::Mainnet);
    config.replica = replica.to_string();
    config.concurrency = concurrency;
    config.lease = Duration::from_secs(10);
    Daemon::new(config, vault, client(f), None).with_ledger(ledger)
}

fn broadcast_ids(f: &Fixture) -> Vec<String> {
    f.fake
        .broadcasts()
        .iter()
        .map(|b| b.body["signatureId"].as_str().unwrap().to_string())
        .collect()
}

fn trail(entries: &[AuditEntry], id: &str) -> Vec<EntryKind> {
    entries
        .iter()
        .filter(|e| e.id == id)
        .map(|e| e.kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_sign_and_broadcast_every_id_exactly_once() {
    let f = fixture(6);
    f.fake.set_latency(Duration::from_millis(5));
    let mut ids = Vec::new();
    for n in 0..40 {
        let id = format!("sol-{n}");
        f.fake.add_pending(sol_pending(&f, &id));
        ids.push(id);
    }
    for sender in 0..6 {
        for nonce in 0..5 {
            let id = format!("eth-{sender}-{nonce}");
            f.fake.add_pending(eth_pending(&id, sender, nonce));
            ids.push(id);
        }
    }
    let ledger: Arc<dyn Ledger> = Arc::new(MemoryLedger::new());
    // Fewer in hand per replica than there are senders: each replica
    // starts on some senders and the others take the rest.
    let (mut a, mut b, mut c) = (
        daemon(&f, "a", ledger.clone(), 4),
        daemon(&f, "b", ledger.clone(), 4),
        daemon(&f, "c", ledger.clone(), 4),
    );
    let (ra, rb, rc) = tokio::join!(a.cycle(), b.cycle(), c.cycle());
    assert_eq!(
        ra.signed + rb.signed + rc.signed,
        ids.len(),
        "{ra:?} {rb:?} {rc:?}"
    );
    assert_eq!(ra.failed + rb.failed + rc.failed, 0);
    assert!(
        [ra.signed, rb.signed, rc.signed]
            .iter()
            .filter(|&&n| n > 0)
            .count()
            >= 2,
        "the work is shared: {} {} {}",
        ra.signed,
        rb.signed,
        rc.signed
    );

    let mut broadcast = broadcast_ids(&f);
    broadcast.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(broadcast, expected, "every id broadcast exactly once");
    // One sender's transactions were never in two replicas' hands at once:
    // each sender's broadcasts come in nonce order, whoever sent them.
    let order = broadcast_ids(&f);
    for sender in 0..6 {
        let nonces: Vec<u64> = order
            .iter()
            .filter_map(|id| id.strip_prefix(&format!("eth-{sender}-")))
            .map(|n| n.parse().unwrap())
            .collect();
        if nonces != [0, 1, 2, 3, 4] {
            let entries = ledger.entries(&AuditFilter::default()).await.unwrap();
            for e in entries
                .iter()
                .filter(|e| e.id.starts_with(&format!("eth-{sender}-")))
            {
                eprintln!("{} {} {:?} {} {}", e.seq, e.id, e.kind, e.replica, e.detail);
            }
        }
        assert_eq!(nonces, [0, 1, 2, 3, 4], "sender {sender}");
    }
    // The node got exactly one signed transaction per SOL id, each landed,
    // and the broadcast names it.
    let node = f.fake.solana();
    assert_eq!(node.sends.len(), 40);
    assert_eq!(node.landed.len(), 40);
    let mut sol_tx_data: Vec<String> = f
        .fake
        .broadcasts()
        .iter()
        .filter(|b| b.path.contains("solana"))
        .map(|b| b.body["txData"].as_str().unwrap().to_string())
        .collect();
    sol_tx_data.sort();
    assert_eq!(sol_tx_data, node.landed);

    // A second round finds nothing left to do, anywhere.
    let (ra, rb, rc) = tokio::join!(a.cycle(), b.cycle(), c.cycle());
    assert_eq!(ra.pending + rb.pending + rc.pending, 0);
    let entries = ledger.entries(&AuditFilter::default()).await.unwrap();
    assert!(kms_ledger::verify(&entries, (0, kms_ledger::GENESIS_HASH)).is_intact());
    assert_eq!(
        trail(&entries, "sol-7"),
        [EntryKind::Claimed, EntryKind::Signed, EntryKind::Submitted]
    );
}

/// The transactions of one sender go in the order listed (nonces); those
/// of different senders at once, up to the concurrency; concurrency 1 is
/// one at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_senders_transactions_keep_their_order_and_senders_run_concurrently() {
    for concurrency in [1, 8] {
        let f = fixture(4);
        f.fake.set_latency(Duration::from_millis(20));
        for nonce in 0..5 {
            for sender in 0..4 {
                f.fake
                    .add_pending(eth_pending(&format!("eth-{sender}-{nonce}"), sender, nonce));
            }
        }
        let mut d = daemon(&f, "a", Arc::new(MemoryLedger::new()), concurrency);
        let report = d.cycle().await;
        assert_eq!(report.signed, 20);
        let order = broadcast_ids(&f);
        for sender in 0..4 {
            let nonces: Vec<&str> = order
                .iter()
                .filter(|id| id.starts_with(&format!("eth-{sender}-")))
                .map(|id| id.rsplit('-').next().unwrap())
                .collect();
            assert_eq!(
                nonces,
                ["0", "1", "2", "3", "4"],
                "sender {sender}, concurrency {concurrency}"
            );
        }
        let peak = f.fake.peak_in_flight();
        if concurrency == 1 {
            assert_eq!(peak, 1);
        } else {
            assert!(
                peak >= 4,
                "4 senders at once, saw at most {peak} requests at once"
            );
        }
    }
}

/// Signs the SOL vector's transaction `id` through the pipeline with a
/// fresh blockhash from the fake node, as a replica would before dying.
async fn sign_like_a_replica(f: &Fixture, id: &str) -> (PendingTransaction, SignedRecord) {
    let tx = PendingTransaction::from_json(&sol_pending(f, id).to_string()).unwrap();
    let vault = Vault::open(&f.store, &password(), KdfParams::default()).unwrap();
    let scope = Scope::new(Chain::SOL, Network::Mainnet, tx.hashes.iter().cloned());
    let client = client(f);
    let prepared = pipeline::prepare(
        &mut KeySelector::new(),
        vault.wallets(),
        &scope,
        &tx,
        client.as_ref(),
    )
    .await
    .unwrap();
    let facts = prepared.facts().0.clone();
    let signed = prepared.sign().unwrap();
    let record = SignedRecord {
        digest: pipeline::digest(&signed),
        tx_data: signed.tx_data,
        node_submission: signed.node_submission,
        facts: Value::Object(facts),
    };
    (tx, record)
}

/// A replica claimed `tx`, recorded `record` as signed, maybe sent it,
/// and died: its claim runs out.
async fn died_after_signing(ledger: &dyn Ledger, tx: &PendingTransaction, record: &SignedRecord) {
    let claim = ledger
        .claim(
            &ledger_subject(tx, Network::Mainnet),
            "dead",
            Duration::from_millis(50),
        )
        .await
        .unwrap();
    let Claim::Granted { lease, .. } = claim else {
        panic!("{claim:?}")
    };
    ledger
        .record(&lease, Step::Signed(record.clone()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Sends `wire` to the fake node directly, as the dead replica did.
async fn send_to_node(f: &Fixture, wire: &str) {
    let answer = client(f)
        .call(ApiRequest::json_rpc(
            "/v3/blockchain/node/SOL/{apiKey}",
            "sendTransaction",
            json!([wire, {"encoding": "base64"}]),
        ))
        .await
        .unwrap();
    assert!(answer["result"].is_string(), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_replicas_signature_is_sent_again_while_its_blockhash_is_valid() {
    let f = fixture(0);
    let ledger: Arc<dyn Ledger> = Arc::new(MemoryLedger::new());
    let (tx, record) = sign_like_a_replica(&f, "sol-dead-1").await;
    died_after_signing(ledger.as_ref(), &tx, &record).await;
    f.fake.add_pending(sol_pending(&f, "sol-dead-1"));

    let report = daemon(&f, "b", ledger.clone(), 4).cycle().await;
    assert_eq!((report.signed, report.resubmitted), (1, 1), "{report:?}");
    let node = f.fake.solana();
    assert_eq!(node.sends.len(), 1);
    assert_eq!(
        Some(&node.sends[0].1),
        record.node_submission.as_ref(),
        "the same bytes"
    );
    assert_eq!(
        f.fake.broadcasts()[0].body["txData"],
        record.tx_data.as_str()
    );
    let entries = ledger.entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(
        trail(&entries, "sol-dead-1"),
        [
            EntryKind::Claimed,
            EntryKind::Signed,
            EntryKind::Claimed,
            EntryKind::Submitted
        ]
    );
    assert_eq!(entries[2].detail["tookOver"], "dead");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_sol_signature_that_never_landed_is_signed_anew_once() {
    let f = fixture(0);
    let ledger: Arc<dyn Ledger> = Arc::new(MemoryLedger::new());
    let (tx, record) = sign_like_a_replica(&f, "sol-dead-2").await;
    died_after_signing(ledger.as_ref(), &tx, &record).await;
    f.fake.add_pending(sol_pending(&f, "sol-dead-2"));
    f.fake.advance_solana(151);

    let report = daemon(&f, "b", ledger.clone(), 4).cycle().await;
    assert_eq!(report.signed, 1, "{report:?}");
    let node = f.fake.solana();
    assert_eq!(
        node.sends.len(),
        1,
        "only the new transaction reached the node"
    );
    assert_ne!(Some(&node.sends[0].1), record.node_submission.as_ref());
    let broadcast = f.fake.broadcasts();
    assert_eq!(broadcast.len(), 1);
    assert_eq!(
        broadcast[0].body["txData"].as_str(),
        Some(node.landed[0].as_str())
    );
    let entries = ledger.entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(
        trail(&entries, "sol-dead-2"),
        [
            EntryKind::Claimed,
            EntryKind::Signed,
            EntryKind::Claimed,
            EntryKind::Resigned,
            EntryKind::Submitted
        ]
    );
    let resigned = entries
        .iter()
        .find(|e| e.kind == EntryKind::Resigned)
        .unwrap();
    assert_eq!(resigned.detail["superseded"], record.digest.as_str());
    assert!(resigned.detail["evidence"]
        .as_str()
        .unwrap()
        .contains("no longer valid"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_sol_signature_that_landed_is_reported_not_signed_again() {
    let f = fixture(0);
    let ledger: Arc<dyn Ledger> = Arc::new(MemoryLedger::new());
    let (tx, record) = sign_like_a_replica(&f, "sol-dead-3").await;
    died_after_signing(ledger.as_ref(), &tx, &record).await;
    send_to_node(&f, record.node_submission.as_deref().unwrap()).await;
    f.fake.add_pending(sol_pending(&f, "sol-dead-3"));
    f.fake.advance_solana(151);

    let report = daemon(&f, "b", ledger.clone(), 4).cycle().await;
    assert_eq!((report.signed, report.resubmitted), (1, 1), "{report:?}");
    let node = f.fake.solana();
    assert_eq!(node.sends.len(), 1, "nothing new was sent");
    assert_eq!(
        f.fake.broadcasts()[0].body["txData"],
        record.tx_data.as_str()
    );
    let entries = ledger.entries(&AuditFilter::default()).await.unwrap();
    assert!(!trail(&entries, "sol-dead-3").contains(&EntryKind::Resigned));
}

/// A ledger that fails every call while `down` is set, else passes them on.
struct Flaky {
    inner: MemoryLedger,
    down: AtomicBool,
    /// Refuse `Step::Signed` as if the claim had been taken over.
    lose_claims: AtomicBool,
}

impl Flaky {
    fn check_up(&self) -> Result<(), LedgerError> {
        if self.down.load(Ordering::SeqCst) {
            Err(LedgerError::Unavailable("connection refused".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Ledger for Flaky {
    async fn claim(&self, s: &Subject, r: &str, l: Duration) -> Result<Claim, LedgerError> {
        self.check_up()?;
        self.inner.claim(s, r, l).await
    }
    async fn renew(&self, l: &Lease, d: Duration) -> Result<(), LedgerError> {
        self.check_up()?;
        self.inner.renew(l, d).await
    }
    async fn record(&self, l: &Lease, step: Step) -> Result<(), LedgerError> {
        self.check_up()?;
        if self.lose_claims.load(Ordering::SeqCst) && matches!(step, Step::Signed(_)) {
            return Err(LedgerError::LeaseLost { id: l.id.clone() });
        }
        self.inner.record(l, step).await
    }
    async fn entries(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>, LedgerError> {
        self.check_up()?;
        self.inner.entries(f).await
    }
    async fn anchor(&self) -> Result<(u64, String), LedgerError> {
        self.inner.anchor().await
    }
    async fn prune(&self, before_ms: i64) -> Result<u64, LedgerError> {
        self.inner.prune(before_ms).await
    }
    async fn check(&self) -> Result<(), LedgerError> {
        self.check_up()
    }
}

fn flaky() -> Arc<Flaky> {
    Arc::new(Flaky {
        inner: MemoryLedger::new(),
        down: AtomicBool::new(false),
        lose_claims: AtomicBool::new(false),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_signed_while_the_ledger_does_not_answer_and_work_resumes_after() {
    let f = fixture(2);
    for n in 0..3 {
        f.fake.add_pending(sol_pending(&f, &format!("sol-{n}")));
        f.fake
            .add_pending(eth_pending(&format!("eth-{n}"), n % 2, n as u64));
    }
    let ledger = flaky();
    ledger.down.store(true, Ordering::SeqCst);
    let mut d = daemon(&f, "a", ledger.clone(), 4);
    let report = d.cycle().await;
    assert_eq!(
        (report.signed, report.ledger_unavailable),
        (0, 6),
        "{report:?}"
    );
    assert!(report.anything_failed());
    assert!(f.fake.broadcasts().is_empty() && f.fake.solana().sends.is_empty());
    assert!(
        f.fake.error_reports().is_empty(),
        "they stay pending, not failed"
    );
    assert_eq!(d.metrics().health(), kms_signing::Health::LedgerDown);

    ledger.down.store(false, Ordering::SeqCst);
    let report = d.cycle().await;
    assert_eq!(report.signed, 6, "{report:?} {:?}", f.fake.error_reports());
    assert_eq!(d.metrics().health(), kms_signing::Health::Ok);
}

/// A replica whose claim was taken over while it signed throws its
/// signature away; beside it, the same replica with its claim kept signs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_made_under_a_lost_claim_never_leaves() {
    let f = fixture(1);
    f.fake.add_pending(sol_pending(&f, "sol-lost"));
    f.fake.add_pending(eth_pending("eth-lost", 0, 0));
    let ledger = flaky();
    ledger.lose_claims.store(true, Ordering::SeqCst);
    let mut d = daemon(&f, "a", ledger.clone(), 4);
    let report = d.cycle().await;
    assert_eq!((report.signed, report.held_elsewhere), (0, 2), "{report:?}");
    assert!(f.fake.broadcasts().is_empty() && f.fake.solana().sends.is_empty());

    ledger.lose_claims.store(false, Ordering::SeqCst);
    // The claims of the first attempt are still live (and ours): taken back.
    let report = d.cycle().await;
    assert_eq!(report.signed, 2, "{report:?}");
}

/// The API hands an id over again with another transaction: refused and
/// reported, nothing signed. Beside it: the same transaction again is
/// simply left alone (submitted already).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_handed_over_again_with_other_content_gets_no_second_signature() {
    let f = fixture(1);
    f.fake.add_pending(eth_pending("eth-x", 0, 0));
    let ledger: Arc<dyn Ledger> = Arc::new(MemoryLedger::new());
    let mut d = daemon(&f, "a", ledger.clone(), 4);
    assert_eq!(d.cycle().await.signed, 1);

    f.fake.add_pending(eth_pending("eth-x", 0, 0));
    let report = d.cycle().await;
    assert_eq!(
        (report.signed, report.held_elsewhere, report.failed),
        (0, 1, 0),
        "{report:?}"
    );

    let mut other = eth_pending("eth-x", 0, 0);
    other["serializedTransaction"] = json!(other["serializedTransaction"]
        .as_str()
        .unwrap()
        .replace("\"value\":\"1000\"", "\"value\":\"1000000000000000000\""));
    let reports_before = f.fake.error_reports().len();
    f.fake.add_pending(other);
    let report = d.cycle().await;
    assert_eq!(
        (report.signed, report.refused, report.held_elsewhere),
        (0, 1, 1),
        "{report:?}"
    );
    assert_eq!(
        f.fake.broadcasts().len(),
        1,
        "only the first signature went out"
    );
    let reports = f.fake.error_reports();
    assert!(reports.len() > reports_before);
    assert!(reports.last().unwrap()[0]["error"]
        .as_str()
        .unwrap()
        .contains("another transaction"));
    let entries = ledger
        .entries(&AuditFilter {
            kind: Some(EntryKind::Conflict),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
}

/// The policy's hourly limit per wallet holds across replicas sharing a
/// ledger: a second replica does not get the whole limit again. Beside it,
/// the same second replica on a ledger of its own does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hourly_limit_counts_every_replicas_signatures() {
    let policy = || {
        kms_signing::Policy::parse(
            "[chains.ETH]\nnetworks = [\"mainnet\"]\nmax_per_hour_per_wallet = 2\n\n[chains.SOL]\nnetworks = [\"mainnet\"]\n",
        )
        .unwrap()
    };
    for shared in [true, false] {
        let f = fixture(1);
        for nonce in 0..4 {
            f.fake
                .add_pending(eth_pending(&format!("eth-0-{nonce}"), 0, nonce));
        }
        let ledger: Arc<dyn Ledger> = Arc::new(MemoryLedger::new());
        let mut a = daemon(&f, "a", ledger.clone(), 4).with_policy(policy());
        let report = a.cycle().await;
        assert_eq!((report.signed, report.refused), (2, 2), "{report:?}");

        let other: Arc<dyn Ledger> = if shared {
            ledger
        } else {
            Arc::new(MemoryLedger::new())
        };
        let mut b = daemon(&f, "b", other, 4).with_policy(policy());
        let report = b.cycle().await;
        if shared {
            assert_eq!((report.signed, report.refused), (0, 2), "{report:?}");
            let reason = f.fake.error_reports().last().unwrap()[0]["error"].clone();
            assert!(
                reason.as_str().unwrap().contains("all replicas"),
                "{reason}"
            );
        } else {
            assert_eq!((report.signed, report.refused), (2, 0), "{report:?}");
        }
    }
}
