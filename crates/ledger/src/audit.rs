//! The audit trail: every change to the ledger, in order, each entry
//! carrying the hash of the one before, so that an edited, removed or
//! reordered entry breaks the chain ([`verify`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry ever written.
pub const GENESIS_HASH: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// What an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A replica claimed the id (or took an expired claim over).
    Claimed,
    /// The id came back with another transaction; nothing was signed.
    Conflict,
    /// The approver approved a digest.
    Approved,
    /// The approver refused (or could not be asked).
    Rejected,
    /// Bytes were signed for the id.
    Signed,
    /// Bytes were signed anew for a transaction shown never to land.
    Resigned,
    /// The signed transaction was submitted.
    Submitted,
    /// The attempt failed.
    Failed,
}

impl EntryKind {
    /// The name used in JSON, the database and `--state`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Claimed => "claimed",
            EntryKind::Conflict => "conflict",
            EntryKind::Approved => "approved",
            EntryKind::Rejected => "rejected",
            EntryKind::Signed => "signed",
            EntryKind::Resigned => "resigned",
            EntryKind::Submitted => "submitted",
            EntryKind::Failed => "failed",
        }
    }

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<EntryKind> {
        [
            EntryKind::Claimed,
            EntryKind::Conflict,
            EntryKind::Approved,
            EntryKind::Rejected,
            EntryKind::Signed,
            EntryKind::Resigned,
            EntryKind::Submitted,
            EntryKind::Failed,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}

/// One change, as `tatum-kms audit` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Position in the trail, from 1, without gaps.
    pub seq: u64,
    /// When, in Unix milliseconds (the ledger's clock).
    pub at_ms: i64,
    /// The pending transaction's id.
    pub id: String,
    /// Its chain.
    pub chain: String,
    /// Its network.
    pub network: String,
    /// The wallets whose keys sign it.
    pub wallets: Vec<String>,
    /// The replica that made the change.
    pub replica: String,
    /// What changed.
    pub kind: EntryKind,
    /// The particulars (digest, reason, txId, the bytes signed...).
    pub detail: Value,
    /// The hash of the entry before (or [`GENESIS_HASH`]).
    pub prev_hash: String,
    /// `sha256:` of `prev_hash` and this entry's canonical content.
    pub hash: String,
}

impl AuditEntry {
    /// The hash this entry must carry: SHA-256 over the previous hash and
    /// the canonical JSON (keys sorted, no spaces) of every other field.
    /// Canonical so that a database that reorders JSON keys (PostgreSQL's
    /// `jsonb`) cannot change it.
    pub fn expected_hash(&self) -> String {
        let content = serde_json::json!({
            "seq": self.seq,
            "atMs": self.at_ms,
            "id": self.id,
            "chain": self.chain,
            "network": self.network,
            "wallets": self.wallets,
            "replica": self.replica,
            "kind": self.kind.as_str(),
            "detail": self.detail,
        });
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(canonical_json(&content).as_bytes());
        format!("sha256:{}", hex::encode(hasher.finalize()))
    }

    /// Sets `prev_hash` and `hash` for an entry appended after `prev`.
    pub fn seal(mut self, prev_hash: &str) -> AuditEntry {
        self.prev_hash = prev_hash.to_owned();
        self.hash = self.expected_hash();
        self
    }
}

/// JSON text with object keys sorted at every level and no whitespace.
pub fn canonical_json(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&map[k])))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// Which entries `tatum-kms audit` lists. Every field narrows; the default
/// lists everything.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only this pending id.
    pub id: Option<String>,
    /// Only this chain.
    pub chain: Option<String>,
    /// Only entries naming this wallet.
    pub wallet: Option<String>,
    /// Only this kind.
    pub kind: Option<EntryKind>,
    /// Only at or after this time (Unix ms).
    pub since_ms: Option<i64>,
    /// Only before this time (Unix ms).
    pub until_ms: Option<i64>,
    /// At most this many (the first ones).
    pub limit: Option<usize>,
}

