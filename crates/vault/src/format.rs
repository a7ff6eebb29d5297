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
//!
//! Crate-internal; public only in fuzzing builds (`--cfg fuzzing`), for the
//! fuzz targets.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::{Damage, KdfParams, VaultError};

/// The first 8 bytes of every v2 file.
pub const MAGIC: &[u8; 8] = b"TKMSVLT\0";
/// The format version this crate reads and writes.
pub const VERSION: u8 = 2;
/// The KDF id of Argon2id (version 0x13), the only KDF this version knows.
pub const KDF_ARGON2ID: u8 = 1;
/// Length of the Argon2id salt.
pub const SALT_LEN: usize = 16;
/// Length of the XChaCha20-Poly1305 nonce.
pub const NONCE_LEN: usize = 24;
/// Length of the header, the AEAD's associated data.
pub const HEADER_LEN: usize = 8 + 1 + 1 + 12 + SALT_LEN + NONCE_LEN;
/// Length of the Poly1305 tag at the end of the file.
pub const TAG_LEN: usize = 16;

/// The most bytes after the real end of a file that [`open`] tries to cut
/// off when the tag fails, to tell "something was appended" from "wrong
/// password". Each try is one more AEAD pass over the file (no KDF), so the
/// wrong-password path stays cheap; see [`appended_cut_points`].
const MAX_APPENDED_TEXT: usize = 64;
/// How many later copies of the magic [`open`] tries as the real end.
const MAX_APPENDED_FILES: usize = 4;

/// The parsed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The Argon2id cost.
    pub kdf: KdfParams,
    /// The Argon2id salt.
    pub salt: [u8; SALT_LEN],
    /// The XChaCha20-Poly1305 nonce of this write.
    pub nonce: [u8; NONCE_LEN],
}

/// The file key Argon2id derives from the password. A newtype rather than
/// `Zeroizing<[u8; 32]>` itself because that one derives `Debug` and would
/// print the key: this has no `Debug`, so no log line can carry it.
#[derive(Clone)]
pub struct DerivedKey(Zeroizing<[u8; 32]>);

/// Does `content` start with the v2 magic?
pub fn is_v2(content: &[u8]) -> bool {
    content.starts_with(MAGIC)
}

/// What a file that is not v2 (nor legacy) may still be: a v2 file cut
/// inside its magic, or a v2 file someone turned into text. `None` when it
/// looks like no wallet file at all.
pub(crate) fn damaged_v2(content: &[u8]) -> Option<Damage> {
    if !content.is_empty() && content.len() < MAGIC.len() && MAGIC.starts_with(content) {
        return Some(Damage::Truncated { len: content.len() });
    }
    // Only the start is compared: enough to name what happened, and the
    // file is not decoded (the user decodes it back, once, by hand).
    let hex_magic = b"544b4d53564c5400";
    if content.len() >= hex_magic.len()
        && content[..hex_magic.len()].eq_ignore_ascii_case(hex_magic)
    {
        return Some(Damage::TextEncoded { encoding: "hex" });
    }
    // 12 base64 characters are exactly 9 bytes: the magic and the version.
    if let Some(start) = content.get(..12) {
        if let Ok(bytes) = STANDARD.decode(start) {
            if bytes.starts_with(MAGIC) {
                return Some(Damage::TextEncoded { encoding: "base64" });
            }
        }
    }
    None
}

