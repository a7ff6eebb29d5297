//! Files that hold secrets: the real file behind a symlink, atomic
//! replacement that keeps the replaced file's owner and a private mode, a
//! lock beside the file.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::{VaultError, VaultWarning};

/// As many symlink hops as Linux follows (`MAXSYMLINKS`).
const MAX_SYMLINK_HOPS: usize = 40;

/// The file that `path` stands for: the path itself, or, through any
/// symlinks, the file they end at. Every read, lock and write uses that path,
/// so a rewrite replaces the target and leaves the link a link, and writers
/// through the link and through the target take the same lock. A dangling
/// link resolves to its (missing) target, which the first write creates.
pub(crate) fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINK_HOPS {
        match fs::canonicalize(&current) {
            Ok(real) => return Ok(real),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                // A relative target is relative to the link's folder; an
                // absolute one replaces the whole path.
                let target = fs::read_link(&current)?;
                current = parent(&current).join(target);
            }
            // Not there yet (nor its folder, perhaps): created at the first write.
            _ => return Ok(current),
        }
    }
    Err(io::Error::other(format!(
        "more than {MAX_SYMLINK_HOPS} symbolic links to follow"
    )))
}

/// Writes `bytes` to `path` so that a reader sees the old file or the new
/// one, never a mix, and a crash loses neither: a temporary file in the same
/// folder (0600 from creation), the replaced file's owner and mode carried
/// over ([`carry_over`]), fsync, rename over, fsync of the folder.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<Vec<VaultWarning>, VaultError> {
    let previous = match fs::metadata(path) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(VaultError::file(path, e)),
    };
    let dir = parent(path);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("wallet.dat");
    let tmp = dir.join(format!(".{name}.tmp-{}-{}", std::process::id(), unique()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| VaultError::file(&tmp, e))?;
        let warnings = carry_over(&file, path, previous.as_ref(), Mode::KeepPrivate)?;
        let io = (|| {
            file.write_all(bytes)?;
            file.sync_all()?;
            drop(file);
            fs::rename(&tmp, path)?;
            File::open(&dir)?.sync_all()
        })();
        io.map_err(|e| VaultError::file(path, e))?;
        Ok(warnings)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Copies `from` to `to` (a new file) with mode 0600 and `from`'s owner, durably.
pub(crate) fn copy_private(from: &Path, to: &Path) -> Result<Vec<VaultWarning>, VaultError> {
    let source = fs::metadata(from).map_err(|e| VaultError::file(from, e))?;
    let bytes = zeroize::Zeroizing::new(fs::read(from).map_err(|e| VaultError::file(from, e))?);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(|e| VaultError::file(to, e))?;
    let result = carry_over(&file, from, Some(&source), Mode::Always0600).and_then(|warnings| {
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .and_then(|()| File::open(parent(to))?.sync_all())
            .map_err(|e| VaultError::file(to, e))?;
        Ok(warnings)
    });
    if result.is_err() {
        let _ = fs::remove_file(to);
    }
    result
}

enum Mode {
    /// The replaced file's mode if it grants group and others nothing, else 0600.
    KeepPrivate,
    /// 0600 whatever the source had (a backup is a new file).
    Always0600,
}

/// Gives `file`, which we just created (so it is ours, 0600), the owner of
/// `previous`, the file it replaces or copies, and a private mode.
///
/// Owner: a root command must not turn the service user's wallet.dat into
/// root's (the service could no longer read it). If the owner cannot be
/// given back (we are not root): when the file's user is already ours only
/// the group differs, and with a 0600 file the group has no access anyway,
/// so the write goes on with [`VaultWarning::GroupNotKept`]; when the user
/// differs, the write is refused ([`VaultError::OwnerNotKept`]): going on
/// would hand the file to us and lock its owner out.
///
/// Mode: kept when it grants group and others nothing (0600, 0400, ...);
/// otherwise 0600, with [`VaultWarning::ModeTightened`]. A new file is 0600.
/// The mode is set explicitly, so the umask does not matter.
fn carry_over(
    file: &File,
    path: &Path,
    previous: Option<&Metadata>,
    mode: Mode,
) -> Result<Vec<VaultWarning>, VaultError> {
    let mut warnings = Vec::new();
    let mut new_mode = 0o600;
    if let Some(previous) = previous {
        let ours = file.metadata().map_err(|e| VaultError::file(path, e))?;
        let (uid, gid) = (previous.uid(), previous.gid());
        if (uid, gid) != (ours.uid(), ours.gid())
            && std::os::unix::fs::fchown(file, Some(uid), Some(gid)).is_err()
        {
            if uid != ours.uid() {
                return Err(VaultError::OwnerNotKept {
                    path: path.to_path_buf(),
                    uid,
                    gid,
                });
            }
            warnings.push(VaultWarning::GroupNotKept {
                path: path.to_path_buf(),
                gid,
            });
        }
        let was = previous.mode() & 0o7777;
        if let Mode::KeepPrivate = mode {
            if was & 0o077 == 0 {
                // Owner bits only; set-id and sticky bits mean nothing here.
                new_mode = was & 0o700;
            } else {
                warnings.push(VaultWarning::ModeTightened {
                    path: path.to_path_buf(),
                    was,
                });
            }
        }
    }
    file.set_permissions(fs::Permissions::from_mode(new_mode))
        .map_err(|e| VaultError::file(path, e))?;
    Ok(warnings)
}

/// Creates the store's folder (0700) if it is missing.
pub(crate) fn ensure_dir(path: &Path) -> io::Result<()> {
    let dir = parent(path);
    if !dir.exists() {
        fs::create_dir_all(&dir)?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    (nanos << 16) ^ COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// An exclusive advisory lock on `.<name>.lock` beside the store, held until
/// dropped. Writers take it for their whole read-modify-write; readers need
/// none, since writes are atomic renames. `path` is the resolved store file
/// ([`resolve`]), so every writer of one file meets the same lock.
pub(crate) struct WriteLock {
    _file: File,
}

impl WriteLock {
    pub(crate) fn acquire(path: &Path) -> io::Result<WriteLock> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("wallet.dat");
        let lock_path = parent(path).join(format!(".{name}.lock"));
        let open = |create_new: bool| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(create_new)
                .mode(0o600)
                .open(&lock_path)
        };
        let file = match open(true) {
            Ok(file) => {
                // A lock file that root creates beside the service user's
                // store would be root's 0600 file, which the service could
                // then never open: give it the store's owner. Best effort:
                // failing means we are not root, and then the file is ours.
                if let Ok(store) = fs::metadata(path) {
                    let _ = std::os::unix::fs::fchown(&file, Some(store.uid()), Some(store.gid()));
                }
                file
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => open(false)?,
            Err(e) => return Err(e),
        };
        file.lock()?;
        Ok(WriteLock { _file: file })
    }
}

/// What identifies one version of the file, cheaply: a rename gives a new
/// inode, and any write changes length or mtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    ino: u64,
    len: u64,
    mtime_ns: i128,
}

pub(crate) fn stamp(path: &Path) -> Option<Stamp> {
    let meta = fs::metadata(path).ok()?;
    Some(Stamp {
        ino: meta.ino(),
        len: meta.len(),
        mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
    })
}

/// Reads the file; a missing file is `None`.
pub(crate) fn read(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_follows_links_to_the_real_file_and_through_dangling_ones() {
        let dir = tempfile::tempdir().unwrap();
        let real_dir = fs::canonicalize(dir.path()).unwrap();
        let target = real_dir.join("data").join("wallet.dat");
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        let link = real_dir.join("link.dat");
        let chain = real_dir.join("chain.dat");
        std::os::unix::fs::symlink("data/wallet.dat", &link).unwrap();
        std::os::unix::fs::symlink(&link, &chain).unwrap();

        // Dangling (the target does not exist yet): the target, relative to the link.
        assert_eq!(resolve(&link).unwrap(), target);
        assert_eq!(resolve(&chain).unwrap(), target);
        fs::write(&target, b"x").unwrap();
        assert_eq!(resolve(&link).unwrap(), target);
        assert_eq!(resolve(&chain).unwrap(), target);
        // A plain missing path is itself.
        let missing = real_dir.join("nothing").join("wallet.dat");
        assert_eq!(resolve(&missing).unwrap(), missing);

        // A loop ends in an error, not a hang.
        let a = real_dir.join("a");
        let b = real_dir.join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        assert!(resolve(&a).is_err());
    }
}
