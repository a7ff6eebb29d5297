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
    let k = Zeroizing::new(rfc6979_nonce(&secret_bytes, message));
    sign_with_nonce(&x, &k, message)
}

/// The signature for a given nonce `k` (non-zero): the spec's steps after
/// nonce generation. Apart from `sign`, only the tests call it, to replay
/// the published vectors, whose nonces come from another scheme.
fn sign_with_nonce(x: &Scalar, k: &Scalar, message: &[u8; 32]) -> [u8; 64] {
    let public = compressed_public_key(x);
    let mut k = Zeroizing::new(*k);
    let nonce_point = (ProjectivePoint::GENERATOR * *k)
        .to_affine()
        .to_encoded_point(false);
    let (Some(r), Some(y)) = (nonce_point.x(), nonce_point.y()) else {
        unreachable!("k is non-zero, so kG is not the point at infinity")
    };
    if !is_quadratic_residue(y) {
        *k = -*k;
    }
    let e = challenge(r, public.as_bytes(), message);
    let s = *k + e * x;

    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(r);
    signature[32..].copy_from_slice(&s.to_bytes());
    signature
}

/// P = xG, SEC1-compressed (33 bytes): the encoding the challenge hashes.
fn compressed_public_key(x: &Scalar) -> k256::EncodedPoint {
    (ProjectivePoint::GENERATOR * x)
        .to_affine()
        .to_encoded_point(true)
}

