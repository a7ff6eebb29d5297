//! Signing a one-input BTC P2WPKH transaction with a key from an Account
//! (child key, WIF, parse, match, BIP143, sign, serialize), beside its two
//! unavoidable costs measured alone: one secp256k1 ECDSA signature of a
//! 32-byte digest and one non-hardened BIP32 child derivation. The goal is
//! sign / (signature + derivation) <= 2.

use bitcoin::bip32::{ChildNumber, Xpriv};
use bitcoin::secp256k1::{Message, Secp256k1};
use bitcoin::NetworkKind;
use criterion::{criterion_group, criterion_main, Criterion};
use kms_chain_signers::{signer, Mnemonic, Prepared, SignInput};
use kms_core::Network;
use kms_core::{Chain, PendingTransaction};
use serde_json::json;
use std::hint::black_box;

const MNEMONIC: &str = "evidence attack report captain near hawk project victory common village grass hungry wrestle begin typical torch that slow clown spend dentist tilt rib spray";

/// A bitcore transaction spending a P2WPKH output of `address`.
fn pending(address: &str) -> PendingTransaction {
    let script = address
        .parse::<bitcoin::Address<_>>()
        .unwrap()
        .require_network(bitcoin::Network::Bitcoin)
        .unwrap()
        .script_pubkey();
    let tx = json!({
        "version": 2,
        "inputs": [{
            "prevTxId": "0e827ea56b700ff493002980aa3f196d9cc72c753fbcfc5872dafa27f90b0031",
            "outputIndex": 1,
            "sequenceNumber": 4294967295u32,
            "script": "",
            "output": {"satoshis": 150000, "script": hex::encode(script.as_bytes())}
        }],
        "outputs": [{"satoshis": 148500, "script": "001431cb021bf61109d606d38ccae62e7a3a3528de41"}],
        "nLockTime": 0
    });
    serde_json::from_value(json!({
        "id": "bench",
        "chain": "BTC",
        "serializedTransaction": tx.to_string(),
        "hashes": ["h"],
    }))
    .unwrap()
}

fn benches(c: &mut Criterion) {
    let btc = signer(Chain::BTC);
    let mnemonic = Mnemonic::parse(MNEMONIC).unwrap();
    let account = btc
        .mnemonic_wallets()
        .unwrap()
        .account(Network::Mainnet, &mnemonic)
        .unwrap();
    let index = 7;
    let pending = pending(&account.address(index).unwrap());

    let secp = Secp256k1::new();
    let master = Xpriv::new_master(NetworkKind::Main, mnemonic.seed()).unwrap();
    let account_xprv = master
        .derive_priv(
            &secp,
            &"m/44'/0'/0'/0"
                .parse::<bitcoin::bip32::DerivationPath>()
                .unwrap(),
        )
        .unwrap();
    let digest = Message::from_digest([0x5a; 32]);
    let secret = account_xprv.private_key;

    let mut group = c.benchmark_group("utxo");
    group.bench_function("sign 1-in P2WPKH from Account", |b| {
        b.iter(|| {
            let keys = [account.private_key(black_box(index)).unwrap()];
            let input = SignInput {
                pending: &pending,
                network: Network::Mainnet,
                keys: &keys,
                mnemonic: None,
            };
            btc.sign(&input, &Prepared::default()).unwrap()
        })
    });
    group.bench_function("primitive: secp256k1 ECDSA sign", |b| {
        b.iter(|| secp.sign_ecdsa(black_box(&digest), &secret))
    });
    group.bench_function("primitive: BIP32 normal child", |b| {
        b.iter(|| {
            account_xprv
                .derive_priv(
                    &secp,
                    &[ChildNumber::Normal {
                        index: black_box(index),
                    }],
                )
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(utxo, benches);
criterion_main!(utxo);
