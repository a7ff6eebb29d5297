//! Stores of 1,000 / 25,000 / 100,000 mnemonic wallets: unlock (the KDF at
//! its default cost), re-read with the key held, look one up, add one (a
//! whole locked, fsynced write).

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

    // How each cost grows with the store: the KDF is the same at every size,
    // the rest is reading, decrypting and parsing (or writing) every wallet.
    for size in [1_000usize, 25_000, 100_000] {
        let path = dir.path().join(format!("{size}.dat"));
        let mut vault = Vault::open(&path, &password, KdfParams::default()).unwrap();
        vault
            .update(|w| {
                for i in 0..size {
                    w.insert_first(format!("00000000-0000-4000-8000-{i:012}"), wallet());
                }
            })
            .unwrap();
        let middle = format!("00000000-0000-4000-8000-{:012}", size / 2);
        let mut group = c.benchmark_group(format!("store of {size} wallets"));
        group.sample_size(10);
        group.bench_function(
            "unlock (argon2id m=256MiB t=3 p=2, read, decrypt, parse)",
            |b| b.iter(|| Vault::open(&path, &password, KdfParams::default()).unwrap()),
        );
        group.bench_function("re-read with the key held (read, decrypt, parse)", |b| {
            b.iter(|| vault.reload().unwrap())
        });
        group.bench_function("lookup by signatureId", |b| {
            b.iter(|| vault.get(std::hint::black_box(&middle)).unwrap().chain())
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
}

criterion_group!(vault_benches, benches);
criterion_main!(vault_benches);
