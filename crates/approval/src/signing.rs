//! The signed mode of the approval call (beyond the original): what is
//! signed, in which headers. Both sides compute HMAC-SHA256 with the shared
//! secret `TATUM_KMS_APPROVAL_SECRET`; `docs/approval.md` has a worked example.
//!
//! Request (KMS → approver), headers `X-Tatum-KMS-Timestamp`,
//! `X-Tatum-KMS-Nonce`, `X-Tatum-KMS-Signature: v1=<hex>` over
//!
//! ```text
//! tatum-kms-approval-request/v1\n{METHOD}\n{path?query}\n{timestamp}\n{nonce}\n{hex sha256(body)}
//! ```
//!
//! Answer (approver → KMS), header `X-Tatum-KMS-Approval: v1=<hex>` over
//!
//! ```text
//! tatum-kms-approval-answer/v1\n{request signature hex}\n{status}
//! ```
//!
//! The answer signs the request's signature, so it is bound to that method,
//! path, body, timestamp and nonce: an answer recorded for another request,
//! or forged without the secret, does not approve.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Request header: the Unix time in seconds when the request was signed.
pub const TIMESTAMP_HEADER: &str = "x-tatum-kms-timestamp";
/// Request header: 16 fresh random bytes in hex, new for every request.
pub const NONCE_HEADER: &str = "x-tatum-kms-nonce";
/// Request header: `v1=` and the hex [`request_signature`].
pub const SIGNATURE_HEADER: &str = "x-tatum-kms-signature";
/// Answer header: `v1=` and the hex signature of the answer, which binds it
/// to the request's signature and the status.
pub const APPROVAL_HEADER: &str = "x-tatum-kms-approval";

fn mac(secret: &SecretString) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length")
}

/// The text the request signature covers.
pub fn request_payload(
    method: &str,
    target: &str,
    timestamp: u64,
    nonce: &str,
    body: &[u8],
) -> String {
    format!(
        "tatum-kms-approval-request/v1\n{method}\n{target}\n{timestamp}\n{nonce}\n{}",
        hex::encode(Sha256::digest(body))
    )
}

/// Hex HMAC of [`request_payload`].
pub fn request_signature(
    secret: &SecretString,
    method: &str,
    target: &str,
    timestamp: u64,
    nonce: &str,
    body: &[u8],
) -> String {
    let mut m = mac(secret);
    m.update(request_payload(method, target, timestamp, nonce, body).as_bytes());
    hex::encode(m.finalize().into_bytes())
}

fn answer_payload(request_signature: &str, status: u16) -> String {
    format!("tatum-kms-approval-answer/v1\n{request_signature}\n{status}")
}

/// Hex HMAC an approver puts in `X-Tatum-KMS-Approval` (after `v1=`).
pub fn approval_signature(secret: &SecretString, request_signature: &str, status: u16) -> String {
    let mut m = mac(secret);
    m.update(answer_payload(request_signature, status).as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// Checks an answer's signature in constant time.
pub fn verify_approval(
    secret: &SecretString,
    request_signature: &str,
    status: u16,
    given_hex: &str,
) -> bool {
    let Ok(given) = hex::decode(given_hex) else {
        return false;
    };
    let mut m = mac(secret);
    m.update(answer_payload(request_signature, status).as_bytes());
    m.verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of docs/approval.md.
    #[test]
    fn documented_example() {
        let secret = SecretString::from("example-shared-secret");
        let sig = request_signature(
            &secret,
            "GET",
            "/kms/3f1c9a0e-1111-4222-8333-944455556666",
            1_764_000_000,
            "00112233445566778899aabbccddeeff",
            b"",
        );
        assert_eq!(sig.len(), 64);
        let answer = approval_signature(&secret, &sig, 200);
        assert!(verify_approval(&secret, &sig, 200, &answer));
        assert!(!verify_approval(&secret, &sig, 201, &answer));
        assert!(!verify_approval(
            &SecretString::from("other"),
            &sig,
            200,
            &answer
        ));
        assert!(!verify_approval(&secret, &sig, 200, "zz"));
        println!("request {sig}\nanswer {answer}");
    }
}
