//! One daemon per store, chain and network: two daemons serving the same
//! wallets would both sign every pending transaction (for SOL, two valid
//! transactions with different blockhashes: a double payment). Each daemon
//! takes an exclusive lock per chain it serves before its first cycle; a
//! second one is told which process holds it.
//!
//! The locks are files in a folder beside the store (`wallet.dat.locks/`),
//! one per chain and network, locked with `flock` (released by the kernel
//! when the process dies, however it dies) and holding the holder's pid.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use kms_core::{Chain, Network};

/// The locks a running daemon holds; released when dropped.
pub struct DaemonLock {
    _files: Vec<File>,
}

/// Why the locks could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another daemon serves this chain of this store.
    #[error("another daemon (pid {holder}) already serves {chain} {network} of this wallet store ({path}); stop it first, or give each daemon other chains with --chain")]
    Held {
        /// The chain.
        chain: Chain,
        /// The network.
        network: Network,
        /// The other daemon's pid, as it wrote it (or `unknown`).
        holder: String,
        /// The lock file.
        path: PathBuf,
    },
    /// The lock folder or file could not be used.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl DaemonLock {
    /// Takes the lock of every chain in `chains` on `network` for the store
    /// at `store` (its real path, when it is a symlink), or none of them.
    pub fn acquire(
        store: &Path,
        chains: &[Chain],
        network: Network,
    ) -> Result<DaemonLock, LockError> {
        let store = std::fs::canonicalize(store).unwrap_or_else(|_| store.to_path_buf());
        let mut dir = store.clone().into_os_string();
        dir.push(".locks");
        let dir = PathBuf::from(dir);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LockError::Io { path, source }
        };
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut files = Vec::with_capacity(chains.len());
        for &chain in chains {
            let path = dir.join(format!("daemon-{chain}-{network}.lock"));
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io(&path))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    return Err(LockError::Held {
                        chain,
                        network,
                        holder: if holder.is_empty() { "unknown" } else { holder }.to_string(),
                        path,
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(&path)(e)),
            }
            file.set_len(0).map_err(io(&path))?;
            file.rewind().map_err(io(&path))?;
            write!(file, "{}", std::process::id()).map_err(io(&path))?;
            files.push(file);
        }
        Ok(DaemonLock { _files: files })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_is_served_by_one_daemon_and_freed_when_it_stops() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("wallet.dat");
        let first =
            DaemonLock::acquire(&store, &[Chain::BTC, Chain::ETH], Network::Testnet).unwrap();
        // The same chain: refused, naming the holder.
        let err = DaemonLock::acquire(&store, &[Chain::SOL, Chain::ETH], Network::Testnet)
            .err()
            .unwrap();
        assert!(
            matches!(&err, LockError::Held { chain: Chain::ETH, holder, .. } if *holder == std::process::id().to_string()),
            "{err}"
        );
        // Other chains, or the other network: free.
        let other = DaemonLock::acquire(&store, &[Chain::SOL], Network::Testnet).unwrap();
        let mainnet = DaemonLock::acquire(&store, &[Chain::ETH], Network::Mainnet).unwrap();
        drop((first, other, mainnet));
        DaemonLock::acquire(&store, &[Chain::ETH], Network::Testnet).unwrap();
    }
}
