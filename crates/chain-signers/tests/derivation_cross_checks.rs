//! Chains the derivation vectors do not cover, checked against independent,
//! well-known implementations from PyPI: solders and bip-utils (SOL),
//! xrpl-py (XRP), stellar-sdk (XLM), py-algorand-sdk (ALGO), eth-account (KCS).

use kms_chain_signers::{signer, Mnemonic};
use kms_core::Chain;
use kms_core::Network;
use secrecy::SecretString;
use serde_json::{json, Value};

const MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

fn fresh_wallets(chain: Chain, n: usize) -> Vec<Value> {
    (0..n)
        .map(|_| {
            serde_json::to_value(
                signer(chain)
                    .generate_wallet(Network::Mainnet, None)
                    .unwrap(),
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn sol_wallets_match_solders_and_bip_utils() {
    let Some(py) = kms_test_support::python() else {
        return;
    };
    let m = Mnemonic::parse(MNEMONIC).unwrap();
    let ours = serde_json::to_value(
        signer(Chain::SOL)
            .generate_wallet(Network::Mainnet, Some(&m))
            .unwrap(),
    )
    .unwrap();
    let fresh = fresh_wallets(Chain::SOL, 3);
    let out = kms_test_support::run_python(
        &py,
        r#"
import json, sys
from bip_utils import Bip39SeedGenerator, Bip44, Bip44Coins, Bip44Changes
from solders.keypair import Keypair
req = json.load(sys.stdin)
seed = Bip39SeedGenerator(req["mnemonic"]).Generate()
node = Bip44.FromSeed(seed, Bip44Coins.SOLANA).Purpose().Coin().Account(0).Change(Bip44Changes.CHAIN_EXT)
kp = Keypair.from_seed(node.PrivateKey().Raw().ToBytes())
fresh = [str(Keypair.from_base58_string(w["privateKey"]).pubkey()) for w in req["fresh"]]
print(json.dumps({"address": node.PublicKey().ToAddress(), "privateKey": str(kp), "solders_address": str(kp.pubkey()), "fresh": fresh}))
"#,
        &json!({"mnemonic": MNEMONIC, "fresh": fresh}),
    );
    assert_eq!(ours["address"], out["address"]);
    assert_eq!(ours["address"], out["solders_address"]);
    assert_eq!(ours["privateKey"], out["privateKey"]);
    assert_eq!(
        ours.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["mnemonic", "address", "privateKey"]
    );
    for (w, addr) in fresh.iter().zip(out["fresh"].as_array().unwrap()) {
        assert_eq!(&w["address"], addr);
    }
}

#[test]
fn xrp_wallets_match_xrpl_py_both_ways() {
    let Some(py) = kms_test_support::python() else {
        return;
    };
    let fresh = fresh_wallets(Chain::XRP, 3);
    let out = kms_test_support::run_python(
        &py,
        r#"
import json, sys
from xrpl.wallet import Wallet
from xrpl.core.keypairs import generate_seed
from xrpl.constants import CryptoAlgorithm
req = json.load(sys.stdin)
ours = [Wallet.from_seed(w["secret"]).classic_address for w in req["fresh"]]
theirs = []
for alg in (CryptoAlgorithm.SECP256K1, CryptoAlgorithm.ED25519):
    for _ in range(3):
        seed = generate_seed(algorithm=alg)
        theirs.append({"seed": seed, "address": Wallet.from_seed(seed, algorithm=alg).classic_address})
print(json.dumps({"ours": ours, "theirs": theirs}))
"#,
        &json!({"fresh": fresh}),
    );
    for (w, addr) in fresh.iter().zip(out["ours"].as_array().unwrap()) {
        assert_eq!(&w["address"], addr);
        assert!(
            w["secret"].as_str().unwrap().starts_with("sEd"),
            "xrpl.js generates ed25519 seeds"
        );
    }
    for t in out["theirs"].as_array().unwrap() {
        let seed = SecretString::from(t["seed"].as_str().unwrap().to_string());
        assert_eq!(
            signer(Chain::XRP)
                .address_from_private_key(Network::Mainnet, &seed)
                .unwrap(),
            t["address"].as_str().unwrap()
        );
    }
}

#[test]
fn xlm_wallets_match_stellar_sdk() {
    let Some(py) = kms_test_support::python() else {
        return;
    };
    let fresh = fresh_wallets(Chain::XLM, 3);
    let out = kms_test_support::run_python(
        &py,
        r#"
import json, sys
from stellar_sdk import Keypair
req = json.load(sys.stdin)
print(json.dumps([Keypair.from_secret(w["secret"]).public_key for w in req]))
"#,
        &json!(fresh),
    );
    for (w, addr) in fresh.iter().zip(out.as_array().unwrap()) {
        assert_eq!(&w["address"], addr);
    }
}

#[test]
fn algo_wallets_match_py_algorand_sdk() {
    let Some(py) = kms_test_support::python() else {
        return;
    };
    let fresh = fresh_wallets(Chain::ALGO, 3);
    let out = kms_test_support::run_python(
        &py,
        r#"
import json, sys, base64
from algosdk import account, mnemonic
req = json.load(sys.stdin)
out = []
for w in req:
    raw = base64.b32decode(w["secret"] + "=" * (-len(w["secret"]) % 8))
    key = base64.b64encode(raw).decode()
    out.append({"address": account.address_from_private_key(key), "mnemonic_ok": mnemonic.to_private_key(mnemonic.from_private_key(key)) == key})
print(json.dumps(out))
"#,
        &json!(fresh),
    );
    for (w, theirs) in fresh.iter().zip(out.as_array().unwrap()) {
        assert_eq!(w["address"], theirs["address"]);
        assert_eq!(w["secret"].as_str().unwrap().len(), 103);
        assert_eq!(theirs["mnemonic_ok"], true);
    }
}

#[test]
fn kcs_keys_match_eth_account() {
    let Some(py) = kms_test_support::python() else {
        return;
    };
    let m = Mnemonic::parse(MNEMONIC).unwrap();
    let account = signer(Chain::KCS)
        .mnemonic_wallets()
        .unwrap()
        .account(Network::Mainnet, &m)
        .unwrap();
    let ours: Vec<String> = (0..3).map(|i| account.address(i).unwrap()).collect();
    let out = kms_test_support::run_python(
        &py,
        r#"
import json, sys
from eth_account import Account
Account.enable_unaudited_hdwallet_features()
req = json.load(sys.stdin)
print(json.dumps([Account.from_mnemonic(req["m"], account_path=f"m/44'/60'/0'/0/{i}").address.lower() for i in range(3)]))
"#,
        &json!({"m": MNEMONIC}),
    );
    assert_eq!(json!(ours), out);
}
