//! ADA has no signing vector (the original's Cardano SDK could not be
//! installed to record one). The Rosetta flow the original's SDK ran is
//! replayed against a scripted node, and every signature is checked by an
//! independent ed25519 implementation (PyNaCl) against the payload it signs
//! and the payload's address is checked (bip-utils) to be paid to that key.

use std::sync::Mutex;

use async_trait::async_trait;
use kms_chain_signers::{signer, Mnemonic, SignInput};
use kms_core::{ApiError, ApiRequest, Chain, ChainApi, PendingTransaction};
use serde_json::{json, Value};

const MNEMONIC: &str = "evidence attack report captain near hawk project victory common village grass hungry wrestle begin typical torch that slow clown spend dentist tilt rib spray";

/// A Cardano Rosetta node behind the Tatum gateway, scripted: it asks the
/// KMS to sign `payload_hex` for `address`, and records what it was sent.
struct Rosetta {
    address: String,
    payload_hex: String,
    seen: Mutex<Vec<(String, Value)>>,
}

#[async_trait]
impl ChainApi for Rosetta {
    async fn call(&self, request: ApiRequest) -> Result<Value, ApiError> {
        let body = request.body.clone().unwrap_or(Value::Null);
        self.seen
            .lock()
            .unwrap()
            .push((request.path.clone(), body.clone()));
        let step = request
            .path
            .strip_prefix("/v3/blockchain/node/ADA/{apiKey}/construction/")
            .unwrap_or("?");
        Ok(match step {
            "preprocess" => json!({"options": {"relative_ttl": 1000, "transaction_size": 300}}),
            "metadata" => {
                json!({"metadata": {"ttl": "1000", "protocol_parameters": {}}, "suggested_fee": [{"value": "170000"}]})
            }
            "payloads" => json!({
                "unsigned_transaction": "a400818258200000",
                "payloads": [{
                    "account_identifier": {"address": self.address},
                    "hex_bytes": self.payload_hex,
                    "signature_type": "ed25519"
                }]
            }),
            "combine" => {
                json!({"signed_transaction": format!("signed:{}", body["signatures"][0]["hex_bytes"].as_str().unwrap_or(""))})
            }
            _ => {
                return Err(ApiError::Transport {
                    path: request.path,
                    message: "unexpected".into(),
                })
            }
        })
    }
}

const VERIFY: &str = r#"
import hashlib, json, sys
from nacl.signing import VerifyKey
from bip_utils import AdaShelleyAddrDecoder
arg = json.load(sys.stdin)
sig = bytes.fromhex(arg["signature"]); msg = bytes.fromhex(arg["message"]); pub = bytes.fromhex(arg["public"])
VerifyKey(pub).verify(msg, sig)
# bip_utils decodes a base address into payment key hash ‖ stake key hash.
payment = bytes(AdaShelleyAddrDecoder().DecodeAddr(arg["address"]))[:28]
print(json.dumps({"verified": True, "keyHashMatches": payment == hashlib.blake2b(pub, digest_size=28).digest()}))
"#;

