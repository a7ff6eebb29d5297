//! The wallet store, `wallet.dat`.
//!
//! Opens the original tatum-kms file ([`legacy`]) and our authenticated v2
//! format ([`format`]); writes only v2, atomically, under a lock, backing up
//! a legacy file before its first replacement. The password is turned into a
//! key once per [`Vault`]; every later read and write reuses it, so a daemon
//! can pick up wallets the CLI added without rerunning the slow KDF.

pub mod format;
pub mod legacy;

mod file;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use kms_core::{Chain, Network, SignatureId, WalletEntry};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use format::{DerivedKey, Header};

/// The wallets of a store, signatureId → wallet, in file order. No `Debug`:
/// the values are mnemonics and keys.
#[derive(Default, Clone)]
pub struct Wallets(pub IndexMap<String, WalletEntry>);

impl Wallets {
    /// Adds a wallet in front, as the original writes `{...new, ...existing}`.
    /// An id that exists already keeps its old wallet, as in the original.
    pub fn insert_first(&mut self, id: String, entry: WalletEntry) -> bool {
        if self.0.contains_key(&id) {
            return false;
        }
        self.0.shift_insert(0, id, entry);
        true
    }

    /// Removes a wallet, keeping the order of the others.
    pub fn remove(&mut self, id: &str) -> Option<WalletEntry> {
        self.0.shift_remove(id)
    }

    pub fn get(&self, id: &str) -> Option<&WalletEntry> {
        self.0.get(id)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Argon2id cost of a v2 file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        Self {
            memory_kib: 256 * 1024,
            iterations: 3,
            parallelism: 2,
        }
    }
}

impl KdfParams {
    pub const MIN_MEMORY_KIB: u32 = 64 * 1024;
    pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
    pub const MIN_ITERATIONS: u32 = 3;
    pub const MAX_ITERATIONS: u32 = 10;
    pub const MAX_PARALLELISM: u32 = 16;

    /// Refuses costs that are too cheap to protect a stolen file, or so
    /// high that a tampered header could exhaust the machine.
    pub fn validate(&self) -> Result<(), VaultError> {
        let ok = (Self::MIN_MEMORY_KIB..=Self::MAX_MEMORY_KIB).contains(&self.memory_kib)
            && (Self::MIN_ITERATIONS..=Self::MAX_ITERATIONS).contains(&self.iterations)
            && (1..=Self::MAX_PARALLELISM).contains(&self.parallelism);
        if ok {
            Ok(())
        } else {
            Err(VaultError::BadKdfParams(format!(
                "Argon2id m={} KiB, t={}, p={} is outside the accepted range (m 64 MiB..4 GiB, t 3..10, p 1..16)",
                self.memory_kib, self.iterations, self.parallelism
            )))
        }
    }
}

/// Which format the file on disk has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// No file yet, or an empty one: an empty store, created on first write.
    Empty,
    /// The original tatum-kms format.
    Legacy,
    /// Our authenticated format.
    V2,
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("wrong password, or wallet.dat is not a wallet file")]
    WrongPassword,
    #[error("wallet.dat is not a wallet file (neither the tatum-kms format nor ours)")]
    NotAWalletFile,
    #[error("wallet.dat is truncated: it ends before its header and tag are complete")]
    Truncated,
    #[error(
        "wallet.dat has format version {0}, which this tatum-kms does not know; upgrade tatum-kms"
    )]
    UnknownVersion(u8),
    #[error("wallet.dat names key derivation function {0}, which this tatum-kms does not know")]
    UnknownKdf(u8),
    #[error("wallet.dat key derivation parameters refused: {0}")]
    BadKdfParams(String),
    #[error("wallet.dat decrypted but its content is not a wallet map: {0}")]
    Corrupted(String),
    #[error("wallet.dat was re-encrypted by another process (password changed?); restart with the current password")]
    KeyChanged,
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{0}")]
    Io(String),
}

