//! The EVM family's (and TRON's) signing vectors (outputs of the original SDK), with the
//! network facts it fetched replayed from the vectors' recorded requests.

use kms_chain_signers::{signer, SignInput, SignerError};
use kms_core::Network;
use kms_core::{ApiError, Chain, PendingTransaction};
use kms_test_support::replay::Replay;
use secrecy::SecretString;
use serde_json::json;

#[tokio::test]
async fn evm_signing_vectors_are_reproduced() {
    let file = kms_test_support::vectors::signing();
    let mut checked = Vec::new();
    for v in file.of_chains(&[
        Chain::ETH,
        Chain::MATIC,
        Chain::BSC,
        Chain::KLAY,
        Chain::XDC,
        Chain::ONE,
        // CELO's vector is Celo's legacy RLP, refused since Celo became an
        // L2: celo_l2.rs checks what it signs to now.
        Chain::TRON,
    ]) {
        let (pending, keys) = (v.pending(), v.keys());
        let input = SignInput {
            pending: &pending,
            network: Network::Mainnet,
            keys: &keys,
            mnemonic: None,
        };
        let api = Replay::new(v.sdk_requests());
        let s = signer(v.chain());
        let prepared = s
            .prepare(&input, &api)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", v.name()));
        let signed = s.sign(&input, &prepared).unwrap();
        assert_eq!(signed.tx_data, v.expected_tx_data(), "{}", v.name());
        checked.push(v.chain());
    }
    assert_eq!(checked.len(), 7, "{checked:?}");
}

#[tokio::test]
async fn offline_signing_names_what_it_would_fetch() {
    let pending: PendingTransaction = serde_json::from_value(json!({
        "id": "x", "chain": "ETH", "hashes": ["h"],
        "serializedTransaction": "{\"to\":\"0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee\",\"value\":\"1\",\"gasPrice\":\"1\",\"gas\":21000,\"nonce\":3}"
    }))
    .unwrap();
    let keys = [SecretString::from(
        "0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603".to_string(),
    )];
    let input = SignInput {
        pending: &pending,
        network: Network::Mainnet,
        keys: &keys,
        mnemonic: None,
    };
    let err = signer(Chain::ETH)
        .prepare(&input, &kms_core::OfflineApi)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SignerError::Api(ApiError::Offline { .. })),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(err.contains("eth_chainId"), "{err}");
    for bad in [
        "{",
        "[]",
        "{\"to\":\"nope\"}",
        "{\"to\":\"0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee\",\"value\":\"-5\"}",
        "{\"gas\":1.5}",
    ] {
        let pending = PendingTransaction {
            serialized_transaction: bad.into(),
            ..pending.clone()
        };
        let input = SignInput {
            pending: &pending,
            network: Network::Mainnet,
            keys: &keys,
            mnemonic: None,
        };
        let err = signer(Chain::ETH)
            .sign(&input, &Default::default())
            .unwrap_err();
        assert!(
            matches!(err, SignerError::InvalidTransaction { .. }),
            "{err:?}"
        );
        let err = err.to_string();
        assert!(err.starts_with("invalid ETH transaction"), "{bad}: {err}");
    }
}

