//! The wallet store, `wallet.dat`.
//!
//! Opens the original tatum-kms file (the legacy OpenSSL format) and our
//! authenticated v2 format (docs/wallet-format.md); writes only v2,
//! atomically, under a lock, backing up a legacy file before its first
//! replacement. The password is turned into a key once per [`Vault`]; every
//! later read and write reuses it, so a daemon can pick up wallets the CLI
//! added without rerunning the slow KDF.
//!
//! A path through a symlink reads, locks and rewrites the file the link
//! points at; the link stays a link. A rewrite keeps the replaced file's
//! owner and (if private) its mode; see [`Vault::update`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The format modules are internals: the fuzz targets (built with
// `--cfg fuzzing`, by cargo-fuzz and by `cargo xtask fuzz --quick`) reach
// them; nothing else outside this crate does.
#[cfg(fuzzing)]
pub mod format;
// Their items stay `pub` for the fuzzing build.
#[cfg(not(fuzzing))]
#[allow(unreachable_pub)]
mod format;
#[cfg(fuzzing)]
pub mod legacy;
#[cfg(not(fuzzing))]
#[allow(unreachable_pub)]
mod legacy;

mod data_dir;
mod file;
#[cfg_attr(not(fuzzing), allow(unreachable_pub))]
mod json;

pub use data_dir::{data_dir, AmbiguousDataDir};

#[cfg(fuzzing)]
pub use json::parse_wallets;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use kms_core::{Chain, Network, SignatureId, WalletEntry};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use format::{DerivedKey, Header};
#[cfg(not(fuzzing))]
use json::parse_wallets;

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

    /// The wallet stored under signatureId `id`.
    pub fn get(&self, id: &str) -> Option<&WalletEntry> {
        self.0.get(id)
    }

    /// How many wallets the store holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the store holds no wallet.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Argon2id cost of a v2 file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes (threads).
    pub parallelism: u32,
}

/// What this version writes: m = 256 MiB, t = 3, p = 2.
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
    /// Runs the store's key derivation once at this cost on `password` and
    /// a 16-byte `salt`, and forgets the key: what one unlock costs, for
    /// benchmarks and capacity planning.
    pub fn run_once(&self, password: &[u8], salt: &[u8; 16]) -> Result<(), VaultError> {
        format::derive_key(password, salt, *self).map(drop)
    }

    /// The least memory accepted (64 MiB): less would make a stolen file cheap to guess.
    pub const MIN_MEMORY_KIB: u32 = 64 * 1024;
    /// The most memory accepted, even with an opt-in (4 GiB).
    pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
    /// The fewest passes accepted.
    pub const MIN_ITERATIONS: u32 = 3;
    /// The most passes accepted, even with an opt-in.
    pub const MAX_ITERATIONS: u32 = 10;
    /// The most lanes accepted.
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

    /// Whether any of `self`'s parameters exceeds `ceiling`'s.
    fn exceeds(&self, ceiling: &KdfParams) -> bool {
        self.memory_kib > ceiling.memory_kib
            || self.iterations > ceiling.iterations
            || self.parallelism > ceiling.parallelism
    }

    /// Each parameter the larger of the two.
    fn max_each(self, other: KdfParams) -> KdfParams {
        KdfParams {
            memory_kib: self.memory_kib.max(other.memory_kib),
            iterations: self.iterations.max(other.iterations),
            parallelism: self.parallelism.max(other.parallelism),
        }
    }
}

/// How [`Vault::open_with`] opens a store.
///
/// An existing v2 file's header names the KDF cost to run before anything
/// can be checked; a tampered header could ask for 4 GiB and t = 10 (a
/// minute of CPU and gigabytes of memory, then a failure). So a file whose
/// cost exceeds, in any parameter, the larger of this version's default
/// ([`KdfParams::default`]) and `create_with` is refused with
/// [`VaultError::KdfCostAboveDefault`] before the KDF runs, unless
/// [`allow_costly_kdf`](OpenOptions::allow_costly_kdf) is set. `create_with`
/// counts because a store re-keyed with a higher cost on purpose (the CLI's
/// `TATUM_KMS_KDF_MEMORY_MIB`, 64..4096 MiB) is opened with that same
/// setting: the operator chose that cost. Opening such a file without the
/// setting needs the opt-in. Costs outside [`KdfParams::validate`]'s range
/// are refused even with the opt-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    create_with: KdfParams,
    allow_costly_kdf: bool,
}

impl OpenOptions {
    /// `create_with` is the KDF cost of a store this vault creates; no opt-in.
    pub fn new(create_with: KdfParams) -> Self {
        Self {
            create_with,
            allow_costly_kdf: false,
        }
    }

