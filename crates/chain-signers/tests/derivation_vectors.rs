//! Every entry of testdata/vectors/derivation.json (outputs of the original
//! SDK) reproduced exactly: wallets (with key order), addresses at every
//! index including 2^31−1, private keys, addresses from private keys.

use kms_chain_signers::{signer, Mnemonic, SignerError};
use kms_core::Chain;
use kms_core::Network;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// Chains whose derivation the vectors cover (SOL, XRP, XLM, ALGO are
/// checked against independent libraries instead).
const BUILT: &[Chain] = &[
    Chain::EGLD,
    Chain::ADA,
    Chain::BTC,
    Chain::LTC,
    Chain::DOGE,
    Chain::BCH,
    Chain::ETH,
    Chain::MATIC,
    Chain::BSC,
    Chain::CELO,
    Chain::KLAY,
    Chain::ONE,
    Chain::XDC,
    Chain::KCS,
    Chain::VET,
    Chain::TRON,
    Chain::FLOW,
];

#[test]
fn derivation_vectors_are_reproduced() {
    let file = kms_test_support::vectors::derivation();
    let mut checked = 0;
    for v in file.of_chains(BUILT) {
        let (chain, testnet) = (v.chain(), v.testnet());
        let label = v.label();
        let mnemonic = &Mnemonic::parse(&v.mnemonic).unwrap();
        let s = signer(chain);

        let wallet = s
            .generate_wallet(Network::from_testnet(testnet), Some(mnemonic))
            .unwrap();
        assert_eq!(
            serde_json::to_string(&wallet).unwrap(),
            serde_json::to_string(&v["wallet"]).unwrap(),
            "{label}: wallet (fields and their order)"
        );

        let account = s
            .mnemonic_wallets()
            .unwrap()
            .account(Network::from_testnet(testnet), mnemonic)
            .unwrap();
        for (index, expected) in v["addresses"].as_object().unwrap() {
            let index: u32 = index.parse().unwrap();
            // EGLD has no xpub: the original passes the mnemonic instead.
            let xpub = v["wallet"]["xpub"].as_str().unwrap_or(mnemonic.phrase());
            assert_eq!(
                &s.xpub_addresses()
                    .unwrap()
                    .address_from_xpub(Network::from_testnet(testnet), xpub, index)
                    .unwrap(),
                expected,
                "{label}: address {index}"
            );
            assert_eq!(
                &account.address(index).unwrap(),
                expected,
                "{label}: account address {index}"
            );
        }
        for (index, expected) in v["privateKeys"].as_object().unwrap() {
            let key = account.private_key(index.parse().unwrap()).unwrap();
            assert_eq!(
                key.expose_secret(),
                expected.as_str().unwrap(),
                "{label}: private key {index}"
            );
        }
        if let Some(from_keys) = v["addressFromPrivateKey"].as_object() {
            for (index, expected) in from_keys {
                let Value::String(expected) = expected else {
                    continue;
                }; // the original threw
                let key = SecretString::from(v["privateKeys"][index].as_str().unwrap().to_string());
                assert_eq!(
                    &s.address_from_private_key(Network::from_testnet(testnet), &key)
                        .unwrap(),
                    expected,
                    "{label}: address of key {index}"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} vectors checked");
}

#[test]
fn flow_private_keys_keep_the_originals_unpadded_hex() {
    let file = kms_test_support::vectors::derivation();
    for (mnemonic, example) in file.flow_unpadded_key_examples() {
        let mnemonic = Mnemonic::parse(&mnemonic).unwrap();
        let account = signer(Chain::FLOW)
            .mnemonic_wallets()
            .unwrap()
            .account(Network::Mainnet, &mnemonic)
            .unwrap();
        let index = example["index"].as_u64().unwrap() as u32;
        assert_eq!(
            account.private_key(index).unwrap().expose_secret(),
            example["privateKey"].as_str().unwrap()
        );
        assert_eq!(
            account.address(index).unwrap(),
            example["publicKey"].as_str().unwrap()
        );
    }
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let btc = signer(Chain::BTC);
    let eth = signer(Chain::ETH);
    let wif_mainnet =
        SecretString::from("L4p2b9VAf8k5aUahF1JCJUzZkgNEAqLfq8DDdQiyAprQAKSbu8hf".to_string());
    let err = btc
        .address_from_private_key(Network::Testnet, &wif_mainnet)
        .unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidPrivateKey { .. }),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(err.contains("mainnet key"), "{err}");
    assert!(
        !err.contains("L4p2b9"),
        "an error must not echo the key: {err}"
    );
    for bad in [
        "0x12",
        "zz",
        "",
        "0x0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let key = SecretString::from(bad.to_string());
        let err = eth
            .address_from_private_key(Network::Mainnet, &key)
            .expect_err(&format!("{bad:?} accepted"));
        assert!(
            matches!(err, SignerError::InvalidPrivateKey { .. }),
            "{bad:?}: {err:?}"
        );
    }
    let short = SecretString::from(
        "0x1ab42cc412b618bdea3a599e3c9bae199ebf030895b039e9db1e30dafb12b727".to_string(),
    );
    assert_eq!(
        eth.address_from_private_key(Network::Mainnet, &short)
            .unwrap(),
        "0x9858effd232b4033e47d90003d41ec34ecaeda94"
    );
    let err = btc
        .xpub_addresses()
        .unwrap()
        .address_from_xpub(Network::Mainnet, "xpub-not-really", 0)
        .unwrap_err();
    assert!(matches!(err, SignerError::InvalidXpub { .. }), "{err:?}");
    // A testnet xpub handed to mainnet: named, not silently mis-derived.
    let tpub = "tpubDEQBfiy13hMZzGT4NYqNnWntG7eHiiJTxRKtaqcmbzsR8CyeZ3LiKCrQggJt5JXCbDpm6Tbdzx9SRQqSYaLjfBJkvmaoifsy8o9RhLKmqeY";
    let err = btc
        .xpub_addresses()
        .unwrap()
        .address_from_xpub(Network::Mainnet, tpub, 0)
        .unwrap_err();
    assert!(matches!(err, SignerError::InvalidXpub { .. }), "{err:?}");
    for bad in ["2147483648", "-1"] {
        let err = kms_chain_signers::parse_index(bad).unwrap_err();
        assert!(
            matches!(&err, SignerError::InvalidIndex(i) if i == bad),
            "{err:?}"
        );
    }
    assert_eq!(
        kms_chain_signers::parse_index("2147483647").unwrap(),
        2147483647
    );
}
