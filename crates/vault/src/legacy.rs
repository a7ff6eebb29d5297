//! The original tatum-kms `wallet.dat`: crypto-js `AES.encrypt(json, password)`.
//!
//! base64( "Salted__" ‖ salt[8] ‖ AES-256-CBC-PKCS7(plaintext) ), key ‖ iv =
//! OpenSSL `EVP_BytesToKey(MD5, 1 iteration, password, salt)`. No
//! authentication: a wrong password is noticed only because the padding, the
//! UTF-8 or the JSON comes out wrong. This module reads that format (and, for
//! tests and fuzzing only, writes it) and nothing else.
//!
//! Crate-internal; public only in fuzzing builds (`--cfg fuzzing`), for the
//! fuzz targets.

#[cfg(any(test, fuzzing))]
use aes::cipher::BlockModeEncrypt;
use aes::cipher::{block_padding::Pkcs7, BlockModeDecrypt, KeyIvInit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::{Digest, Md5};
use zeroize::Zeroizing;

/// The first 8 bytes of the decoded file (OpenSSL's salted format).
pub const MAGIC: &[u8; 8] = b"Salted__";

type Decryptor = cbc::Decryptor<aes::Aes256>;
#[cfg(any(test, fuzzing))]
type Encryptor = cbc::Encryptor<aes::Aes256>;

/// Why a legacy file did not decrypt.
#[derive(Debug, PartialEq, Eq)]
pub enum LegacyError {
    /// Not base64 of a `Salted__` blob: not a legacy wallet file at all.
    NotLegacy,
    /// Padding, UTF-8 or length wrong: the password does not fit.
    WrongPassword,
}

/// Does this file content look like the legacy format (before any key)?
pub fn looks_legacy(content: &[u8]) -> bool {
    split(content).is_ok()
}

fn split(content: &[u8]) -> Result<(Vec<u8>, usize), LegacyError> {
    // crypto-js tolerates a trailing newline; editors add CRLF too, which the
    // original then failed on. Trailing whitespace carries no data: drop it.
    let trimmed = trim_ascii_end(content);
    let raw = STANDARD
        .decode(trimmed)
        .map_err(|_| LegacyError::NotLegacy)?;
    if raw.len() < 16 || &raw[..8] != MAGIC {
        return Err(LegacyError::NotLegacy);
    }
    let body = raw.len() - 16;
    if body == 0 || body % 16 != 0 {
        // A Salted__ blob whose ciphertext is not whole AES blocks was cut short.
        return Err(LegacyError::NotLegacy);
    }
    Ok((raw, 16))
}

fn trim_ascii_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// OpenSSL's EVP_BytesToKey with MD5 and one round: 32 bytes of key, 16 of IV.
fn key_iv(password: &[u8], salt: &[u8]) -> Zeroizing<[u8; 48]> {
    let mut out = Zeroizing::new([0u8; 48]);
    let mut prev: Option<Zeroizing<Vec<u8>>> = None;
    let mut filled = 0;
    while filled < 48 {
        let mut md5 = Md5::new();
        if let Some(p) = &prev {
            md5.update(p.as_slice());
        }
        md5.update(password);
        md5.update(salt);
        let block = Zeroizing::new(md5.finalize().to_vec());
        let take = (48 - filled).min(block.len());
        out[filled..filled + take].copy_from_slice(&block[..take]);
        filled += take;
        prev = Some(block);
    }
    out
}

/// Decrypts a legacy file into its UTF-8 JSON text.
pub fn decrypt(content: &[u8], password: &[u8]) -> Result<Zeroizing<String>, LegacyError> {
    let (raw, offset) = split(content)?;
    let kv = key_iv(password, &raw[8..16]);
    let mut buf = Zeroizing::new(raw[offset..].to_vec());
    let len = Decryptor::new_from_slices(&kv[..32], &kv[32..])
        .map_err(|_| LegacyError::WrongPassword)?
        .decrypt_padded::<Pkcs7>(&mut buf)
        .map_err(|_| LegacyError::WrongPassword)?
        .len();
    buf.truncate(len);
    let text = String::from_utf8(std::mem::take(&mut *buf)).map_err(|e| {
        let mut bytes = e.into_bytes();
        zeroize::Zeroize::zeroize(&mut bytes);
        LegacyError::WrongPassword
    })?;
    Ok(Zeroizing::new(text))
}

/// Encrypts as crypto-js does. Only for tests and the fuzz target's round
/// trip: the store itself never writes the legacy format.
#[cfg(any(test, fuzzing))]
pub fn encrypt(plaintext: &[u8], password: &[u8], salt: [u8; 8]) -> String {
    let kv = key_iv(password, &salt);
    let mut out = Vec::with_capacity(16 + plaintext.len() + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&salt);
    let ct = Encryptor::new_from_slices(&kv[..32], &kv[32..])
        .expect("fixed key and iv sizes")
        .encrypt_padded_vec::<Pkcs7>(plaintext);
    out.extend_from_slice(&ct);
    STANDARD.encode(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_store_vector() {
        // legacy_walletdat.json "empty-object": "{}" under password123, salt 0001..07.
        let file = "U2FsdGVkX18AAQIDBAUGB1ay/g80liPdErKCkTIRhNE=";
        assert_eq!(
            encrypt(b"{}", b"password123", [0, 1, 2, 3, 4, 5, 6, 7]),
            file
        );
        assert_eq!(
            decrypt(file.as_bytes(), b"password123").unwrap().as_str(),
            "{}"
        );
        assert_eq!(
            decrypt(b"not a wallet file", b"x"),
            Err(LegacyError::NotLegacy)
        );
    }

    #[test]
    fn our_encryption_reproduces_every_vector_file() {
        // With the vector's salt, crypto-js's output byte for byte: the reader
        // and the writer agree on the whole format, not only on round trips.
        let vectors = kms_test_support::load_vectors("legacy_walletdat.json");
        for v in vectors["vectors"].as_array().unwrap() {
            let salt: [u8; 8] = hex::decode(v["saltHex"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            let plaintext = v["plaintext"].as_str().unwrap();
            let password = v["password"].as_str().unwrap().as_bytes();
            let file = v["walletDat"].as_str().unwrap();
            assert_eq!(
                encrypt(plaintext.as_bytes(), password, salt),
                file,
                "{}",
                v["name"]
            );
            assert_eq!(
                decrypt(file.as_bytes(), password).unwrap().as_str(),
                plaintext
            );
        }
    }
}
