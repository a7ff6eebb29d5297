//! A wallet.dat of either format: the v2 header and AEAD (under a fixed
//! key), the legacy OpenSSL envelope (under a fixed password), and the JSON
//! map behind both. Any input must give a value or an error, never a panic.
//! And as a plaintext, any input must come back unchanged from both formats
//! (the legacy one only carries UTF-8): the round trips are also how the
//! JSON parser is reached through each decryption.
#![no_main]

use std::sync::OnceLock;

use kms_vault::format::{self, derive_key, DerivedKey, Header, NONCE_LEN, SALT_LEN};
use kms_vault::{legacy, parse_wallets, KdfParams};
use libfuzzer_sys::fuzz_target;

const PASSWORD: &[u8] = b"fuzz password";

const CHEAPEST: KdfParams = KdfParams {
    memory_kib: KdfParams::MIN_MEMORY_KIB,
    iterations: KdfParams::MIN_ITERATIONS,
    parallelism: 1,
};

/// One key for the whole run: the KDF is far too slow to run per input.
fn key() -> &'static DerivedKey {
    static KEY: OnceLock<DerivedKey> = OnceLock::new();
    KEY.get_or_init(|| derive_key(PASSWORD, &[7u8; SALT_LEN], CHEAPEST).expect("valid parameters"))
}

fuzz_target!(|data: &[u8]| {
    if format::is_v2(data) {
        let _ = Header::parse(data);
        if let Ok(plain) = format::open(data, key()) {
            let _ = parse_wallets(&plain);
        }
    }
    if legacy::looks_legacy(data) {
        if let Ok(plain) = legacy::decrypt(data, PASSWORD) {
            let _ = parse_wallets(plain.as_bytes());
        }
    }
    let _ = parse_wallets(data);

    let header = Header {
        kdf: CHEAPEST,
        salt: [7; SALT_LEN],
        nonce: [9; NONCE_LEN],
    };
    let sealed = format::seal(&header, key(), data).expect("sealing never fails");
    let opened = format::open(&sealed, key()).expect("our own v2 file opens");
    assert_eq!(opened.as_slice(), data, "v2 round trip");
    let _ = parse_wallets(&opened);
    if let Ok(text) = std::str::from_utf8(data) {
        let file = legacy::encrypt(data, PASSWORD, [3; 8]);
        let opened = legacy::decrypt(file.as_bytes(), PASSWORD).expect("our own legacy file opens");
        assert_eq!(opened.as_str(), text, "legacy round trip");
        let _ = parse_wallets(opened.as_bytes());
    }
});
