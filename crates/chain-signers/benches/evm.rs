//! Signing a legacy (EIP-155) ETH transfer with a key from an Account
//! (child key, hex, parse, RLP, keccak, sign, serialize), beside its two
//! unavoidable costs measured alone: one secp256k1 ECDSA signature of a
//! 32-byte digest with k256 (what alloy signs with) and one non-hardened
//! BIP32 child derivation. The goal is sign / (signature + derivation) <= 2.

use bitcoin::bip32::{ChildNumber, DerivationPath, Xpriv};
use bitcoin::secp256k1::Secp256k1;
use bitcoin::NetworkKind;
use criterion::{criterion_group, criterion_main, Criterion};
use k256::ecdsa::SigningKey;
use kms_chain_signers::{signer, Mnemonic, OfflineApi, SignInput};
use kms_core::Network;
use kms_core::{Chain, PendingTransaction};
use serde_json::json;
use std::hint::black_box;

const MNEMONIC: &str = "evidence attack report captain near hawk project victory common village grass hungry wrestle begin typical torch that slow clown spend dentist tilt rib spray";

fn benches(c: &mut Criterion) {
    let eth = signer(Chain::ETH);
    let mnemonic = Mnemonic::parse(MNEMONIC).unwrap();
    let account = eth
        .mnemonic_wallets()
        .unwrap()
        .account(Network::Mainnet, &mnemonic)
        .unwrap();
    let index = 7;
    let pending: PendingTransaction = serde_json::from_value(json!({
        "id": "bench", "chain": "ETH", "hashes": ["h"], "index": index,
        "serializedTransaction": json!({
            "to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee", "value": "1000000000000000",
            "gasPrice": "20000000000", "gas": 21000, "nonce": 5, "chainId": 1
        }).to_string(),
    }))
    .unwrap();
    // A complete transaction needs nothing from the network.
    let prepared = {
        let keys = [account.private_key(index).unwrap()];
        let input = SignInput {
            pending: &pending,
            network: Network::Mainnet,
            keys: &keys,
            mnemonic: None,
        };
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(eth.prepare(&input, &OfflineApi))
            .unwrap()
    };

    let secp = Secp256k1::new();
    let account_xprv = Xpriv::new_master(NetworkKind::Main, mnemonic.seed())
        .unwrap()
        .derive_priv(&secp, &"m/44'/60'/0'/0".parse::<DerivationPath>().unwrap())
        .unwrap();
    let key = SigningKey::from_slice(&account_xprv.private_key.secret_bytes()).unwrap();
    let digest = [0x5a; 32];

    let mut group = c.benchmark_group("evm");
    group.bench_function("sign legacy ETH tx from Account", |b| {
        b.iter(|| {
            let keys = [account.private_key(black_box(index)).unwrap()];
            let input = SignInput {
                pending: &pending,
                network: Network::Mainnet,
                keys: &keys,
                mnemonic: None,
            };
            eth.sign(&input, &prepared).unwrap()
        })
    });
    group.bench_function("primitive: k256 ECDSA sign (recoverable)", |b| {
        b.iter(|| key.sign_prehash_recoverable(black_box(&digest)).unwrap())
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

criterion_group!(evm, benches);
criterion_main!(evm);
