//! `signpending` against the original SDK's signing vectors: a store holding
//! the vector's keys under the pending transaction's signatureIds, the
//! pending transaction on stdin, `txData` compared byte for byte.

mod common;

use common::{json_of, keys, stderr, wallets_for, Home};
use kms_chain_signers::{signer, Mnemonic};
use kms_core::Chain;
use serde_json::Value;

fn sign(home: &Home, vector: &Value) -> std::process::Output {
    let mut args = vec!["signpending"];
    if vector["testnet"].as_bool().unwrap() {
        args.push("--testnet");
    }
    home.run_with_stdin(&args, &vector["pendingTransaction"].to_string())
}

/// Every signing vector through `signpending`: offline where the original
/// needed nothing from the network, `--online` against the fake Tatum API
/// (answering the vector's recorded requests) where it did; `txData`
/// exactly the original's (CELO's: what the L2 accepts, see
/// `expected_tx_data_today`), and nothing broadcast.
#[test]
fn every_vector_signs_as_the_original() {
    let file = kms_test_support::vectors::signing();
    let mnemonic = &file.mnemonic;
    for vector in &file.vectors {
        let name = vector.name();
        let home = Home::new();
        home.put_wallets(wallets_for(vector, mnemonic));
        let online = !vector["sdkRequests"].as_array().unwrap().is_empty();
        let fake = kms_fake_tatum::FakeTatum::start("signpending-key");
        let out = if online {
            fake.add_recorded(&vector["sdkRequests"]);
            let mut cmd = home.cmd(common::PASSWORD);
            cmd.env("TATUM_API_KEY", "signpending-key")
                .env("TATUM_API_URL", &fake.url)
                .env("TATUM_KMS_VET_NODE_URL", &fake.url)
                .args(["signpending", "--online"]);
            common::output_with_stdin(cmd, &vector["pendingTransaction"].to_string())
        } else {
            sign(&home, vector)
        };
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let signed = json_of(&out);
        let pending = &vector["pendingTransaction"];
        let mut expected_keys = vec!["id", "chain", "txData"];
        if pending.get("withdrawalId").is_some() {
            expected_keys.push("withdrawalId");
        }
        if vector["chain"] == "SOL" {
            // The wire transaction the daemon would send through the node.
            expected_keys.push("signedTransaction");
            assert_eq!(
                signed["signedTransaction"], vector["expectedSignedTransaction"]["data"],
                "{name}"
            );
        }
        assert_eq!(keys(&signed), expected_keys, "{name}");
        assert_eq!(signed["id"], pending["id"], "{name}");
        assert_eq!(signed["chain"], vector["chain"], "{name}");
        assert_eq!(signed["txData"], vector.expected_tx_data_today(), "{name}");
        assert!(fake.broadcasts().is_empty(), "{name}");
        assert!(
            !fake
                .seen()
                .iter()
                .any(|s| s.body["method"] == "sendTransaction"),
            "{name}: signpending must not send"
        );
    }
}

/// Offline signing of a transaction that lacks a network fact names the
/// request it would have needed, and prints nothing on stdout.
#[test]
fn offline_signing_names_what_it_would_fetch() {
    let file = kms_test_support::vectors::signing();
    let mnemonic = &file.mnemonic;
    let vector = file.vector("eth-mainnet-native-legacy-full");
    let home = Home::new();
    home.put_wallets(wallets_for(vector, mnemonic));
    let out = sign(&home, vector);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("offline") && err.contains("eth_chainId"),
        "{err}"
    );

    // Online, the facts come from the (fake) Tatum API, exactly the requests
    // the original made, and nothing is broadcast.
    let fake = kms_fake_tatum::FakeTatum::start("signpending-key");
    fake.add_recorded(&vector["sdkRequests"]);
    let mut cmd = home.cmd(common::PASSWORD);
    cmd.env("TATUM_API_KEY", "signpending-key")
        .env("TATUM_API_URL", &fake.url)
        .args(["signpending", "--online"]);
    let online = common::output_with_stdin(cmd, &vector["pendingTransaction"].to_string());
    assert_eq!(json_of(&online)["txData"], vector["expectedTxData"]);
    assert!(fake.broadcasts().is_empty());
    let asked: Vec<String> = fake.seen().iter().map(|s| s.path.clone()).collect();
    let recorded: Vec<String> = vector
        .recorded_requests()
        .iter()
        .map(|r| r.split_once(' ').unwrap().1.to_string())
        .collect();
    assert_eq!(asked, recorded);
}

/// The original's key-selection errors, naming the signatureIds and what to send.
#[test]
fn wrong_wallet_kind_for_the_request_is_explained() {
    let mnemonic = kms_test_support::vectors::signing().mnemonic;
    let home = Home::new();
    let m = Mnemonic::parse(&mnemonic).unwrap();
    let mnemonic_wallet = signer(Chain::ETH)
        .generate_wallet(kms_core::Network::Mainnet, Some(&m))
        .unwrap()
        .with("chain", "ETH")
        .with("testnet", false);
    home.put_wallets(vec![("mn-wallet".into(), mnemonic_wallet)]);
    let tx = serde_json::json!({
        "id": "tx-1", "chain": "ETH", "hashes": ["mn-wallet"],
        "serializedTransaction": "{\"to\":\"0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee\",\"value\":\"1\"}",
    });
    let out = home.run_with_stdin(&["signpending"], &tx.to_string());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("Wallet mn-wallet is mnemonic based, but KMS transaction tx-1 requires private key based"),
        "{}",
        stderr(&out)
    );

    let tx = serde_json::json!({
        "id": "tx-2", "chain": "BTC", "hashes": ["missing-wallet"],
        "serializedTransaction": "{}",
    });
    let out = home.run_with_stdin(&["signpending", "-"], &tx.to_string());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("No such wallet for signatureId 'missing-wallet'."),
        "{}",
        stderr(&out)
    );

    let out = home.run_with_stdin(&["signpending"], "[{}]");
    assert!(stderr(&out).contains("one at a time"), "{}", stderr(&out));
    let out = home.run_with_stdin(&["signpending"], "{\"id\": 1}");
    assert!(
        stderr(&out).contains("not a pending transaction"),
        "{}",
        stderr(&out)
    );
}