/// Beyond the original: EIP-1559 fields give a type-2 transaction, checked
/// against eth-account signing the same fields, and KCS (no vector) too.
#[test]
fn eip1559_and_kcs_match_eth_account() {
    let Some(py) = kms_test_support::python() else {
        return;
    };
    let key = "0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603";
    let keys = [SecretString::from(key.to_string())];
    let cases = [
        (
            Chain::ETH,
            json!({"to":"0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee","value":"1230000000000000000","gas":21000,"nonce":12,"chainId":1,"maxFeePerGas":"30000000000","maxPriorityFeePerGas":"2000000000","data":"0xa9059cbb"}),
        ),
        (
            Chain::KCS,
            json!({"to":"0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee","value":"5","gas":21000,"nonce":4,"chainId":321,"gasPrice":"1000000000"}),
        ),
    ];
    for (chain, tx) in cases {
        let pending: PendingTransaction = serde_json::from_value(json!({
            "id": "x", "chain": chain.as_str(), "hashes": ["h"], "serializedTransaction": tx.to_string()
        }))
        .unwrap();
        let input = SignInput {
            pending: &pending,
            network: Network::Mainnet,
            keys: &keys,
            mnemonic: None,
        };
        let ours = signer(chain)
            .sign(&input, &Default::default())
            .unwrap()
            .tx_data;
        let out = kms_test_support::run_python(
            &py,
            r#"
import json, sys
from eth_account import Account
req = json.load(sys.stdin)
tx = req["tx"]
from eth_utils import to_checksum_address
fields = {"to": to_checksum_address(tx["to"]), "value": int(tx["value"]), "gas": tx["gas"], "nonce": tx["nonce"], "chainId": tx["chainId"], "data": tx.get("data", "0x")}
if "maxFeePerGas" in tx:
    fields.update({"maxFeePerGas": int(tx["maxFeePerGas"]), "maxPriorityFeePerGas": int(tx["maxPriorityFeePerGas"]), "type": 2})
else:
    fields["gasPrice"] = int(tx["gasPrice"])
signed = Account.sign_transaction(fields, req["key"])
raw = signed.raw_transaction if hasattr(signed, "raw_transaction") else signed.rawTransaction
print(json.dumps({"raw": "0x" + raw.hex().removeprefix("0x"), "sender": Account.recover_transaction(req["ours"])}))
"#,
            &json!({"tx": tx, "key": key, "ours": ours}),
        );
        assert_eq!(ours, out["raw"].as_str().unwrap(), "{chain}");
        assert_eq!(
            out["sender"].as_str().unwrap().to_lowercase(),
            "0x95f70a07007b327fcdf4deb412114432e3ca2636"
        );
    }
}

/// The testnets each EVM chain's network uses today (Sepolia and Hoodi,
/// Amoy, Celo Sepolia, Kairos, ...; the original's Goerli, Mumbai and
/// Alfajores are retired) sign on testnet, and each network refuses the
/// other's chain id.
#[test]
fn current_testnet_ids_sign_and_each_network_refuses_the_others() {
    let keys = [SecretString::from(
        "0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603".to_string(),
    )];
    let cases = [
        (Chain::ETH, 1, 11_155_111),
        (Chain::ETH, 1, 560_048),
        (Chain::MATIC, 137, 80_002),
        (Chain::BSC, 56, 97),
        (Chain::CELO, 42_220, 11_142_220),
        (Chain::KLAY, 8_217, 1_001),
        (Chain::ONE, 1_666_600_000, 1_666_700_000),
        (Chain::XDC, 50, 51),
        (Chain::KCS, 321, 322),
    ];
    for (chain, mainnet_id, testnet_id) in cases {
        let sign = |network: Network, chain_id: u64| {
            let gas_key = if chain == Chain::CELO {
                "gasLimit"
            } else {
                "gas"
            };
            let tx = json!({"to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee", "value": "1",
                gas_key: 21000, "nonce": 1, "gasPrice": "1000000000", "chainId": chain_id});
            let pending: PendingTransaction = serde_json::from_value(json!({
                "id": "x", "chain": chain.as_str(), "hashes": ["h"], "serializedTransaction": tx.to_string()
            }))
            .unwrap();
            let input = SignInput {
                pending: &pending,
                network,
                keys: &keys,
                mnemonic: None,
            };
            signer(chain).sign(&input, &Default::default())
        };
        assert!(
            sign(Network::Testnet, testnet_id).is_ok(),
            "{chain} {testnet_id}"
        );
        assert!(
            sign(Network::Mainnet, mainnet_id).is_ok(),
            "{chain} {mainnet_id}"
        );
        for (network, other) in [
            (Network::Mainnet, testnet_id),
            (Network::Testnet, mainnet_id),
        ] {
            let err = sign(network, other).unwrap_err();
            assert!(
                matches!(&err, SignerError::InvalidTransaction { reason, .. } if reason.contains(&format!("chain id {other} is not"))),
                "{chain} {network} {other}: {err:?}"
            );
        }
    }
}
