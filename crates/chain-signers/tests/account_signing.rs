//! The signing vectors of VET, XRP, XLM, ALGO, SOL and EGLD (outputs of the
//! original SDK), with the network facts it fetched replayed from the
//! vectors' recorded requests: same requests, in the same order, and exactly
//! the `txData` the original handed to the Tatum API.

use kms_chain_signers::{signer, SignInput, SignerError, Submitted};
use kms_core::Chain;
use kms_core::Network;
use kms_test_support::replay::Replay;
use kms_test_support::vectors::{signing_vector, SigningVector};
use serde_json::Value;

/// Signs a vector as the daemon does (prepare, sign, submit) and returns
/// what would be posted to the broadcast endpoint, and the requests made.
async fn sign_vector(v: &SigningVector) -> (String, Vec<String>) {
    let (pending, keys) = (v.pending(), v.keys());
    let input = SignInput {
        pending: &pending,
        network: Network::from_testnet(v.testnet()),
        keys: &keys,
        mnemonic: None,
    };
    let api = Replay::new(v.sdk_requests());
    let s = signer(v.chain());
    let name = v.name();
    let prepared = s
        .prepare(&input, &api)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let signed = s
        .sign(&input, &prepared)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let Submitted::TxData(tx_data) = s
        .submit(signed, &api)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
    else {
        panic!("{name}: goes to the broadcast endpoint")
    };
    (tx_data, api.asked())
}

async fn check(name: &str) {
    let v = signing_vector(name);
    let (tx_data, asked) = sign_vector(&v).await;
    assert_eq!(tx_data, v.expected_tx_data(), "{name}");
    assert_eq!(asked, v.recorded_requests(), "{name}: requests");
}

#[tokio::test]
async fn vet_as_the_original() {
    check("vet-mainnet-native").await;
}

#[tokio::test]
async fn xrp_as_the_original() {
    check("xrp-payment-ed25519").await;
}

#[tokio::test]
async fn xlm_as_the_original() {
    check("xlm-mainnet-payment").await;
}

#[tokio::test]
async fn algo_as_the_original() {
    check("algo-mainnet-payment").await;
}

/// algosdk writes byte strings as `{"0": b0, "1": b1, …}`; the order of the
/// keys must not matter, and a key that is not an index is refused, not
/// guessed at.
#[tokio::test]
async fn algo_byte_objects_in_any_key_order_and_malformed_ones_refused() {
    let v = signing_vector("algo-mainnet-payment");
    let tx: Value = serde_json::from_str(
        v["pendingTransaction"]["serializedTransaction"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    type Edit = fn(&mut serde_json::Map<String, Value>);
    let with_public_key = |edit: Edit| {
        let mut tx = tx.clone();
        edit(tx["from"]["publicKey"].as_object_mut().unwrap());
        let mut v = v.clone();
        v["pendingTransaction"]["serializedTransaction"] = Value::String(tx.to_string());
        v
    };

    let reversed = with_public_key(|key| {
        let entries: Vec<_> = std::mem::take(key).into_iter().rev().collect();
        key.extend(entries);
    });
    let (tx_data, _) = sign_vector(&reversed).await;
    assert_eq!(tx_data, v.expected_tx_data());

    let malformed: [(Edit, &str); 3] = [
        (
            |k| {
                let b = k.remove("1").unwrap();
                k.insert("01".into(), b);
            },
            "'01' is not a byte index",
        ),
        (
            |k| {
                let b = k.remove("5").unwrap();
                k.insert("32".into(), b);
            },
            "'32' is not a byte index",
        ),
        (
            |k| {
                k.remove("31");
            },
            "not 32 bytes",
        ),
    ];
    for (edit, expected) in malformed {
        let edited = with_public_key(edit);
        let (pending, keys) = (edited.pending(), edited.keys());
        let input = SignInput {
            pending: &pending,
            network: Network::Mainnet,
            keys: &keys,
            mnemonic: None,
        };
        let err = signer(Chain::ALGO)
            .sign(&input, &Default::default())
            .expect_err("a malformed byte object must be refused");
        assert!(
            matches!(err, SignerError::InvalidTransaction { .. }),
            "{err:?}"
        );
        let err = err.to_string();
        assert!(err.contains(expected), "{err}");
    }
}

#[tokio::test]
async fn sol_as_the_original() {
    check("sol-mainnet-transfer").await;
}

#[tokio::test]
async fn egld_as_the_original() {
    check("egld-mainnet-transfer").await;
}

/// SOL and EGLD again, checked by independent libraries rather than by the
/// vectors: solders parses our wire transaction and verifies its
/// signatures; PyNaCl verifies the EGLD signature over erdjs' signing payload.
#[tokio::test]
async fn sol_and_egld_signatures_verify_independently() {
    let Some(python) = kms_test_support::python() else {
        eprintln!("*** python missing: the SOL/EGLD cross-checks are SKIPPED ***");
        return;
    };
    let v = signing_vector("sol-mainnet-transfer");
    let (pending, keys) = (v.pending(), v.keys());
    let input = SignInput {
        pending: &pending,
        network: Network::Mainnet,
        keys: &keys,
        mnemonic: None,
    };
    let s = signer(Chain::SOL);
    let prepared = s
        .prepare(&input, &Replay::new(v.sdk_requests()))
        .await
        .unwrap();
    let signed = s.sign(&input, &prepared).unwrap();
    let checked = kms_test_support::run_python(
        &python,
        r#"
import base64, json, sys
from solders.transaction import Transaction
arg = json.load(sys.stdin)
tx = Transaction.from_bytes(base64.b64decode(arg["wire"]))
print(json.dumps({"verified": tx.verify_with_results() == [True] * len(tx.signatures),
                  "id": str(tx.signatures[0]), "blockhash": str(tx.message.recent_blockhash)}))
"#,
        &serde_json::json!({"wire": signed.node_submission}),
    );
    assert_eq!(checked["verified"], true, "{checked}");
    assert_eq!(checked["id"], signed.tx_data.as_str());
    assert_eq!(
        checked["blockhash"],
        "J85sBqpxD2mjiHy8BE17oT7Y6q3HdFLVKrNaWCsNwCt3"
    );

    let v = signing_vector("egld-mainnet-transfer");
    let (tx_data, _) = sign_vector(&v).await;
    let checked = kms_test_support::run_python(
        &python,
        r#"
import json, sys
from bip_utils import Bech32Decoder
arg = json.load(sys.stdin)
tx = json.loads(arg["tx"])
sig = bytes.fromhex(tx.pop("signature"))
payload = json.dumps(tx, separators=(",", ":")).encode()
pub = Bech32Decoder.Decode("erd", tx["sender"])
from nacl.signing import VerifyKey
VerifyKey(pub).verify(payload, sig)
print(json.dumps({"verified": True}))
"#,
        &serde_json::json!({"tx": tx_data}),
    );
    assert_eq!(checked["verified"], true);
}