    /// Open files whose KDF cost is above the default and `create_with`
    /// (within [`KdfParams::validate`]'s range): for a store re-keyed with a
    /// higher cost, opened without that setting.
    pub fn allow_costly_kdf(mut self, allow: bool) -> Self {
        self.allow_costly_kdf = allow;
        self
    }

    /// The highest cost a file may ask for without the opt-in; `None` with it.
    fn kdf_ceiling(&self) -> Option<KdfParams> {
        (!self.allow_costly_kdf).then(|| KdfParams::default().max_each(self.create_with))
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self::new(KdfParams::default())
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

/// What is wrong with a damaged v2 file: damage that can be told apart from
/// a wrong password. A changed byte inside the authenticated data cannot be
/// (the tag fails either way): that stays [`VaultError::WrongPassword`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Damage {
    /// The file ends before its 62-byte header and 16-byte tag are complete
    /// (or inside the magic).
    #[error("it ends after {len} bytes, before its header and tag are complete; restore it from a backup")]
    Truncated {
        /// The file's length.
        len: usize,
    },
    /// Bytes follow the end of an intact file: without them, it opens with
    /// this password.
    #[error("{count} byte(s) were added after its end (a text editor's newline, or something appended); without them the file opens with this password: remove them, or restore a backup")]
    TrailingBytes {
        /// How many bytes follow the real end.
        count: usize,
    },
    /// The version byte after the magic is one no release ever wrote.
    #[error(
        "its format version byte is {0}, which no tatum-kms ever wrote; restore it from a backup"
    )]
    BadVersion(u8),
    /// The file is a v2 file turned into text.
    #[error("it holds the wallet file {encoding}-encoded (as text), not the file itself; decode it back to binary")]
    TextEncoded {
        /// `"base64"` or `"hex"`.
        encoding: &'static str,
    },
}

/// Why a store could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The password does not open the file, or an authenticated byte changed.
    #[error("wrong password, or wallet.dat is not a wallet file")]
    WrongPassword,
    /// Neither the legacy format nor v2.
    #[error("wallet.dat is not a wallet file (neither the tatum-kms format nor ours)")]
    NotAWalletFile,
    /// Structural damage that is certainly not a wrong password.
    #[error("wallet.dat is damaged (the password is not the problem): {0}")]
    Damaged(Damage),
    /// A format version newer than this release knows.
    #[error(
        "wallet.dat has format version {0}, which this tatum-kms does not know; upgrade tatum-kms"
    )]
    UnknownVersion(u8),
    /// A KDF id this release does not know.
    #[error("wallet.dat names key derivation function {0}, which this tatum-kms does not know")]
    UnknownKdf(u8),
    /// KDF parameters outside the accepted range.
    #[error("wallet.dat key derivation parameters refused: {0}")]
    BadKdfParams(String),
    /// KDF parameters within range but above what this release writes and
    /// above the configured cost; see [`OpenOptions`].
    #[error(
        "wallet.dat asks for Argon2id m={memory_kib} KiB, t={iterations}, p={parallelism}, more than this tatum-kms writes (m={} KiB, t={}, p={}) or is configured for; it was re-keyed with a higher cost (TATUM_KMS_KDF_MEMORY_MIB) or its header was edited. Not run without an explicit opt-in (or TATUM_KMS_KDF_MEMORY_MIB set as high)",
        KdfParams::default().memory_kib,
        KdfParams::default().iterations,
        KdfParams::default().parallelism
    )]
    KdfCostAboveDefault {
        /// The header's memory, KiB.
        memory_kib: u32,
        /// The header's iterations.
        iterations: u32,
        /// The header's parallelism.
        parallelism: u32,
    },
    /// The plaintext is not the JSON wallet map.
    #[error("wallet.dat decrypted but its content is not a wallet map: {0}")]
    Corrupted(String),
    /// The file was re-keyed since this vault derived its key.
    #[error("wallet.dat was re-encrypted by another process (password changed?); restart with the current password")]
    KeyChanged,
    /// A rewrite would hand the file to another user; see [`Vault::update`].
    #[error("{path} belongs to uid {uid} (gid {gid}) and this process cannot give a rewrite that owner back (not root); rewriting it would lock its owner out: run as that user or as root")]
    OwnerNotKept {
        /// The file.
        path: PathBuf,
        /// Its owner.
        uid: u32,
        /// Its group.
        gid: u32,
    },
    /// A filesystem error on `path`.
    #[error("{path}: {message}")]
    File {
        /// The file or folder.
        path: PathBuf,
        /// The system's error.
        message: String,
    },
    /// Any other failure.
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

