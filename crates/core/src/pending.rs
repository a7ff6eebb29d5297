use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Chain, SignatureId};

/// A transaction waiting for signatures, as `POST /v3/kms/pending/{chain}`
/// returns it. Unknown fields are kept (and sent on to the approver) because
/// the API adds fields over time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingTransaction {
    /// The pending transaction's id, which the broadcast and error reports name.
    pub id: String,
    /// The chain whose keys sign it.
    pub chain: Chain,
    /// The transaction to sign, in the chain's format (mostly JSON text).
    pub serialized_transaction: String,
    /// Wallets whose stored key signs, as stored.
    #[serde(default)]
    pub hashes: Vec<SignatureId>,
    /// For a mnemonic wallet of an account chain: the index to derive the key at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Mnemonic wallets with the index each one's key is derived at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signatures: Option<Vec<SignatureRef>>,
    /// Set for an off-chain (Tatum ledger) withdrawal, broadcast through
    /// `/v3/offchain/withdrawal/broadcast`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal_id: Option<String>,
    /// The off-chain withdrawal's inputs (UTXO chains derive keys from them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal_responses: Option<Value>,
    /// Set by the API once a transaction was broadcast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_id: Option<String>,
    /// Fields this version does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A mnemonic wallet and the index to derive its key at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureRef {
    /// The mnemonic wallet.
    pub id: SignatureId,
    /// The derivation index of the key.
    pub index: u32,
}

/// An entry of a pending list that cannot be signed as it stands (an
/// unknown chain, a missing field): reported on its own, so one bad entry
/// never hides the others.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("pending transaction {}: {reason}", id.as_deref().unwrap_or("without an id"))]
pub struct UnreadablePending {
    /// The entry's `id`, when it has a string one; without it the entry
    /// cannot even be reported back.
    pub id: Option<String>,
    /// Why it cannot be read, for the error report.
    pub reason: String,
}

/// A pending list, read entry by entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PendingBatch {
    /// The entries that are transactions we can work on.
    pub transactions: Vec<PendingTransaction>,
    /// The others, with why.
    pub unreadable: Vec<UnreadablePending>,
}

impl PendingBatch {
    /// Reads every entry of a pending list on its own.
    pub fn from_values(items: Vec<Value>) -> PendingBatch {
        let mut batch = PendingBatch::default();
        for item in items {
            match PendingTransaction::from_value(item) {
                Ok(tx) => batch.transactions.push(tx),
                Err(unreadable) => batch.unreadable.push(unreadable),
            }
        }
        batch
    }
}

impl PendingTransaction {
    /// One pending transaction from JSON text (one object, as an element
    /// of the pending list).
    pub fn from_json(text: &str) -> Result<PendingTransaction, UnreadablePending> {
        let value: Value = serde_json::from_str(text).map_err(|e| UnreadablePending {
            id: None,
            reason: format!("not JSON: {e}"),
        })?;
        if let Value::Array(items) = &value {
            return Err(UnreadablePending {
                id: None,
                reason: format!(
                    "expected one pending transaction (a JSON object), got a list of {}; pass them one at a time (e.g. jq '.[0]')",
                    items.len()
                ),
            });
        }
        PendingTransaction::from_value(value)
    }

    /// One pending transaction from its JSON; an unknown chain is named
    /// with the original's message.
    pub fn from_value(value: Value) -> Result<PendingTransaction, UnreadablePending> {
        let id = value.get("id").and_then(Value::as_str).map(str::to_string);
        if let Some(name) = value.get("chain").and_then(Value::as_str) {
            if let Err(e) = name.parse::<Chain>() {
                return Err(UnreadablePending {
                    id,
                    reason: format!("chain '{}': {}", name.escape_debug(), e.explained()),
                });
            }
        }
        serde_json::from_value(value).map_err(|e| UnreadablePending {
            id,
            reason: format!("not a pending transaction: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerates_unknown_fields_and_keeps_them() {
        let json = r#"{"id":"a","chain":"ETH","serializedTransaction":"{}","hashes":["h"],"index":3,"newField":1}"#;
        let tx: PendingTransaction = serde_json::from_str(json).unwrap();
        assert_eq!(tx.index, Some(3));
        assert_eq!(tx.chain, Chain::ETH);
        assert_eq!(tx.hashes, [SignatureId::from("h")]);
        assert_eq!(tx.extra["newField"], 1);
        let back = serde_json::to_value(&tx).unwrap();
        assert_eq!(back["newField"], 1);
        assert_eq!(back["chain"], "ETH");
        assert_eq!(back["serializedTransaction"], "{}");
    }

    #[test]
    fn a_batch_keeps_the_readable_entries_and_names_the_others() {
        let batch = PendingBatch::from_values(vec![
            json!({"id": "ok", "chain": "BTC", "serializedTransaction": "{}", "hashes": []}),
            json!({"id": "bnb", "chain": "BNB", "serializedTransaction": "{}"}),
            json!({"id": "half", "chain": "ETH"}),
            json!(42),
        ]);
        assert_eq!(batch.transactions.len(), 1);
        assert_eq!(batch.transactions[0].id, "ok");
        let [bnb, half, number] = &batch.unreadable[..] else {
            panic!("{:?}", batch.unreadable)
        };
        assert_eq!(bnb.id.as_deref(), Some("bnb"));
        assert!(
            bnb.reason
                .starts_with("chain 'BNB': Unsupported blockchain. (BNB Beacon Chain"),
            "{}",
            bnb.reason
        );
        assert_eq!(half.id.as_deref(), Some("half"));
        assert!(
            half.reason.contains("serializedTransaction"),
            "{}",
            half.reason
        );
        assert_eq!(number.id, None);
    }
}