#[tokio::test]
async fn rosetta_payloads_are_signed_with_the_addresss_key() {
    let ada = signer(Chain::ADA);
    let mnemonic = Mnemonic::parse(MNEMONIC).unwrap();
    let account = ada.account(false, &mnemonic).unwrap();
    let index = 3;
    let address = account.address(index).unwrap();
    let key = account.private_key(index).unwrap();
    let other = account.private_key(4).unwrap();
    let operations = json!([{
        "operation_identifier": {"index": 0, "network_index": 0}, "type": "input",
        "account": {"address": address},
        "amount": {"value": "-2000000", "currency": {"symbol": "ADA", "decimals": 6}},
        "coin_change": {"coin_identifier": {"identifier": format!("{}:0", "ab".repeat(32))}, "coin_action": "coin_created"}
    }]);
    let pending: PendingTransaction = serde_json::from_value(json!({
        "id": "ada-1", "chain": "ADA", "hashes": ["w"],
        "serializedTransaction": operations.to_string(),
    }))
    .unwrap();
    let node = Rosetta {
        address: address.clone(),
        payload_hex: "5a".repeat(32),
        seen: Mutex::new(vec![]),
    };
    // The key of another address is stored too: the right one must be chosen.
    let keys = [other, key];
    let input = SignInput {
        pending: &pending,
        testnet: false,
        keys: &keys,
        mnemonic: None,
    };
    let prepared = ada.prepare(&input, &node).await.unwrap();
    let signed = ada.sign(&input, &prepared).unwrap();
    let tx_data = ada.submit(signed, &node).await.unwrap();

    let seen = node.seen.lock().unwrap().clone();
    let steps: Vec<&str> = seen
        .iter()
        .map(|(p, _)| p.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(steps, ["preprocess", "metadata", "payloads", "combine"]);
    let network = json!({"blockchain": "cardano", "network": "mainnet"});
    assert_eq!(
        seen[0].1,
        json!({"network_identifier": network, "operations": operations, "metadata": {"relative_ttl": 1000}})
    );
    assert_eq!(seen[1].1["options"]["relative_ttl"], 1000);
    assert_eq!(seen[2].1["operations"], operations);
    assert_eq!(seen[2].1["suggested_fee"][0]["value"], "170000");
    let combine = &seen[3].1;
    assert_eq!(combine["unsigned_transaction"], "a400818258200000");
    let signature = &combine["signatures"][0];
    assert_eq!(signature["signature_type"], "ed25519");
    assert_eq!(signature["public_key"]["curve_type"], "edwards25519");
    assert_eq!(
        tx_data,
        format!("signed:{}", signature["hex_bytes"].as_str().unwrap())
    );

    let Some(python) = kms_test_support::python() else {
        eprintln!("*** python missing: the ADA signature cross-check is SKIPPED ***");
        return;
    };
    let checked = kms_test_support::run_python(
        &python,
        VERIFY,
        &json!({
            "signature": signature["hex_bytes"],
            "message": "5a".repeat(32),
            "public": signature["public_key"]["hex_bytes"],
            "address": address,
        }),
    );
    assert_eq!(checked, json!({"verified": true, "keyHashMatches": true}));
}

#[tokio::test]
async fn a_payload_for_an_unknown_address_is_refused() {
    let ada = signer(Chain::ADA);
    let mnemonic = Mnemonic::parse(MNEMONIC).unwrap();
    let account = ada.account(false, &mnemonic).unwrap();
    let node = Rosetta {
        address: account.address(9).unwrap(),
        payload_hex: "00".repeat(32),
        seen: Mutex::new(vec![]),
    };
    let pending: PendingTransaction = serde_json::from_value(json!({
        "id": "ada-2", "chain": "ADA", "hashes": ["w"], "serializedTransaction": "[{}]",
    }))
    .unwrap();
    let keys = [account.private_key(1).unwrap()];
    let input = SignInput {
        pending: &pending,
        testnet: false,
        keys: &keys,
        mnemonic: None,
    };
    let prepared = ada.prepare(&input, &node).await.unwrap();
    let err = ada.sign(&input, &prepared).unwrap_err().to_string();
    assert!(err.contains("whose key is not among the wallets"), "{err}");

    for bad in ["{}", "[]", "not json"] {
        let pending: PendingTransaction = serde_json::from_value(json!({
            "id": "ada-3", "chain": "ADA", "hashes": ["w"], "serializedTransaction": bad,
        }))
        .unwrap();
        let input = SignInput {
            pending: &pending,
            testnet: false,
            keys: &keys,
            mnemonic: None,
        };
        assert!(
            ada.prepare(&input, &kms_core::OfflineApi).await.is_err(),
            "{bad}"
        );
    }
}
