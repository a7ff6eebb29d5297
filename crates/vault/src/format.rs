//! The v2 `wallet.dat` format: parses and writes it, nothing else.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "TKMSVLT\0"
//!      8     1  format version = 2
//!      9     1  KDF id: 1 = Argon2id (v0x13)
//!     10     4  Argon2 memory in KiB, u32 little-endian
//!     14     4  Argon2 iterations, u32 LE
//!     18     4  Argon2 parallelism, u32 LE
//!     22    16  salt
//!     38    24  XChaCha20-Poly1305 nonce
//!     62     …  ciphertext ‖ 16-byte tag, of the wallets' JSON (UTF-8)
//! ```
//! The 62 header bytes are the AEAD's associated data: changing any byte of
//! the file makes it fail to open. See docs/wallet-format.md.

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::{KdfParams, VaultError};

pub const MAGIC: &[u8; 8] = b"TKMSVLT\0";
pub const VERSION: u8 = 2;
pub const KDF_ARGON2ID: u8 = 1;
pub const SALT_LEN: usize = 16;
pub const NONCE_LEN: usize = 24;
pub const HEADER_LEN: usize = 8 + 1 + 1 + 12 + SALT_LEN + NONCE_LEN;
const TAG_LEN: usize = 16;

/// The parsed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub kdf: KdfParams,
    pub salt: [u8; SALT_LEN],
    pub nonce: [u8; NONCE_LEN],
}

/// The 32-byte key derived from the password (Argon2id over the salt).
/// The file key Argon2id derives from the password. A newtype rather than
/// `Zeroizing<[u8; 32]>` itself because that one derives `Debug` and would
/// print the key: this has no `Debug`, so no log line can carry it.
#[derive(Clone)]
pub struct DerivedKey(Zeroizing<[u8; 32]>);

pub fn is_v2(content: &[u8]) -> bool {
    content.starts_with(MAGIC)
}

impl Header {
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..8].copy_from_slice(MAGIC);
        out[8] = VERSION;
        out[9] = KDF_ARGON2ID;
        out[10..14].copy_from_slice(&self.kdf.memory_kib.to_le_bytes());
        out[14..18].copy_from_slice(&self.kdf.iterations.to_le_bytes());
        out[18..22].copy_from_slice(&self.kdf.parallelism.to_le_bytes());
        out[22..38].copy_from_slice(&self.salt);
        out[38..62].copy_from_slice(&self.nonce);
        out
    }

    /// Parses and checks the header; the KDF parameters are validated here,
    /// before anything is allocated for them, so a hostile header cannot make
    /// us reserve gigabytes.
    pub fn parse(content: &[u8]) -> Result<Header, VaultError> {
        if !is_v2(content) {
            return Err(VaultError::NotAWalletFile);
        }
        if content.len() < 10 {
            return Err(VaultError::Truncated);
        }
        if content[8] != VERSION {
            return Err(VaultError::UnknownVersion(content[8]));
        }
        if content[9] != KDF_ARGON2ID {
            return Err(VaultError::UnknownKdf(content[9]));
        }
        if content.len() < HEADER_LEN + TAG_LEN {
            return Err(VaultError::Truncated);
        }
        let u32_at = |i: usize| {
            u32::from_le_bytes([content[i], content[i + 1], content[i + 2], content[i + 3]])
        };
        let kdf = KdfParams {
            memory_kib: u32_at(10),
            iterations: u32_at(14),
            parallelism: u32_at(18),
        };
        kdf.validate()?;
        let mut salt = [0u8; SALT_LEN];
        salt.copy_from_slice(&content[22..38]);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&content[38..62]);
        Ok(Header { kdf, salt, nonce })
    }
}

/// Argon2id(password, salt) → 32-byte key. The slow step, run once per process.
///
/// With argon2's `parallel` feature (workspace Cargo.toml) the `p` lanes of
/// each slice run on rayon's global pool, so an unlock takes about the
/// time of one lane instead of `p`, as the C reference does with its own
/// threads. The pool has one thread per CPU (`RAYON_NUM_THREADS` overrides
/// it), is made at the first derivation and then sleeps; the memory is the
/// same 256 MiB either way. The key does not change (unit test below).
pub fn derive_key(
    password: &[u8],
    salt: &[u8; SALT_LEN],
    kdf: KdfParams,
) -> Result<DerivedKey, VaultError> {
    kdf.validate()?;
    let params = argon2::Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|e| VaultError::BadKdfParams(e.to_string()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(password, salt, key.as_mut())
        .map_err(|e| VaultError::BadKdfParams(e.to_string()))?;
    Ok(DerivedKey(key))
}

fn cipher(key: &DerivedKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new_from_slice(key.0.as_ref()).expect("32-byte key")
}

/// Seals `plaintext` into a whole file.
pub fn seal(header: &Header, key: &DerivedKey, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
    let head = header.to_bytes();
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&head);
    out.extend_from_slice(plaintext);
    let nonce = XNonce::try_from(&header.nonce[..]).expect("24-byte nonce");
    let mut body = out.split_off(HEADER_LEN);
    cipher(key)
        .encrypt_in_place(&nonce, &head, &mut body)
        .map_err(|_| VaultError::Io("encryption failed".into()))?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Opens a whole file with `key`. A wrong key and a modified file are the
/// same failure: the tag does not verify.
pub fn open(content: &[u8], key: &DerivedKey) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let header = Header::parse(content)?;
    let nonce = XNonce::try_from(&header.nonce[..]).expect("24-byte nonce");
    let mut body = Zeroizing::new(content[HEADER_LEN..].to_vec());
    cipher(key)
        .decrypt_in_place(&nonce, &content[..HEADER_LEN], &mut *body)
        .map_err(|_| VaultError::WrongPassword)?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The KDF's output must not depend on how the lanes are scheduled
    /// (argon2's `parallel` feature computes them on rayon's threads): these
    /// keys are the ones the C reference prints (Debian `argon2`,
    /// `echo -n 'correct horse battery staple' | argon2 0123456789abcdef -id -t 3 -m 18 -p 2 -l 32 -r`,
    /// and `-m 16 -p 4`), and argon2-cffi agrees. A key that changed would
    /// leave every existing wallet.dat unopenable.
    #[test]
    fn derived_keys_with_several_lanes_match_the_c_reference() {
        let salt = b"0123456789abcdef";
        let password = b"correct horse battery staple";
        let cases = [
            (
                // The store's default cost: m = 256 MiB, t = 3, p = 2.
                KdfParams::default(),
                "ae1ea62be140a2fc87767b9c80eada79539c0061cf9000fdb56f5f931caf79b2",
            ),
            (
                // More lanes than a 2-core machine has threads.
                KdfParams {
                    memory_kib: 64 * 1024,
                    iterations: 3,
                    parallelism: 4,
                },
                "efb51f9a76584f6dd6a4f7942a1a2f6ae5a6e4ec5142ff674dfd5d27eb45e446",
            ),
        ];
        for (kdf, expected) in cases {
            let key = derive_key(password, salt, kdf).unwrap();
            assert_eq!(hex::encode(key.0.as_ref()), expected, "{kdf:?}");
        }
    }
}
