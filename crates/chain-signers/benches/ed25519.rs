//! Signing a SOL transfer (parse the message, compile it again with the
//! blockhash, parse the stored key, sign, encode the wire transaction)
//! beside the raw primitive: one ed25519-dalek signature of the same message.

use criterion::{criterion_group, criterion_main, Criterion};
use ed25519_dalek::Signer as _;
use kms_chain_signers::{signer, Prepared, SignInput};
use kms_core::Chain;
use kms_core::Network;
use secrecy::SecretString;
use serde_json::json;
use std::hint::black_box;

fn benches(c: &mut Criterion) {
    let v = kms_test_support::vectors::signing_vector("sol-mainnet-transfer");
    let pending = v.pending();
    let key_text = v["signingKeys"][0]["privateKey"]
        .as_str()
        .unwrap()
        .to_string();
    let keys = [SecretString::from(key_text.clone())];
    let mut facts = serde_json::Map::new();
    facts.insert(
        "blockhash".into(),
        json!(v["expectedSignedTransaction"]["recentBlockhash"]),
    );
    let prepared = Prepared(facts);
    let sol = signer(Chain::SOL);

    let pair: [u8; 64] = bs58::decode(&key_text)
        .into_vec()
        .unwrap()
        .try_into()
        .unwrap();
    let key = ed25519_dalek::SigningKey::from_keypair_bytes(&pair).unwrap();
    let message = hex::decode(
        v["expectedSignedTransaction"]["signedMessageHex"]
            .as_str()
            .unwrap(),
    )
    .unwrap();

    let mut group = c.benchmark_group("ed25519");
    group.bench_function("sign SOL transfer from a stored key", |b| {
        b.iter(|| {
            let input = SignInput {
                pending: &pending,
                network: Network::Mainnet,
                keys: &keys,
                mnemonic: None,
            };
            sol.sign(black_box(&input), &prepared).unwrap()
        })
    });
    group.bench_function("primitive: ed25519 sign of the message", |b| {
        b.iter(|| key.sign(black_box(&message)))
    });
    group.finish();
}

criterion_group!(ed25519, benches);
criterion_main!(ed25519);
