use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A transaction waiting for signatures, as `POST /v3/kms/pending/{chain}`
/// returns it. Unknown fields are kept (and sent on to the approver) because
/// the API adds fields over time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingTransaction {
    pub id: String,
    pub chain: String,
    pub serialized_transaction: String,
    #[serde(default)]
    pub hashes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signatures: Option<Vec<SignatureRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal_responses: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A mnemonic wallet and the index to derive its key at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureRef {
    pub id: String,
    pub index: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_unknown_fields_and_keeps_them() {
        let json = r#"{"id":"a","chain":"ETH","serializedTransaction":"{}","hashes":["h"],"index":3,"newField":1}"#;
        let tx: PendingTransaction = serde_json::from_str(json).unwrap();
        assert_eq!(tx.index, Some(3));
        assert_eq!(tx.extra["newField"], 1);
        let back = serde_json::to_value(&tx).unwrap();
        assert_eq!(back["newField"], 1);
        assert_eq!(back["serializedTransaction"], "{}");
    }
}