/// e = sha256(r ‖ compressed P ‖ m) mod n.
fn challenge(r: &FieldBytes, compressed_public: &[u8], message: &[u8; 32]) -> Scalar {
    let mut hasher = Sha256::new();
    hasher.update(r);
    hasher.update(compressed_public);
    hasher.update(message);
    <Scalar as Reduce<U256>>::reduce_bytes(&hasher.finalize())
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

    /// Verification exactly as spec/2019-05-15-schnorr.md lists it (the
    /// numbers are its steps), on k256's point arithmetic. The crate only
    /// signs, so this lives with the tests that check the signer.
    fn verify(public_key: &[u8], message: &[u8; 32], signature: &[u8; 64]) -> bool {
        // 1. P is a point of the curve, not infinity; SEC1 compressed or
        //    uncompressed, as the spec accepts both.
        let Ok(public) = k256::PublicKey::from_sec1_bytes(public_key) else {
            return false;
        };
        // 2. r < p (the field's modulus): from_bytes refuses larger values.
        let r = FieldBytes::clone_from_slice(&signature[..32]);
        if Option::<FieldElement>::from(FieldElement::from_bytes(&r)).is_none() {
            return false;
        }
        // 3. s < n (the group order): from_repr refuses larger values.
        let Some(s) = Option::<Scalar>::from(Scalar::from_repr(FieldBytes::clone_from_slice(
            &signature[32..],
        ))) else {
            return false;
        };
        // 4-6. e over the compressed key, whatever encoding came in.
        let e = challenge(&r, public.to_encoded_point(true).as_bytes(), message);
        // 7. R' = sG - eP.
        let expected_nonce_point = (ProjectivePoint::GENERATOR * s - public.to_projective() * e)
            .to_affine()
            .to_encoded_point(false);
        match (expected_nonce_point.x(), expected_nonce_point.y()) {
            // 9, 10. x(R') = r and y(R') is a square (Jacobi symbol 1).
            (Some(x), Some(y)) => *x == r && is_quadratic_residue(y),
            // 8. R' is the point at infinity.
            _ => false,
        }
    }

    fn public_key(secret: &bitcoin::secp256k1::SecretKey) -> [u8; 33] {
        let x = Scalar::from_repr(FieldBytes::from(secret.secret_bytes())).unwrap();
        compressed_public_key(&x).as_bytes().try_into().unwrap()
    }

    #[test]
    fn signatures_verify_and_are_deterministic() {
        for seed in 1u8..=16 {
            let secret = bitcoin::secp256k1::SecretKey::from_slice(&[seed; 32]).unwrap();
            let message = [seed.wrapping_mul(7); 32];
            let signature = sign(&secret, &message);
            assert_eq!(signature, sign(&secret, &message));
            let public = public_key(&secret);
            assert!(verify(&public, &message, &signature), "seed {seed}");
            let mut tampered = message;
            tampered[0] ^= 1;
            assert!(!verify(&public, &tampered, &signature));
        }
    }

    /// The published vectors: `testdata/bch-schnorr/vectors.json`, the
    /// table the 2019-05-15 specification points to (its source is in the
    /// file).
    fn published_vectors() -> Vec<serde_json::Value> {
        let path = kms_test_support::workspace_root().join("testdata/bch-schnorr/vectors.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        let vectors = file["vectors"].as_array().cloned().unwrap_or_default();
        // The spec's table has 16 rows: 6 valid, 10 invalid. A shorter file
        // would let cases pass unchecked.
        assert_eq!(
            vectors.len(),
            16,
            "{}: every row of the table",
            path.display()
        );
        vectors
    }

    fn bytes<const N: usize>(vector: &serde_json::Value, field: &str) -> [u8; N] {
        let text = vector[field].as_str().unwrap_or_else(|| panic!("{field}"));
        hex::decode(text)
            .unwrap_or_else(|e| panic!("{field}: {e}"))
            .try_into()
            .unwrap_or_else(|_| panic!("{field} is not {N} bytes"))
    }

    /// The test vectors the 2019-05-15 spec points to (the bip-schnorr
    /// draft of early 2019, whose verification BCH adopted unchanged):
    /// each valid signature verifies, each invalid one, broken in its own
    /// way (key off the curve, wrong R residuosity, r ≥ p, s = n, sG - eP
    /// at infinity...), is refused.
    #[test]
    fn published_vectors_verify_as_published() {
        let vectors = published_vectors();
        for vector in &vectors {
            let public = hex::decode(vector["publicKey"].as_str().unwrap()).unwrap();
            let verified = verify(
                &public,
                &bytes(vector, "message"),
                &bytes(vector, "signature"),
            );
            assert_eq!(
                verified,
                vector["valid"].as_bool().unwrap(),
                "vector {} ({})",
                vector["index"],
                vector["comment"]
            );
        }
    }

    /// The vectors with a secret key. Their nonce is that draft's
    /// k = sha256(d ‖ m) mod n; ours is RFC6979 with the "Schnorr+SHA256  "
    /// tag (as Bitcoin ABC and the SDK), so our whole signatures cannot
    /// match theirs. What is comparable: the public key, and every step
    /// after the nonce (R's sign, e, s), replayed with their nonce, byte for
    /// byte. Our own signature of the same message must verify, and differ.
    #[test]
    fn published_signatures_are_reproduced_from_their_nonce() {
        let vectors = published_vectors();
        let mut with_keys = 0;
        for vector in vectors.iter().filter(|v| v["secretKey"].is_string()) {
            with_keys += 1;
            let index = &vector["index"];
            let secret_bytes: [u8; 32] = bytes(vector, "secretKey");
            let message: [u8; 32] = bytes(vector, "message");
            let published: [u8; 64] = bytes(vector, "signature");
            let secret = bitcoin::secp256k1::SecretKey::from_slice(&secret_bytes).unwrap();
            assert_eq!(
                public_key(&secret),
                bytes::<33>(vector, "publicKey"),
                "vector {index}"
            );

            let x = Scalar::from_repr(FieldBytes::from(secret_bytes)).unwrap();
            let mut hasher = Sha256::new();
            hasher.update(secret_bytes);
            hasher.update(message);
            let their_nonce = <Scalar as Reduce<U256>>::reduce_bytes(&hasher.finalize());
            assert_eq!(
                sign_with_nonce(&x, &their_nonce, &message),
                published,
                "vector {index}"
            );

            let ours = sign(&secret, &message);
            assert!(
                verify(&public_key(&secret), &message, &ours),
                "vector {index}"
            );
            assert_ne!(
                ours[..32],
                published[..32],
                "vector {index}: other nonce, other R"
            );
        }
        assert_eq!(with_keys, 3, "the table's three vectors with a secret key");
    }
}
