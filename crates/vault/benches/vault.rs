//! Unlock (the KDF at its default cost) and a store of 25,000 wallets:
//! re-read with the key held, look one up, add one (a whole locked, fsynced write).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use kms_core::WalletEntry;
use kms_vault::{KdfParams, Vault};
use secrecy::SecretString;

const MNEMONIC: &str = "evidence attack report captain near hawk project victory common village grass hungry wrestle begin typical torch that slow clown spend dentist tilt rib spray";
const XPUB: &str = "xpub6DmwGqx4WxneLtSDJRX46ShkSTL3u4p6g4dVh2XocT5xNzpX47scVhmBRiHkHMBRUPtGUYDUUzgutn81D3MVqiKUJobCEPy2R2nbGJTfrsb";

fn wallet() -> WalletEntry {
    WalletEntry::new()
        .with("mnemonic", MNEMONIC)
        .with("xpub", XPUB)
        .with("chain", "BTC")
        .with("testnet", false)
}

fn benches(c: &mut Criterion) {
    let password = SecretString::from("bench password".to_string());
    let dir = tempfile::tempdir().unwrap();

    let small = dir.path().join("small.dat");
    Vault::open(&small, &password, KdfParams::default())
        .unwrap()
        .update(|w| w.insert_first("a".into(), wallet()))
        .unwrap();
    let mut group = c.benchmark_group("unlock");
    group.sample_size(10);
    group.bench_function("argon2id m=256MiB t=3 p=2 + decrypt", |b| {
        b.iter(|| Vault::open(&small, &password, KdfParams::default()).unwrap())
    });
    group.finish();

    let big = dir.path().join("big.dat");
    let mut vault = Vault::open(&big, &password, KdfParams::default()).unwrap();
    vault
        .update(|w| {
            for i in 0..25_000 {
                w.insert_first(format!("00000000-0000-4000-8000-{i:012}"), wallet());
            }
        })
        .unwrap();
    let mut group = c.benchmark_group("store of 25,000 wallets");
    group.sample_size(20);
    group.bench_function("open with the key held (read, decrypt, parse)", |b| {
        b.iter(|| vault.reload().unwrap())
    });
    group.bench_function("lookup by signatureId", |b| {
        b.iter(|| {
            vault
                .get(std::hint::black_box("00000000-0000-4000-8000-000000012345"))
                .unwrap()
                .chain_name()
        })
    });
    let mut n = 0u64;
    group.bench_function("add one (locked re-read, encrypt, fsync, rename)", |b| {
        b.iter_batched(
            || {
                n += 1;
                format!("new-{n}")
            },
            |id| vault.update(|w| w.insert_first(id, wallet())).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(vault_benches, benches);
criterion_main!(vault_benches);