/// Something a write did differently from what was asked, for the caller to
/// log; the write itself succeeded. See [`Vault::take_warnings`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VaultWarning {
    /// The replaced file let its group or others in; the rewrite is 0600.
    #[error(
        "{path} had mode {was:04o}, which lets other users read wallet secrets; it is now 0600"
    )]
    ModeTightened {
        /// The file.
        path: PathBuf,
        /// Its mode before the rewrite.
        was: u32,
    },
    /// The replaced file's group could not be given back (not root, and not
    /// a member of it); the user is kept, and 0600 keeps the group out anyway.
    #[error("{path} had group {gid}, which this process cannot give back; its group is now this process's")]
    GroupNotKept {
        /// The file.
        path: PathBuf,
        /// Its group before the rewrite.
        gid: u32,
    },
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
    options: OpenOptions,
    wallets: Wallets,
    format: FileFormat,
    file_exists: bool,
    stamp: Option<file::Stamp>,
    warnings: Vec<VaultWarning>,
}

impl Vault {
    /// Opens the store at `path` with `password`. A missing or empty file is
    /// an empty store; the file (and its folder) are created at the first
    /// write, with `create_with` as the KDF cost. Runs the KDF once for a v2
    /// file. The same as [`Vault::open_with`] with [`OpenOptions::new`]`(create_with)`:
    /// a file whose KDF cost is above the default and `create_with` is refused.
    pub fn open(
        path: &Path,
        password: &SecretString,
        create_with: KdfParams,
    ) -> Result<Vault, VaultError> {
        Self::open_with(path, password, OpenOptions::new(create_with))
    }

    /// [`Vault::open`] with options: see [`OpenOptions`].
    pub fn open_with(
        path: &Path,
        password: &SecretString,
        options: OpenOptions,
    ) -> Result<Vault, VaultError> {
        options.create_with.validate()?;
        let mut vault = Vault {
            path: path.to_path_buf(),
            unlock: Unlock::Password(password.clone()),
            options,
            wallets: Wallets::default(),
            format: FileFormat::Empty,
            file_exists: false,
            stamp: None,
            warnings: Vec::new(),
        };
        vault.load()?;
        Ok(vault)
    }

