//! Bitcoin Cash Schnorr signatures (the 2019-05-15 upgrade spec,
//! bitcoincash.org `spec/2019-05-15-schnorr.md`). Not BIP340: the challenge
//! commits to the 33-byte compressed public key, there are no tagged
//! hashes, and the nonce point is made to have a quadratic-residue Y.
//!
//! The nonce is RFC6979 (HMAC-SHA256) with the 16-byte algorithm tag
//! `"Schnorr+SHA256  "` appended to key and message, as Bitcoin ABC and the
//! SDK's bitcoincashjs2-lib derive it, so signatures are deterministic and
//! equal to the SDK's. Curve and scalar arithmetic come from k256.

use hmac::{Hmac, Mac};
use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::elliptic_curve::PrimeField;
use k256::{FieldBytes, FieldElement, ProjectivePoint, Scalar, U256};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

const ALGORITHM_TAG: &[u8; 16] = b"Schnorr+SHA256  ";

/// Signs the 32-byte `message` (a sighash) with `secret` (a valid,
/// non-zero secp256k1 scalar): 64 bytes `r ‖ s`.
pub(super) fn sign(secret: &bitcoin::secp256k1::SecretKey, message: &[u8; 32]) -> [u8; 64] {
    let secret_bytes = Zeroizing::new(secret.secret_bytes());
    let x = Zeroizing::new(
        Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(*secret_bytes)))
            .expect("a secp256k1 SecretKey is in [1, n-1]"),
    );
    let public = (ProjectivePoint::GENERATOR * *x)
        .to_affine()
        .to_encoded_point(true);

    let mut k = Zeroizing::new(rfc6979_nonce(&secret_bytes, message));
    let nonce_point = (ProjectivePoint::GENERATOR * *k)
        .to_affine()
        .to_encoded_point(false);
    let (Some(r), Some(y)) = (nonce_point.x(), nonce_point.y()) else {
        unreachable!("k is non-zero, so kG is not the point at infinity")
    };
    if !is_quadratic_residue(y) {
        *k = -*k;
    }
    let mut hasher = Sha256::new();
    hasher.update(r);
    hasher.update(public.as_bytes());
    hasher.update(message);
    let e = <Scalar as Reduce<U256>>::reduce_bytes(&hasher.finalize());
    let s = *k + e * *x;

    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(r);
    signature[32..].copy_from_slice(&s.to_bytes());
    signature
}

/// Whether a field element (32 bytes, big-endian) is a square mod p, i.e.
/// its Jacobi symbol is 1.
fn is_quadratic_residue(y: &FieldBytes) -> bool {
    Option::<FieldElement>::from(FieldElement::from_bytes(y))
        .is_some_and(|y| bool::from(y.sqrt().is_some()))
}

/// RFC 6979 §3.2 with HMAC-SHA256, qlen = hlen = 256, the message already
/// hashed, and `ALGORITHM_TAG` as the additional data.
fn rfc6979_nonce(secret: &[u8; 32], message: &[u8; 32]) -> Scalar {
    let hmac = |key: &[u8], parts: &[&[u8]]| -> Zeroizing<[u8; 32]> {
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part);
        }
        Zeroizing::new(mac.finalize().into_bytes().into())
    };
    let mut v = Zeroizing::new([1u8; 32]);
    let mut k = Zeroizing::new([0u8; 32]);
    k = hmac(&*k, &[&*v, &[0x00], secret, message, ALGORITHM_TAG]);
    v = hmac(&*k, &[&*v]);
    k = hmac(&*k, &[&*v, &[0x01], secret, message, ALGORITHM_TAG]);
    v = hmac(&*k, &[&*v]);
    loop {
        v = hmac(&*k, &[&*v]);
        let candidate = Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(*v)));
        if let Some(candidate) = candidate.filter(|c| !bool::from(c.is_zero())) {
            return candidate;
        }
        k = hmac(&*k, &[&*v, &[0x00]]);
        v = hmac(&*k, &[&*v]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Verification per the spec, used only to check `sign`.
    fn verify(public: &k256::AffinePoint, message: &[u8; 32], signature: &[u8; 64]) -> bool {
        use k256::elliptic_curve::group::GroupEncoding;
        let r = FieldBytes::clone_from_slice(&signature[..32]);
        let Some(s) = Option::<Scalar>::from(Scalar::from_repr(FieldBytes::clone_from_slice(
            &signature[32..],
        ))) else {
            return false;
        };
        let mut hasher = Sha256::new();
        hasher.update(r);
        hasher.update(public.to_bytes());
        hasher.update(message);
        let e = <Scalar as Reduce<U256>>::reduce_bytes(&hasher.finalize());
        let point = (ProjectivePoint::GENERATOR * s - ProjectivePoint::from(*public) * e)
            .to_affine()
            .to_encoded_point(false);
        match (point.x(), point.y()) {
            (Some(x), Some(y)) => *x == r && is_quadratic_residue(y),
            _ => false,
        }
    }

    #[test]
    fn signatures_verify_and_are_deterministic() {
        for seed in 1u8..=16 {
            let secret = bitcoin::secp256k1::SecretKey::from_slice(&[seed; 32]).unwrap();
            let message = [seed.wrapping_mul(7); 32];
            let signature = sign(&secret, &message);
            assert_eq!(signature, sign(&secret, &message));
            let x = Scalar::from_repr(FieldBytes::from(secret.secret_bytes())).unwrap();
            let public = (ProjectivePoint::GENERATOR * x).to_affine();
            assert!(verify(&public, &message, &signature), "seed {seed}");
            let mut tampered = message;
            tampered[0] ^= 1;
            assert!(!verify(&public, &tampered, &signature));
        }
    }
}