impl Header {
    /// The header's 62 bytes, as written at the start of the file.
    pub fn to_bytes(self) -> [u8; HEADER_LEN] {
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
        let truncated = || VaultError::Damaged(Damage::Truncated { len: content.len() });
        if content.len() < 10 {
            return Err(truncated());
        }
        match content[8] {
            VERSION => {}
            // The legacy format has no version byte, and no release wrote a
            // v0 or v1 file: a byte below 2 is damage, not a newer format.
            old @ (0 | 1) => return Err(VaultError::Damaged(Damage::BadVersion(old))),
            newer => return Err(VaultError::UnknownVersion(newer)),
        }
        if content[9] != KDF_ARGON2ID {
            return Err(VaultError::UnknownKdf(content[9]));
        }
        if content.len() < HEADER_LEN + TAG_LEN {
            return Err(truncated());
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

/// Opens a whole file with `key`. A wrong key and a modified byte are the
/// same failure: the tag does not verify. But when the file only has bytes
/// appended after its real end (a text editor's newline, `echo >>`, a second
/// copy of a wallet file), the file without them verifies under this key:
/// that is reported as [`Damage::TrailingBytes`], not as a wrong password.
pub fn open(content: &[u8], key: &DerivedKey) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let header = Header::parse(content)?;
    if let Some(plaintext) = decrypt(content, &header, key) {
        return Ok(plaintext);
    }
    for end in appended_cut_points(content) {
        if decrypt(&content[..end], &header, key).is_some() {
            return Err(VaultError::Damaged(Damage::TrailingBytes {
                count: content.len() - end,
            }));
        }
    }
    Err(VaultError::WrongPassword)
}

fn decrypt(content: &[u8], header: &Header, key: &DerivedKey) -> Option<Zeroizing<Vec<u8>>> {
    let nonce = XNonce::try_from(&header.nonce[..]).expect("24-byte nonce");
    let mut body = Zeroizing::new(content[HEADER_LEN..].to_vec());
    cipher(key)
        .decrypt_in_place(&nonce, &content[..HEADER_LEN], &mut *body)
        .ok()?;
    Some(body)
}

/// Where the real file may end if something was appended to it: inside a
/// trailing run of text (printable ASCII, tab, CR, LF; at most
/// [`MAX_APPENDED_TEXT`] bytes back) and before a later copy of the magic.
/// A real tag ends in such a run only by chance (a few bytes at most), so a
/// wrong password costs a handful of extra AEAD passes. Binary junk appended
/// is not looked for: with no length in the header, it cannot be told from a
/// wrong password without trying every length.
fn appended_cut_points(content: &[u8]) -> Vec<usize> {
    let shortest = HEADER_LEN + TAG_LEN;
    let is_text = |b: &u8| matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7e);
    let text_run = content.iter().rev().take_while(|b| is_text(b)).count();
    let mut ends: Vec<usize> = (1..=text_run.min(MAX_APPENDED_TEXT))
        .map(|k| content.len() - k)
        .collect();
    let later_magics = content[shortest..]
        .windows(MAGIC.len())
        .enumerate()
        .filter(|(_, w)| w == MAGIC)
        .map(|(i, _)| shortest + i)
        .take(MAX_APPENDED_FILES);
    ends.extend(later_magics);
    ends.retain(|&end| end >= shortest);
    ends
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams {
        memory_kib: KdfParams::MIN_MEMORY_KIB,
        iterations: KdfParams::MIN_ITERATIONS,
        parallelism: 1,
    };

    #[test]
    fn documented_test_vector() {
        // docs/wallet-format.md, "Test vector": the inputs and the file are
        // both read from the doc, so neither can drift from the code.
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/wallet-format.md"),
        )
        .unwrap();
        let section = &doc[doc.find("## Test vector").expect("a Test vector section")..];
        let between = |before: &str, after: &str| -> &str {
            let start = section
                .find(before)
                .unwrap_or_else(|| panic!("the test vector has no {before:?}"))
                + before.len();
            &section[start..start + section[start..].find(after).unwrap()]
        };
        // `000102…0f`: consecutive bytes from the first to the last shown.
        let run = |text: &str| -> Vec<u8> {
            let (first, last) = text.split_once('…').expect("first…last");
            let first = hex::decode(first).unwrap();
            let last = hex::decode(last).unwrap()[0];
            (first[0]..=last).collect()
        };
        let kdf = KdfParams {
            memory_kib: between("m = ", " KiB").parse().unwrap(),
            iterations: between("t = ", ",").parse().unwrap(),
            parallelism: between("p = ", ",").parse().unwrap(),
        };
        assert_eq!(kdf, FAST, "the documented cost is the cheapest accepted");
        let header = Header {
            kdf,
            salt: run(between("salt `", "`"))
                .try_into()
                .expect("a 16-byte salt"),
            nonce: run(between("nonce `", "`"))
                .try_into()
                .expect("a 24-byte nonce"),
        };
        let password = between("Password `", "`");
        let plaintext = between("plaintext\n`", "`").as_bytes();
        let key = derive_key(password.as_bytes(), &header.salt, kdf).unwrap();
        let file = seal(&header, &key, plaintext).unwrap();
        let documented: String = between("```hex\n", "```").split_whitespace().collect();
        assert_eq!(hex::encode(&file), documented);
        assert_eq!(open(&file, &key).unwrap().as_slice(), plaintext);
    }

    #[test]
    fn cut_points_stay_few_for_binary_tails_and_never_cut_into_the_header() {
        let mut file = vec![0u8; HEADER_LEN + TAG_LEN];
        file[..8].copy_from_slice(MAGIC);
        // A tag ending in a non-text byte: nothing to try.
        *file.last_mut().unwrap() = 0xff;
        assert!(appended_cut_points(&file).is_empty());
        // Text after it: one try per text byte, and never shorter than header + tag.
        file.extend_from_slice(b"ab\n");
        let shortest = HEADER_LEN + TAG_LEN;
        assert_eq!(
            appended_cut_points(&file),
            [shortest + 2, shortest + 1, shortest]
        );
        // A long text tail is tried only MAX_APPENDED_TEXT bytes back.
        file.extend_from_slice(&[b'x'; 200]);
        assert_eq!(appended_cut_points(&file).len(), MAX_APPENDED_TEXT);
    }
}

#[cfg(test)]
mod lane_tests {
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
