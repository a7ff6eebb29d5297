//! What an approval service (or anyone on its path) can send back: the
//! answer's signature header, checked against a request; and the Tatum
//! API's version header.
#![no_main]

use kms_approval::signing::{request_signature, verify_approval};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let secret = SecretString::from("fuzz secret");
    let request = request_signature(&secret, "GET", "/kms/x", 1, "00", b"");
    let status = data.first().map_or(200, |b| 100 + *b as u16);
    let given = text.trim().strip_prefix("v1=").unwrap_or(&text);
    assert!(!verify_approval(&secret, &request, status, given) || given.len() == 64);
    if let Some(notice) = kms_tatum_client::VersionNotice::parse(&text) {
        let _ = kms_tatum_client::is_newer(&notice.latest, "1.2.3");
    }
});
