//! A wallet.dat of either format: the v2 header and AEAD (under a fixed
//! key), the legacy OpenSSL envelope (under a fixed password), and the JSON
//! map behind both. Any input must give a value or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if kms_vault::format::is_v2(data) {
        let _ = kms_vault::format::Header::parse(data);
        let key = zeroize::Zeroizing::new([7u8; 32]);
        if let Ok(plain) = kms_vault::format::open(data, &key) {
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
