//! The example body in docs/approval.md ("Example body") is what the KMS
//! sends: this test builds it the way the daemon does (prepare with a
//! network that answers the gas price, intent, sign, digest) and compares
//! it with the JSON block of the doc, value for value.

use async_trait::async_trait;
use kms_approval::ApprovalRequest;
use kms_chain_signers::{ApiError, ApiRequest, ChainApi};
use kms_core::{Chain, Network, PendingTransaction, WalletEntry};
use kms_signing::{pipeline, KeySelector, Scope};
use kms_vault::Wallets;
use serde_json::{json, Value};

/// Answers the fee lookup ETH's signer makes, and nothing else.
struct GasPrice;

#[async_trait]
impl ChainApi for GasPrice {
    async fn call(&self, request: ApiRequest) -> Result<Value, ApiError> {
        match request.path.as_str() {
            "/v3/blockchain/fee/ETH" => Ok(json!({"medium": "20000000000"})),
            other => Err(ApiError::BadAnswer {
                path: other.into(),
                message: "not expected by this test".into(),
            }),
        }
    }
}

fn documented_body() -> Value {
    let doc = std::fs::read_to_string(kms_test_support::workspace_root().join("docs/approval.md"))
        .unwrap();
    let section = &doc[doc
        .find("### Example body")
        .expect("an Example body section")..];
    let start = section.find("```json\n").unwrap() + "```json\n".len();
    let end = start + section[start..].find("```").unwrap();
    serde_json::from_str(&section[start..end]).expect("the example is JSON")
}

#[tokio::test]
async fn the_documented_post_body_is_the_one_sent() {
    let documented = documented_body();
    let mut pending_json = documented.clone();
    pending_json.as_object_mut().unwrap().remove("kms");
    let pending: PendingTransaction = serde_json::from_value(pending_json).unwrap();

    let mut wallets = Wallets::default();
    wallets.insert_first(
        "wallet-1".into(),
        WalletEntry::stored(
            WalletEntry::new().with(
                "privateKey",
                "0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603",
            ),
            Chain::ETH,
            Network::Testnet,
        ),
    );
    let scope = Scope::new(Chain::ETH, Network::Testnet, ["wallet-1".into()]);
    let mut keys = KeySelector::new();
    let prepared = pipeline::prepare(&mut keys, &wallets, &scope, &pending, &GasPrice)
        .await
        .unwrap();
    let intent = prepared.intent().unwrap();
    let facts = prepared.facts().0.clone();
    let signed = prepared.sign().unwrap();
    let digest = pipeline::digest(&signed);
    let body = ApprovalRequest {
        pending: &pending,
        prepared: &facts,
        intent: Some(&intent),
        digest: &digest,
    }
    .body()
    .unwrap();
    assert_eq!(
        body,
        documented,
        "docs/approval.md's example body differs from what is sent:\n{}",
        serde_json::to_string_pretty(&body).unwrap()
    );
}
