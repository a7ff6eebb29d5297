//! Every BTC, LTC, DOGE and BCH entry of derivation.json (outputs
//! of the original SDK): wallets with their key order, xpub addresses at
//! every listed index (up to 2^31 − 1), private keys, and addresses from
//! private keys. Where the original threw ("Unsupported blockchain.") our
//! natural answer must be the address the xpub gives for the same index.

use kms_chain_signers::{signer, Mnemonic, SignerError};
use kms_core::Chain;
use kms_core::Network;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

const UTXO: [Chain; 4] = [Chain::BTC, Chain::LTC, Chain::DOGE, Chain::BCH];

#[test]
fn every_utxo_derivation_vector_is_reproduced() {
    let file = kms_test_support::vectors::derivation();
    let mut checked = 0;
    let mut top_index_seen = 0;
    for v in file.of_chains(&UTXO) {
        let (chain, testnet) = (v.chain(), v.testnet());
        let label = format!("{chain} testnet={testnet}");
        let mnemonic = &Mnemonic::parse(&v.mnemonic).unwrap();
        let s = signer(chain);

        let wallet = s
            .generate_wallet(Network::from_testnet(testnet), Some(mnemonic))
            .unwrap();
        assert_eq!(
            serde_json::to_string(&wallet).unwrap(),
            serde_json::to_string(&v["wallet"]).unwrap(),
            "{label}: wallet {{mnemonic, xpub}} in this order"
        );
        let xpub = v["wallet"]["xpub"].as_str().unwrap();
        let account = s
            .mnemonic_wallets()
            .unwrap()
            .account(Network::from_testnet(testnet), mnemonic)
            .unwrap();
        for (index, expected) in v["addresses"].as_object().unwrap() {
            let index: u32 = index.parse().unwrap();
            if index == 2_147_483_647 {
                top_index_seen += 1;
            }
            let expected = expected.as_str().unwrap();
            assert_eq!(
                s.xpub_addresses()
                    .unwrap()
                    .address_from_xpub(Network::from_testnet(testnet), xpub, index)
                    .unwrap(),
                expected,
                "{label}: address {index}"
            );
            assert_eq!(
                account.address(index).unwrap(),
                expected,
                "{label}: account address {index}"
            );
        }
        for (index, expected) in v["privateKeys"].as_object().unwrap() {
            let index: u32 = index.parse().unwrap();
            let key = account.private_key(index).unwrap();
            assert_eq!(
                key.expose_secret(),
                expected.as_str().unwrap(),
                "{label}: key {index}"
            );
            let from_key = s
                .address_from_private_key(Network::from_testnet(testnet), &key)
                .unwrap();
            match &v["addressFromPrivateKey"][index.to_string()] {
                Value::String(expected) => {
                    assert_eq!(&from_key, expected, "{label}: address of key {index}")
                }
                // The original threw; ours must agree with the xpub's address
                // (all of these chains' xpub addresses are P2PKH).
                Value::Object(e) if e.contains_key("error") => assert_eq!(
                    from_key,
                    s.xpub_addresses()
                        .unwrap()
                        .address_from_xpub(Network::from_testnet(testnet), xpub, index)
                        .unwrap(),
                    "{label}: address of key {index}"
                ),
                Value::Null => {}
                other => panic!("{label}: unexpected addressFromPrivateKey {other}"),
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 8, "BTC, LTC, DOGE, BCH on both networks");
    assert_eq!(
        top_index_seen, 8,
        "index 2^31 - 1 is covered for every vector"
    );
}

#[test]
fn keys_of_the_other_network_or_chain_are_refused_by_name() {
    let file = kms_test_support::vectors::derivation();
    let ltc_mainnet = file.find(Chain::LTC, false);
    let key = SecretString::from(
        ltc_mainnet["privateKeys"]["0"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    let ltc = signer(Chain::LTC);
    let err = ltc
        .address_from_private_key(Network::Testnet, &key)
        .unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidPrivateKey { .. }),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(err.contains("mainnet key"), "{err}");
    let err = signer(Chain::DOGE)
        .address_from_private_key(Network::Mainnet, &key)
        .unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidPrivateKey { .. }),
        "{err}"
    );
    assert!(!err.to_string().contains(key.expose_secret()));
    // An index past 2^31 - 1 is refused, not wrapped into a hardened child.
    let mnemonic = Mnemonic::parse(&file.mnemonics[0]).unwrap();
    let account = signer(Chain::BTC)
        .mnemonic_wallets()
        .unwrap()
        .account(Network::Mainnet, &mnemonic)
        .unwrap();
    let err = account.address(2_147_483_648).unwrap_err();
    assert!(matches!(err, SignerError::InvalidIndex(_)), "{err:?}");
    let err = account.private_key(2_147_483_648).unwrap_err();
    assert!(matches!(err, SignerError::InvalidIndex(_)), "{err:?}");
}
