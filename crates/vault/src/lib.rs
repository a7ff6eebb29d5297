//! The wallet store (`wallet.dat`). API contract only; the implementation
//! is being written.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use kms_core::WalletEntry;
use secrecy::SecretString;

/// The wallets of a store, signatureId → wallet, in file order.
#[derive(Debug, Default, Clone)]
pub struct Wallets(pub IndexMap<String, WalletEntry>);

/// Argon2id cost of a v2 file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        Self { memory_kib: 256 * 1024, iterations: 3, parallelism: 2 }
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
    #[error("{0}")]
    Other(String),
}

/// An unlocked store.
pub struct Vault {
    _path: PathBuf,
}

impl Vault {
    pub fn open(_path: &Path, _password: &SecretString, _create_with: KdfParams) -> Result<Vault, VaultError> {
        unimplemented!("kms-vault is being written")
    }
    pub fn path(&self) -> &Path { unimplemented!() }
    pub fn format(&self) -> FileFormat { unimplemented!() }
    pub fn wallets(&self) -> &Wallets { unimplemented!() }
    pub fn get(&self, _id: &str) -> Option<&WalletEntry> { unimplemented!() }
    pub fn ids_for(&self, _chain: &str, _testnet: bool) -> Vec<String> { unimplemented!() }
    pub fn update<R>(&mut self, _f: impl FnOnce(&mut Wallets) -> R) -> Result<R, VaultError> { unimplemented!() }
    pub fn reload_if_changed(&mut self) -> Result<bool, VaultError> { unimplemented!() }
    pub fn change_password(&mut self, _new: &SecretString, _kdf: KdfParams) -> Result<(), VaultError> { unimplemented!() }
    pub fn migrate(&mut self) -> Result<Option<PathBuf>, VaultError> { unimplemented!() }
    pub fn export_pretty(&self) -> zeroize::Zeroizing<String> { unimplemented!() }
}
