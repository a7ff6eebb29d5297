//! Wallets the original stored under a token name (`"chain": "USDT"`): it
//! stored the currency the user typed, and its SDK derived the wallet on a
//! chain's path. `getaddress`, `getprivatekey` and `getmanagedwallet` answer
//! for them as for the same wallet stored under that chain's name.

mod common;

use common::{json_of, Home};
use kms_chain_signers::{signer, Mnemonic};
use kms_core::{Chain, Network, WalletEntry};

const MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

/// The wallet the original's SDK generated on `derived_on`'s path, stored
/// with `stored_as` in its `chain` field.
fn wallet(derived_on: Chain, stored_as: &str) -> WalletEntry {
    let mnemonic = Mnemonic::parse(MNEMONIC).unwrap();
    signer(derived_on)
        .generate_wallet(Network::Mainnet, Some(&mnemonic))
        .unwrap()
        .with("chain", stored_as)
        .with("testnet", false)
}

#[test]
fn token_named_wallets_answer_as_the_chain_that_derived_them() {
    let cases = [
        ("USDT", Chain::ETH),
        ("USDT_BSC", Chain::BSC),
        ("USDC_MATIC", Chain::MATIC),
        ("GAMEE", Chain::ETH), // a Polygon token the SDK derived on the ETH path
        ("USDT_TRON", Chain::TRON),
        ("CUSD", Chain::CELO),
    ];
    let home = Home::new();
    let mut wallets = Vec::new();
    for (token, chain) in cases {
        wallets.push((format!("token-{token}"), wallet(chain, token)));
        wallets.push((format!("chain-{token}"), wallet(chain, chain.as_str())));
    }
    home.put_wallets(wallets);
    for (token, chain) in cases {
        for index in ["0", "7"] {
            for command in ["getaddress", "getprivatekey"] {
                let by_token = home.json(&[command, &format!("token-{token}"), index]);
                let by_chain = home.json(&[command, &format!("chain-{token}"), index]);
                assert_eq!(by_token, by_chain, "{command} {token} ({chain}) at {index}");
            }
        }
        // As stored: the original's getmanagedwallet printed the object.
        let stored = home.json(&["getmanagedwallet", &format!("token-{token}")]);
        assert_eq!(stored["chain"], token);
    }
    // The path matters: a Polygon-path key is not the ETH-path key, so
    // USDC_MATIC is not merely "some EVM chain".
    let matic = home.json(&["getprivatekey", "token-USDC_MATIC", "0"]);
    let eth = home.json(&["getprivatekey", "token-USDT", "0"]);
    assert_ne!(matic, eth);
}

#[test]
fn an_unknown_stored_name_is_still_refused_naming_it() {
    let home = Home::new();
    home.put_wallets(vec![("odd".into(), wallet(Chain::ETH, "NOTACOIN"))]);
    let out = home.run(&["getprivatekey", "odd", "0"]);
    assert_eq!(out.status.code(), Some(1));
    let err = common::stderr(&out);
    assert!(err.contains("NOTACOIN"), "{err}");
    // The same wallet under a known name answers.
    home.put_wallets(vec![("known".into(), wallet(Chain::ETH, "USDT"))]);
    json_of(&home.run(&["getprivatekey", "known", "0"]));
}
