//! The behaviour every [`Ledger`] backend must show, as functions a
//! backend's tests call with a fresh, empty ledger. Public (hidden) so the
//! backends' integration tests, here and in other crates, share one copy.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::{
    verify, AuditFilter, Claim, EntryKind, Lease, Ledger, LedgerError, SignedRecord, Step, Subject,
};

const LONG: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_millis(150);

/// A subject with id `id` on chain `chain`.
pub fn subject(id: &str, chain: &str) -> Subject {
    Subject {
        id: id.into(),
        chain: chain.into(),
        network: "mainnet".into(),
        wallets: vec![format!("wallet-of-{id}")],
        request_digest: format!("sha256:request-{id}"),
    }
}

/// A signed transaction whose bytes are `text`.
pub fn signed(text: &str) -> SignedRecord {
    SignedRecord {
        tx_data: text.into(),
        node_submission: None,
        digest: format!("sha256:{text}"),
        facts: json!({"nonce": 7}),
    }
}

fn granted(claim: Claim) -> (Lease, Option<SignedRecord>, Option<String>) {
    match claim {
        Claim::Granted {
            lease,
            signed,
            took_over,
        } => (lease, signed, took_over),
        other => panic!("expected the claim to be granted, got {other:?}"),
    }
}

/// One replica holds an id; another is told who holds it until when.
pub async fn a_live_claim_is_exclusive(ledger: &dyn Ledger) {
    let s = subject("t1", "ETH");
    let (lease, signed, took_over) = granted(ledger.claim(&s, "a", LONG).await.unwrap());
    assert_eq!((lease.epoch, signed, took_over), (1, None, None));
    match ledger.claim(&s, "b", LONG).await.unwrap() {
        Claim::Held { replica, until_ms } => {
            assert_eq!(replica, "a");
            assert!(until_ms > 0);
        }
        other => panic!("b must not get a's claim: {other:?}"),
    }
}

/// An expired claim is taken over with a higher epoch; the former holder's
/// writes are then refused.
pub async fn an_expired_claim_is_taken_over_and_fenced(ledger: &dyn Ledger) {
    let s = subject("t2", "ETH");
    let (old, _, _) = granted(ledger.claim(&s, "a", SHORT).await.unwrap());
    tokio::time::sleep(SHORT * 2).await;
    assert!(
        matches!(
            ledger.record(&old, Step::Signed(signed("late"))).await,
            Err(LedgerError::LeaseLost { .. })
        ),
        "an expired lease must not record"
    );
    let (new, signed_before, took_over) = granted(ledger.claim(&s, "b", LONG).await.unwrap());
    assert!(new.epoch > old.epoch);
    assert_eq!(signed_before, None);
    assert_eq!(took_over.as_deref(), Some("a"));
    assert!(matches!(
        ledger.renew(&old, LONG).await,
        Err(LedgerError::LeaseLost { .. })
    ));
    ledger
        .record(&new, Step::Signed(signed("b's")))
        .await
        .unwrap();
}