    /// The path the store was opened with (a symlink stays a symlink: reads
    /// and writes go to the file it points at).
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The format of the file as last read or written.
    pub fn format(&self) -> FileFormat {
        self.format
    }
    /// Whether the file existed at the last read, or has been written since.
    pub fn file_exists(&self) -> bool {
        self.file_exists
    }
    /// The wallets as last read or written.
    pub fn wallets(&self) -> &Wallets {
        &self.wallets
    }
    /// The wallet stored under signatureId `id`.
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
    ///
    /// The rewrite keeps the replaced file's owner (a command run as root
    /// leaves the service user's file the service user's) and its mode when
    /// that grants group and others nothing; a looser mode becomes 0600 and
    /// a new file is 0600. When the owner cannot be kept (not root) the write
    /// is refused if the file's user is not ours ([`VaultError::OwnerNotKept`]);
    /// if only the group cannot be kept it goes on. Both adjustments are
    /// reported by [`Vault::take_warnings`].
    pub fn update<R>(&mut self, change: impl FnOnce(&mut Wallets) -> R) -> Result<R, VaultError> {
        let real = self.resolve()?;
        file::ensure_dir(&real).map_err(|e| VaultError::file(&real, e))?;
        let _lock = file::WriteLock::acquire(&real).map_err(|e| VaultError::file(&real, e))?;
        // Under the lock, an unchanged stamp means nobody wrote since our own
        // last read or write (writers always rename a new inode into place):
        // what we hold is current, and re-reading 25,000 wallets is skipped.
        let (mut wallets, format) = if self.stamp.is_some() && file::stamp(&real) == self.stamp {
            (std::mem::take(&mut self.wallets), self.format)
        } else {
            self.read_current(&real)?
        };
        let result = change(&mut wallets);
        if let Err(e) = self.write(&real, &wallets, format, None) {
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
    /// Owner and mode as in [`Vault::update`].
    pub fn change_password(
        &mut self,
        new_password: &SecretString,
        kdf: KdfParams,
    ) -> Result<(), VaultError> {
        kdf.validate()?;
        let real = self.resolve()?;
        file::ensure_dir(&real).map_err(|e| VaultError::file(&real, e))?;
        let _lock = file::WriteLock::acquire(&real).map_err(|e| VaultError::file(&real, e))?;
        let (wallets, format) = self.read_current(&real)?;
        let header = fresh_header(kdf);
        let key = format::derive_key(new_password.expose_secret().as_bytes(), &header.salt, kdf)?;
        self.write(&real, &wallets, format, Some((key, header)))?;
        self.wallets = wallets;
        Ok(())
    }

    /// Rewrites a legacy store in the v2 format after backing it up (beside
    /// the real file, with its owner, 0600). Returns the backup's path, or
    /// `None` when there was nothing to migrate.
    pub fn migrate(&mut self) -> Result<Option<PathBuf>, VaultError> {
        if self.format != FileFormat::Legacy {
            return Ok(None);
        }
        let real = self.resolve()?;
        let _lock = file::WriteLock::acquire(&real).map_err(|e| VaultError::file(&real, e))?;
        let (wallets, format) = self.read_current(&real)?;
        let backup = self.write(&real, &wallets, format, None)?;
        self.wallets = wallets;
        Ok(backup)
    }

    /// What the writes since the last call did differently from what was
    /// asked (a mode tightened, a group not kept), for the caller to log.
    pub fn take_warnings(&mut self) -> Vec<VaultWarning> {
        std::mem::take(&mut self.warnings)
    }

    /// The whole store as the original's `export` printed it:
    /// `JSON.stringify(wallets, null, 2)`.
    pub fn export_pretty(&self) -> Zeroizing<String> {
        Zeroizing::new(serde_json::to_string_pretty(&self.wallets.0).expect("wallets serialize"))
    }

    /// The file behind `path`, through any symlinks (see [`file::resolve`]).
    /// Resolved at every operation, so a link retargeted meanwhile is followed.
    fn resolve(&self) -> Result<PathBuf, VaultError> {
        file::resolve(&self.path).map_err(|e| VaultError::file(&self.path, e))
    }

    fn load(&mut self) -> Result<(), VaultError> {
        let real = self.resolve()?;
        let stamp = file::stamp(&real);
        let (wallets, _) = self.read_current(&real)?;
        self.wallets = wallets;
        self.stamp = stamp;
        Ok(())
    }

    /// Reads and decrypts the file as it is now; records its format.
    fn read_current(&mut self, real: &Path) -> Result<(Wallets, FileFormat), VaultError> {
        let content = file::read(real).map_err(|e| VaultError::file(real, e))?;
        self.file_exists = content.is_some();
        let content = Zeroizing::new(content.unwrap_or_default());
        let (wallets, format) = if content.iter().all(|b| b.is_ascii_whitespace()) {
            (Wallets::default(), FileFormat::Empty)
        } else if format::is_v2(&content) {
            (self.open_v2(&content)?, FileFormat::V2)
        } else if legacy::looks_legacy(&content) {
            (self.open_legacy(&content)?, FileFormat::Legacy)
        } else if let Some(damage) = format::damaged_v2(&content) {
            return Err(VaultError::Damaged(damage));
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
                // Checked before the KDF runs: that run is what a tampered
                // header would make expensive.
                if let Some(ceiling) = self.options.kdf_ceiling() {
                    if header.kdf.exceeds(&ceiling) {
                        return Err(VaultError::KdfCostAboveDefault {
                            memory_kib: header.kdf.memory_kib,
                            iterations: header.kdf.iterations,
                            parallelism: header.kdf.parallelism,
                        });
                    }
                }
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

    /// Writes `wallets` as a v2 file at `real` (the resolved path); backs up a
    /// legacy file first. `rekey` replaces the key (change of password).
    /// Returns the backup's path.
    fn write(
        &mut self,
        real: &Path,
        wallets: &Wallets,
        previous: FileFormat,
        rekey: Option<(DerivedKey, Header)>,
    ) -> Result<Option<PathBuf>, VaultError> {
        let (key, mut header) = match rekey {
            Some(pair) => pair,
            None => match &self.unlock {
                Unlock::Key { key, header } => (key.clone(), *header),
                Unlock::Password(password) => {
                    let create_with = self.options.create_with;
                    let header = fresh_header(create_with);
                    let key = format::derive_key(
                        password.expose_secret().as_bytes(),
                        &header.salt,
                        create_with,
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
            let backup = backup_path(real);
            let warnings = file::copy_private(real, &backup)?;
            self.warnings.extend(warnings);
            Some(backup)
        } else {
            None
        };
        file::ensure_dir(real).map_err(|e| VaultError::file(real, e))?;
        let warnings = file::write_atomic(real, &sealed)?;
        self.warnings.extend(warnings);
        self.unlock = Unlock::Key { key, header };
        self.format = FileFormat::V2;
        self.file_exists = true;
        self.stamp = file::stamp(real);
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