impl VaultError {
    fn file(path: &Path, e: std::io::Error) -> Self {
        VaultError::File {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}

/// What unlocks the file.
enum Unlock {
    /// No v2 key yet (an empty or legacy store): the password, for the legacy
    /// cipher and to derive a v2 key at the first write.
    Password(SecretString),
    /// The v2 key and the header it belongs to (salt, cost).
    Key { key: DerivedKey, header: Header },
}

/// An unlocked store.
pub struct Vault {
    path: PathBuf,
    unlock: Unlock,
    create_with: KdfParams,
    wallets: Wallets,
    format: FileFormat,
    file_exists: bool,
    stamp: Option<file::Stamp>,
}

impl Vault {
    /// Opens the store at `path` with `password`. A missing or empty file is
    /// an empty store; the file (and its folder) are created at the first
    /// write, with `create_with` as the KDF cost. Runs the KDF once for a v2 file.
    pub fn open(
        path: &Path,
        password: &SecretString,
        create_with: KdfParams,
    ) -> Result<Vault, VaultError> {
        create_with.validate()?;
        let mut vault = Vault {
            path: path.to_path_buf(),
            unlock: Unlock::Password(password.clone()),
            create_with,
            wallets: Wallets::default(),
            format: FileFormat::Empty,
            file_exists: false,
            stamp: None,
        };
        vault.load()?;
        Ok(vault)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn format(&self) -> FileFormat {
        self.format
    }
    pub fn file_exists(&self) -> bool {
        self.file_exists
    }
    pub fn wallets(&self) -> &Wallets {
        &self.wallets
    }
    pub fn get(&self, id: &str) -> Option<&WalletEntry> {
        self.wallets.get(id)
    }

    /// The signature ids of the wallets of `chain` on that network, as the
    /// daemon asks the API for them.
    pub fn ids_for(&self, chain: Chain, network: Network) -> Vec<SignatureId> {
        self.wallets
            .0
            .iter()
            .filter(|(_, w)| w.chain() == Ok(chain) && w.network() == network)
            .map(|(id, _)| SignatureId::new(id.as_str()))
            .collect()
    }

    /// Read-modify-write under the lock: re-reads the file (another process
    /// may have written since we opened it), applies `change`, writes the
    /// result atomically. On any error the file on disk is unchanged.
    pub fn update<R>(&mut self, change: impl FnOnce(&mut Wallets) -> R) -> Result<R, VaultError> {
        file::ensure_dir(&self.path).map_err(|e| VaultError::file(&self.path, e))?;
        let _lock =
            file::WriteLock::acquire(&self.path).map_err(|e| VaultError::file(&self.path, e))?;
        // Under the lock, an unchanged stamp means nobody wrote since our own
        // last read or write (writers always rename a new inode into place):
        // what we hold is current, and re-reading 25,000 wallets is skipped.
        let (mut wallets, format) = if self.stamp.is_some() && file::stamp(&self.path) == self.stamp
        {
            (std::mem::take(&mut self.wallets), self.format)
        } else {
            self.read_current()?
        };
        let result = change(&mut wallets);
        if let Err(e) = self.write(&wallets, format, None) {
            // The change never reached the disk: hold what the disk holds.
            self.stamp = None;
            let _ = self.load();
            return Err(e);
        }
        self.wallets = wallets;
        Ok(result)
    }

    /// Re-reads the file if it changed since we last read or wrote it, with
    /// the key already held. Returns whether it changed.
    pub fn reload_if_changed(&mut self) -> Result<bool, VaultError> {
        if file::stamp(&self.path) == self.stamp {
            return Ok(false);
        }
        self.load()?;
        Ok(true)
    }

    /// Re-reads the file with the key already held, changed or not.
    pub fn reload(&mut self) -> Result<(), VaultError> {
        self.load()
    }

    /// Re-encrypts the store under `new_password`, with a fresh salt and `kdf`.
    pub fn change_password(
        &mut self,
        new_password: &SecretString,
        kdf: KdfParams,
    ) -> Result<(), VaultError> {
        kdf.validate()?;
        file::ensure_dir(&self.path).map_err(|e| VaultError::file(&self.path, e))?;
        let _lock =
            file::WriteLock::acquire(&self.path).map_err(|e| VaultError::file(&self.path, e))?;
        let (wallets, format) = self.read_current()?;
        let header = fresh_header(kdf);
        let key = format::derive_key(new_password.expose_secret().as_bytes(), &header.salt, kdf)?;
        self.write(&wallets, format, Some((key, header)))?;
        self.wallets = wallets;
        Ok(())
    }

    /// Rewrites a legacy store in the v2 format after backing it up. Returns
    /// the backup's path, or `None` when there was nothing to migrate.
    pub fn migrate(&mut self) -> Result<Option<PathBuf>, VaultError> {
        if self.format != FileFormat::Legacy {
            return Ok(None);
        }
        let _lock =
            file::WriteLock::acquire(&self.path).map_err(|e| VaultError::file(&self.path, e))?;
        let (wallets, format) = self.read_current()?;
        let backup = self.write(&wallets, format, None)?;
        self.wallets = wallets;
        Ok(backup)
    }

    /// The whole store as the original's `export` printed it:
    /// `JSON.stringify(wallets, null, 2)`.
    pub fn export_pretty(&self) -> Zeroizing<String> {
        Zeroizing::new(serde_json::to_string_pretty(&self.wallets.0).expect("wallets serialize"))
    }

    fn load(&mut self) -> Result<(), VaultError> {
        let stamp = file::stamp(&self.path);
        let (wallets, _) = self.read_current()?;
        self.wallets = wallets;
        self.stamp = stamp;
        Ok(())
    }

    /// Reads and decrypts the file as it is now; records its format.
    fn read_current(&mut self) -> Result<(Wallets, FileFormat), VaultError> {
        let content = file::read(&self.path).map_err(|e| VaultError::file(&self.path, e))?;
        self.file_exists = content.is_some();
        let content = Zeroizing::new(content.unwrap_or_default());
        let (wallets, format) = if content.iter().all(|b| b.is_ascii_whitespace()) {
            (Wallets::default(), FileFormat::Empty)
        } else if format::is_v2(&content) {
            (self.open_v2(&content)?, FileFormat::V2)
        } else if legacy::looks_legacy(&content) {
            (self.open_legacy(&content)?, FileFormat::Legacy)
        } else {
            return Err(VaultError::NotAWalletFile);
        };
        self.format = format;
        Ok((wallets, format))
    }

    fn open_v2(&mut self, content: &[u8]) -> Result<Wallets, VaultError> {
        let header = Header::parse(content)?;
        let key = match &self.unlock {
            Unlock::Key { key, header: held } => {
                if held.salt != header.salt || held.kdf != header.kdf {
                    return Err(VaultError::KeyChanged);
                }
                key.clone()
            }
            Unlock::Password(password) => {
                let key = format::derive_key(
                    password.expose_secret().as_bytes(),
                    &header.salt,
                    header.kdf,
                )?;
                self.unlock = Unlock::Key {
                    key: key.clone(),
                    header,
                };
                key
            }
        };
        let plaintext = format::open(content, &key)?;
        parse_wallets(&plaintext).map_err(VaultError::Corrupted)
    }

    fn open_legacy(&self, content: &[u8]) -> Result<Wallets, VaultError> {
        let Unlock::Password(password) = &self.unlock else {
            // We switched to v2 and someone wrote the old format back.
            return Err(VaultError::KeyChanged);
        };
        let text =
            legacy::decrypt(content, password.expose_secret().as_bytes()).map_err(|e| match e {
                legacy::LegacyError::NotLegacy => VaultError::NotAWalletFile,
                legacy::LegacyError::WrongPassword => VaultError::WrongPassword,
            })?;
        // Without authentication, garbage that happens to be valid UTF-8 is
        // caught here: it is still the password that was wrong.
        parse_wallets(text.as_bytes()).map_err(|_| VaultError::WrongPassword)
    }

    /// Writes `wallets` as a v2 file; backs up a legacy file first. `rekey`
    /// replaces the key (change of password). Returns the backup's path.
    fn write(
        &mut self,
        wallets: &Wallets,
        previous: FileFormat,
        rekey: Option<(DerivedKey, Header)>,
    ) -> Result<Option<PathBuf>, VaultError> {
        let (key, mut header) = match rekey {
            Some(pair) => pair,
            None => match &self.unlock {
                Unlock::Key { key, header } => (key.clone(), *header),
                Unlock::Password(password) => {
                    let header = fresh_header(self.create_with);
                    let key = format::derive_key(
                        password.expose_secret().as_bytes(),
                        &header.salt,
                        self.create_with,
                    )?;
                    (key, header)
                }
            },
        };
        // A new nonce for every encryption under the same key.
        getrandom::fill(&mut header.nonce).expect("the operating system's random source failed");
        let plaintext = Zeroizing::new(serde_json::to_vec(&wallets.0).expect("wallets serialize"));
        let sealed = format::seal(&header, &key, &plaintext)?;

        let backup = if previous == FileFormat::Legacy && self.file_exists {
            let backup = backup_path(&self.path);
            file::copy_private(&self.path, &backup).map_err(|e| VaultError::file(&backup, e))?;
            Some(backup)
        } else {
            None
        };
        file::ensure_dir(&self.path).map_err(|e| VaultError::file(&self.path, e))?;
        file::write_atomic(&self.path, &sealed).map_err(|e| VaultError::file(&self.path, e))?;
        self.unlock = Unlock::Key { key, header };
        self.format = FileFormat::V2;
        self.file_exists = true;
        self.stamp = file::stamp(&self.path);
        Ok(backup)
    }
}

fn fresh_header(kdf: KdfParams) -> Header {
    let mut header = Header {
        kdf,
        salt: [0; format::SALT_LEN],
        nonce: [0; format::NONCE_LEN],
    };
    getrandom::fill(&mut header.salt).expect("the operating system's random source failed");
    header
}

/// The plaintext (the original's JSON map) as wallets. Public for the fuzz targets.
pub fn parse_wallets(bytes: &[u8]) -> Result<Wallets, String> {
    serde_json::from_slice::<IndexMap<String, WalletEntry>>(bytes)
        .map(Wallets)
        .map_err(|e| format!("JSON error at line {} column {}", e.line(), e.column()))
}

/// `wallet.dat.legacy-backup-<UTC timestamp>`, unique in its folder.
fn backup_path(path: &Path) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let base = format!("{}.legacy-backup-{}", path.display(), utc_timestamp(secs));
    let mut candidate = PathBuf::from(&base);
    let mut n = 1;
    while candidate.exists() {
        candidate = PathBuf::from(format!("{base}-{n}"));
        n += 1;
    }
    candidate
}

/// `YYYYMMDDTHHMMSSZ` for seconds since the epoch (proleptic Gregorian).
fn utc_timestamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // Types holding keys or plaintext wallets: no way to format them by accident.
    static_assertions::assert_not_impl_any!(Vault: std::fmt::Debug, std::fmt::Display);
    static_assertions::assert_not_impl_any!(Wallets: std::fmt::Debug, std::fmt::Display);
    static_assertions::assert_not_impl_any!(DerivedKey: std::fmt::Debug, std::fmt::Display);

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(utc_timestamp(0), "19700101T000000Z");
        assert_eq!(utc_timestamp(951_782_400), "20000229T000000Z");
        assert_eq!(utc_timestamp(1_700_000_000), "20231114T221320Z");
    }
}