impl AuditFilter {
    /// Whether `entry` passes. Backends may filter in their query; this is
    /// the reference.
    pub fn matches(&self, entry: &AuditEntry) -> bool {
        self.id.as_ref().is_none_or(|id| &entry.id == id)
            && self.chain.as_ref().is_none_or(|c| &entry.chain == c)
            && self
                .wallet
                .as_ref()
                .is_none_or(|w| entry.wallets.iter().any(|x| x == w))
            && self.kind.is_none_or(|k| entry.kind == k)
            && self.since_ms.is_none_or(|t| entry.at_ms >= t)
            && self.until_ms.is_none_or(|t| entry.at_ms < t)
    }
}

/// What [`verify`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every entry carries its hash and links to the one before.
    Intact {
        /// How many entries were checked.
        entries: u64,
        /// The last entry's hash: keep it elsewhere to detect a later
        /// truncation, which no chain can show by itself.
        head: String,
    },
    /// The entry at `seq` does not carry the hash of its content: edited.
    Edited {
        /// Its position.
        seq: u64,
    },
    /// Entries are missing before `seq` (removed, or the chain was cut).
    Missing {
        /// The first entry after the gap.
        seq: u64,
    },
    /// The entry at `seq` does not link to the one before it.
    Unlinked {
        /// Its position.
        seq: u64,
    },
}

impl Verification {
    /// Whether nothing was found wrong.
    pub fn is_intact(&self) -> bool {
        matches!(self, Verification::Intact { .. })
    }
}

/// Checks a whole trail, as listed in order by [`crate::Ledger::entries`]
/// with no filter. `anchor` is where it starts: `(0, GENESIS_HASH)` for a
/// trail never pruned, else the last pruned entry's position and hash.
pub fn verify(entries: &[AuditEntry], anchor: (u64, &str)) -> Verification {
    let (mut seq, mut prev) = (anchor.0, anchor.1.to_owned());
    for entry in entries {
        if entry.seq != seq + 1 {
            return Verification::Missing { seq: entry.seq };
        }
        if entry.hash != entry.expected_hash() {
            return Verification::Edited { seq: entry.seq };
        }
        if entry.prev_hash != prev {
            return Verification::Unlinked { seq: entry.seq };
        }
        seq = entry.seq;
        prev = entry.hash.clone();
    }
    Verification::Intact {
        entries: entries.len() as u64,
        head: prev,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail(n: u64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let e = AuditEntry {
                    seq,
                    at_ms: 1_700_000_000_000 + seq as i64,
                    id: format!("id{seq}"),
                    chain: "ETH".into(),
                    network: "mainnet".into(),
                    wallets: vec!["w".into()],
                    replica: "a".into(),
                    kind: EntryKind::Signed,
                    detail: serde_json::json!({"digest": format!("sha256:{seq}"), "b": 1, "a": 2}),
                    prev_hash: String::new(),
                    hash: String::new(),
                }
                .seal(&prev);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn an_untouched_trail_is_intact() {
        let t = trail(4);
        assert_eq!(
            verify(&t, (0, GENESIS_HASH)),
            Verification::Intact {
                entries: 4,
                head: t[3].hash.clone()
            }
        );
    }

    #[test]
    fn an_edited_entry_is_found() {
        let mut t = trail(4);
        t[2].detail["digest"] = "sha256:other".into();
        assert_eq!(
            verify(&t, (0, GENESIS_HASH)),
            Verification::Edited { seq: 3 }
        );
    }

    #[test]
    fn an_edited_entry_with_its_hash_redone_breaks_the_link() {
        let mut t = trail(4);
        t[1].replica = "b".into();
        t[1].hash = t[1].expected_hash();
        assert_eq!(
            verify(&t, (0, GENESIS_HASH)),
            Verification::Unlinked { seq: 3 }
        );
    }

    #[test]
    fn a_removed_entry_is_found() {
        let mut t = trail(4);
        t.remove(1);
        assert_eq!(
            verify(&t, (0, GENESIS_HASH)),
            Verification::Missing { seq: 3 }
        );
        let mut t = trail(4);
        t.remove(0);
        assert_eq!(
            verify(&t, (0, GENESIS_HASH)),
            Verification::Missing { seq: 2 }
        );
    }

    #[test]
    fn key_order_does_not_change_the_hash() {
        let t = trail(1);
        let mut reordered = t[0].clone();
        reordered.detail = serde_json::from_str(r#"{"a":2,"digest":"sha256:1","b":1}"#).unwrap();
        assert_eq!(reordered.expected_hash(), t[0].hash);
    }
}