/// Once signed, the bytes are the id's: every later claim returns them and
/// other bytes are refused; the same bytes again are accepted.
pub async fn signed_bytes_are_final(ledger: &dyn Ledger) {
    let s = subject("t3", "SOL");
    let (a, _, _) = granted(ledger.claim(&s, "a", LONG).await.unwrap());
    ledger
        .record(&a, Step::Signed(signed("first")))
        .await
        .unwrap();
    ledger
        .record(&a, Step::Signed(signed("first")))
        .await
        .unwrap();
    assert!(matches!(
        ledger.record(&a, Step::Signed(signed("second"))).await,
        Err(LedgerError::AlreadySigned { recorded, .. }) if recorded == "sha256:first"
    ));
    ledger
        .record(
            &a,
            Step::Failed {
                reason: "broadcast: timeout".into(),
            },
        )
        .await
        .unwrap();
    let (b, earlier, took_over) = granted(ledger.claim(&s, "b", LONG).await.unwrap());
    assert_eq!(
        earlier,
        Some(signed("first")),
        "a retry must get the recorded bytes"
    );
    assert_eq!(took_over, None, "a released claim is not a take-over");
    assert!(matches!(
        ledger.record(&b, Step::Signed(signed("second"))).await,
        Err(LedgerError::AlreadySigned { .. })
    ));
    // Re-signing needs the recorded digest named.
    assert!(matches!(
        ledger
            .record(
                &b,
                Step::Resigned {
                    record: signed("second"),
                    superseded: "sha256:other".into(),
                    evidence: "x".into()
                }
            )
            .await,
        Err(LedgerError::NotSuperseding { .. })
    ));
    ledger
        .record(
            &b,
            Step::Resigned {
                record: signed("second"),
                superseded: "sha256:first".into(),
                evidence: "blockhash expired at height 10; the node has no such transaction".into(),
            },
        )
        .await
        .unwrap();
    ledger
        .record(
            &b,
            Step::Submitted {
                tx_id: Some("tx-2".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        ledger.claim(&s, "c", LONG).await.unwrap(),
        Claim::Submitted {
            tx_id: Some("tx-2".into())
        }
    );
}

/// A refusal or failure ends the claim at once: another replica may claim.
pub async fn a_released_claim_can_be_claimed_at_once(ledger: &dyn Ledger) {
    let s = subject("t4", "BTC");
    let (a, _, _) = granted(ledger.claim(&s, "a", LONG).await.unwrap());
    ledger
        .record(
            &a,
            Step::Rejected {
                digest: "sha256:x".into(),
                reason: "no".into(),
            },
        )
        .await
        .unwrap();
    assert!(
        matches!(
            ledger
                .record(
                    &a,
                    Step::Failed {
                        reason: "after".into()
                    }
                )
                .await,
            Err(LedgerError::LeaseLost { .. })
        ),
        "a released claim records nothing more"
    );
    granted(ledger.claim(&s, "b", LONG).await.unwrap());
}

/// The same id with another transaction is a conflict, recorded, and
/// changes nothing.
pub async fn the_same_id_with_another_transaction_conflicts(ledger: &dyn Ledger) {
    let s = subject("t5", "ETH");
    let (a, _, _) = granted(ledger.claim(&s, "a", LONG).await.unwrap());
    ledger
        .record(&a, Step::Failed { reason: "x".into() })
        .await
        .unwrap();
    let mut other = s.clone();
    other.request_digest = "sha256:changed".into();
    assert_eq!(
        ledger.claim(&other, "b", LONG).await.unwrap(),
        Claim::Conflict {
            recorded: s.request_digest.clone()
        }
    );
    granted(ledger.claim(&s, "b", LONG).await.unwrap());
}

/// Many claims of one id at once: exactly one is granted.
pub async fn concurrent_claims_grant_one(ledger: Arc<dyn Ledger>) {
    let s = subject("t6", "ETH");
    let mut tasks = Vec::new();
    for replica in 0..16 {
        let (ledger, s) = (ledger.clone(), s.clone());
        tasks.push(tokio::spawn(async move {
            ledger
                .claim(&s, &format!("r{replica}"), LONG)
                .await
                .unwrap()
        }));
    }
    let mut grants = 0;
    for task in tasks {
        if matches!(task.await.unwrap(), Claim::Granted { .. }) {
            grants += 1;
        }
    }
    assert_eq!(grants, 1);
}

/// Every change is in the trail, chained, and filters narrow it.
pub async fn the_trail_records_every_step_in_a_chain(ledger: &dyn Ledger) {
    let (s1, s2) = (subject("u1", "ETH"), subject("u2", "BTC"));
    let (a, _, _) = granted(ledger.claim(&s1, "a", LONG).await.unwrap());
    ledger
        .record(
            &a,
            Step::Approved {
                digest: "sha256:one".into(),
                seen: json!({"to": ["0xab"], "b": 1}),
            },
        )
        .await
        .unwrap();
    ledger
        .record(&a, Step::Signed(signed("one")))
        .await
        .unwrap();
    ledger
        .record(
            &a,
            Step::Submitted {
                tx_id: Some("0x1".into()),
            },
        )
        .await
        .unwrap();
    let (b, _, _) = granted(ledger.claim(&s2, "b", LONG).await.unwrap());
    ledger
        .record(
            &b,
            Step::Failed {
                reason: "no inputs".into(),
            },
        )
        .await
        .unwrap();

    let all = ledger.entries(&AuditFilter::default()).await.unwrap();
    let kinds: Vec<EntryKind> = all.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EntryKind::Claimed,
            EntryKind::Approved,
            EntryKind::Signed,
            EntryKind::Submitted,
            EntryKind::Claimed,
            EntryKind::Failed
        ]
    );
    assert_eq!(all[2].detail["txData"], "one");
    assert_eq!(all[1].detail["seen"]["to"][0], "0xab");
    assert_eq!(all[4].replica, "b");
    assert!(all.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    let anchor = ledger.anchor().await.unwrap();
    assert!(verify(&all, (anchor.0, &anchor.1)).is_intact());

    let btc = ledger
        .entries(&AuditFilter {
            chain: Some("BTC".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(btc.len(), 2);
    let by_wallet = ledger
        .entries(&AuditFilter {
            wallet: Some("wallet-of-u1".into()),
            kind: Some(EntryKind::Signed),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_wallet.len(), 1);
    assert_eq!(by_wallet[0].id, "u1");
    let first_two = ledger
        .entries(&AuditFilter {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(first_two, all[..2]);
    let none = ledger
        .entries(&AuditFilter {
            since_ms: Some(all[5].at_ms + 1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty());
}

/// Pruning keeps the rest verifiable from the new anchor and forgets the
/// submitted ids it removed.
pub async fn pruning_keeps_the_trail_verifiable(ledger: &dyn Ledger) {
    let s1 = subject("p1", "ETH");
    let (a, _, _) = granted(ledger.claim(&s1, "a", LONG).await.unwrap());
    ledger.record(&a, Step::Signed(signed("p1"))).await.unwrap();
    ledger
        .record(&a, Step::Submitted { tx_id: None })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let cut = crate::memory::now_ms();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let s2 = subject("p2", "ETH");
    granted(ledger.claim(&s2, "a", LONG).await.unwrap());
    assert_eq!(ledger.prune(cut).await.unwrap(), 3);
    let rest = ledger.entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(rest.len(), 1);
    let anchor = ledger.anchor().await.unwrap();
    assert_eq!(anchor.0, 3);
    assert!(verify(&rest, (anchor.0, &anchor.1)).is_intact());
    // The pruned, submitted id is forgotten.
    granted(ledger.claim(&s1, "a", LONG).await.unwrap());
}

/// A backend that filters in its query lets through exactly what
/// [`AuditFilter::matches`] does: exact, case-sensitive text (no pattern
/// characters), a wallet among several (not a prefix of one), `since`
/// inclusive, `until` exclusive, `limit` on what passes.
pub async fn filters_agree_with_matches(ledger: &dyn Ledger) {
    let cases = [
        ("f1", "ETH", vec!["w1", "w10"]),
        ("f2", "eth", vec!["w1"]),
        ("f3", "BTC", vec!["100%_w'\"x"]),
        ("f4", "ETH", vec![]),
        ("f5", "SOL", vec!["w10", "w2"]),
    ];
    for (id, chain, wallets) in &cases {
        let mut s = subject(id, chain);
        s.wallets = wallets.iter().map(|w| w.to_string()).collect();
        let (lease, _, _) = granted(ledger.claim(&s, "a", LONG).await.unwrap());
        ledger
            .record(&lease, Step::Signed(signed(id)))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let all = ledger.entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(all.len(), 2 * cases.len());
    let middle = all[4].at_ms;
    let mut filters = vec![AuditFilter::default()];
    for id in ["f1", "F1", "f", "%"] {
        filters.push(AuditFilter {
            id: Some(id.into()),
            ..Default::default()
        });
    }
    for chain in ["ETH", "eth", "ET_", "SOL"] {
        filters.push(AuditFilter {
            chain: Some(chain.into()),
            ..Default::default()
        });
    }
    for wallet in ["w1", "w10", "w", "w%", "100%_w'\"x", "[\"w1\"]", "w2"] {
        filters.push(AuditFilter {
            wallet: Some(wallet.into()),
            ..Default::default()
        });
    }
    for kind in [EntryKind::Claimed, EntryKind::Signed, EntryKind::Failed] {
        filters.push(AuditFilter {
            kind: Some(kind),
            chain: Some("ETH".into()),
            ..Default::default()
        });
    }
    for limit in [0, 1, 3, 100] {
        filters.push(AuditFilter {
            kind: Some(EntryKind::Signed),
            limit: Some(limit),
            ..Default::default()
        });
    }
    filters.push(AuditFilter {
        since_ms: Some(middle),
        ..Default::default()
    });
    filters.push(AuditFilter {
        until_ms: Some(middle),
        ..Default::default()
    });
    filters.push(AuditFilter {
        since_ms: Some(middle),
        until_ms: Some(middle + 1),
        wallet: Some("w10".into()),
        ..Default::default()
    });
    for filter in filters {
        let expected: Vec<_> = all
            .iter()
            .filter(|e| filter.matches(e))
            .take(filter.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect();
        assert_eq!(
            ledger.entries(&filter).await.unwrap(),
            expected,
            "{filter:?}"
        );
    }
}

/// Takes three ids through claim, signed and submitted: a trail of 9
/// entries, for the backends' tamper tests.
pub async fn fill_three(ledger: &dyn Ledger) {
    for id in ["x1", "x2", "x3"] {
        let (lease, _, _) = granted(ledger.claim(&subject(id, "ETH"), "a", LONG).await.unwrap());
        ledger
            .record(&lease, Step::Signed(signed(id)))
            .await
            .unwrap();
        ledger
            .record(&lease, Step::Submitted { tx_id: None })
            .await
            .unwrap();
    }
}

/// [`verify`] of the whole trail `ledger` holds, from its anchor.
pub async fn verification(ledger: &dyn Ledger) -> crate::Verification {
    let all = ledger.entries(&AuditFilter::default()).await.unwrap();
    let anchor = ledger.anchor().await.unwrap();
    verify(&all, (anchor.0, &anchor.1))
}

/// Runs every case, each on a fresh ledger from `fresh`.
pub async fn run_all<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Ledger>>,
{
    a_live_claim_is_exclusive(&*fresh().await).await;
    an_expired_claim_is_taken_over_and_fenced(&*fresh().await).await;
    signed_bytes_are_final(&*fresh().await).await;
    a_released_claim_can_be_claimed_at_once(&*fresh().await).await;
    the_same_id_with_another_transaction_conflicts(&*fresh().await).await;
    concurrent_claims_grant_one(fresh().await).await;
    the_trail_records_every_step_in_a_chain(&*fresh().await).await;
    pruning_keeps_the_trail_verifiable(&*fresh().await).await;
    filters_agree_with_matches(&*fresh().await).await;
}
