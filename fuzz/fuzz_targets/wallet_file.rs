//! A wallet.dat of either format: the v2 header and AEAD (under a fixed
//! key), the legacy OpenSSL envelope (under a fixed password), and the JSON
//! map behind both. Any input must give a value or an error, never a panic.
#![no_main]

use std::sync::OnceLock;

use kms_vault::format::{derive_key, DerivedKey, SALT_LEN};
use kms_vault::KdfParams;
use libfuzzer_sys::fuzz_target;

/// One key for the whole run: the KDF is far too slow to run per input.
fn key() -> &'static DerivedKey {
    static KEY: OnceLock<DerivedKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let cheapest = KdfParams {
            memory_kib: KdfParams::MIN_MEMORY_KIB,
            iterations: KdfParams::MIN_ITERATIONS,
            parallelism: 1,
        };
        derive_key(b"fuzz password", &[7u8; SALT_LEN], cheapest).expect("valid parameters")
    })
}

fuzz_target!(|data: &[u8]| {
    if kms_vault::format::is_v2(data) {
        let _ = kms_vault::format::Header::parse(data);
        if let Ok(plain) = kms_vault::format::open(data, key()) {
            let _ = kms_vault::parse_wallets(&plain);
        }
    }
    if kms_vault::legacy::looks_legacy(data) {
        if let Ok(plain) = kms_vault::legacy::decrypt(data, b"fuzz password") {
            let _ = kms_vault::parse_wallets(plain.as_bytes());
        }
    }
    let _ = kms_vault::parse_wallets(data);
});
