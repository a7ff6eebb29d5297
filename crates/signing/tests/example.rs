//! The embedding example (`examples/sign_pending.rs`), run as it is for one
//! chain of each key rule: UTXO (every key, de-duplicated), XRP (the
//! wallet's secret), SOL (every key, with a blockhash from the network),
//! and an off-chain withdrawal (the mnemonic). Each must give exactly the
//! original SDK's output of its vector.

#[allow(dead_code)] // its `main` reads the process's arguments; the test calls the rest
#[path = "../examples/sign_pending.rs"]
mod example;

use kms_core::{Network, WalletEntry};
use kms_fake_tatum::FakeTatum;
use kms_vault::{KdfParams, Vault};
use secrecy::SecretString;
use serde_json::Value;

const API_KEY: &str = "example-test-key";

/// A store holding the vector's wallets under the ids its pending
/// transaction names, and the pending transaction in a file beside it.
fn store_for(v: &Value, dir: &std::path::Path) -> (String, String, SecretString) {
    let password = SecretString::from("example password".to_string());
    let path = dir.join("wallet.dat");
    // The cheapest cost the store accepts: the test is about signing.
    let cheap = KdfParams {
        memory_kib: KdfParams::MIN_MEMORY_KIB,
        iterations: KdfParams::MIN_ITERATIONS,
        parallelism: 1,
    };
    let mut vault = Vault::open(&path, &password, cheap).unwrap();
    let pending = &v["pendingTransaction"];
    let chain = v["chain"].as_str().unwrap();
    let network = Network::from_testnet(v["testnet"].as_bool().unwrap());
    let ids = pending["hashes"].as_array().unwrap();
    let keys = v["signingKeys"].as_array().unwrap();
    let mnemonic = kms_test_support::load_vectors("signing.json")["mnemonic"].clone();
    vault
        .update(|w| {
            for (id, key) in ids.iter().zip(keys) {
                let mut fields = WalletEntry::new();
                for name in ["secret", "privateKey"] {
                    if let Some(value) = key.get(name) {
                        fields.insert(name, value.clone());
                    }
                }
                if key.get("privateKey").is_none() && key.get("secret").is_none() {
                    // An off-chain withdrawal signs with the wallet's mnemonic.
                    assert_eq!(key["mnemonic"], "MN1", "the file has one mnemonic");
                    fields.insert("mnemonic", mnemonic.clone());
                }
                let chain = chain.parse().unwrap();
                let id = id.as_str().unwrap().to_string();
                w.insert_first(id, WalletEntry::stored(fields, chain, network));
            }
        })
        .unwrap();
    let pending_path = dir.join("pending.json");
    std::fs::write(&pending_path, pending.to_string()).unwrap();
    (
        path.display().to_string(),
        pending_path.display().to_string(),
        password,
    )
}

fn run(name: &str, online: bool) {
    let file = kms_test_support::load_vectors("signing.json");
    let v = file["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"));
    let dir = tempfile::tempdir().unwrap();
    let (store, pending, password) = store_for(v, dir.path());
    let network = Network::from_testnet(v["testnet"].as_bool().unwrap());
    let fake = online.then(|| {
        let fake = FakeTatum::start(API_KEY);
        fake.add_recorded(&v["sdkRequests"]);
        fake
    });
    let api = fake
        .as_ref()
        .map(|f| (f.url.clone(), SecretString::from(API_KEY.to_string())));
    let signed = example::sign_pending(&store, &pending, &password, network, api)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    // SOL's txData is the transaction id (its first signature), and the
    // wire transaction goes to the node.
    assert_eq!(
        signed.tx_data,
        v["expectedTxData"].as_str().unwrap(),
        "{name}"
    );
    if let Some(wire) = v.get("expectedSignedTransaction") {
        assert_eq!(
            signed.node_submission.as_deref(),
            wire["data"].as_str(),
            "{name}"
        );
    }
}

#[test]
fn utxo_every_key_deduplicated() {
    run("ltc-mainnet-p2pkh-2in", false);
}

#[test]
fn xrp_the_wallets_secret() {
    run("xrp-payment-ed25519", false);
}

#[test]
fn sol_every_key_with_a_blockhash_from_the_network() {
    run("sol-mainnet-transfer", true);
}

#[test]
fn offchain_withdrawal_the_wallets_mnemonic() {
    run("btc-mainnet-offchain-withdrawal", false);
}

#[test]
fn offline_signing_names_the_fact_it_would_need() {
    let file = kms_test_support::load_vectors("signing.json");
    let v = file["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "sol-mainnet-transfer")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, pending, password) = store_for(v, dir.path());
    let err = example::sign_pending(&store, &pending, &password, Network::Mainnet, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("offline: getLatestBlockhash"), "{err}");
}
