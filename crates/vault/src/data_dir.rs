//! Which folder holds `wallet.dat` and `.env` when no `--path` or
//! `--envFile` names them: `~/.tatumrc`, as in the original, or, in our
//! container image, the folder the original's 8.x image used
//! (`/home/node/.tatumrc`) when the user mounted one there.
//!
//! The original's image ran as root with the store in `/root/.tatumrc` up to
//! 7.x; 8.x switched to the `node` user, so its documented mount became
//! `-v …:/home/node/.tatumrc`. Our image runs as root again. Without this
//! rule a user who kept the 8.x mount would have the mounted folder ignored
//! and their new wallets written to the container's own `/root/.tatumrc`
//! (an anonymous volume), lost with the container.

use std::path::{Path, PathBuf};

/// Two folders that could each be the store's: the KMS will not guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{mounted} is mounted (the original 8.x image's folder) but {home_store} also exists: \
     which store to use is ambiguous. Mount your folder at only one of {} and {}, \
     or name the file with --path",
    .home_store.parent().unwrap_or(Path::new("/")).display(),
    .mounted.display()
)]
pub struct AmbiguousDataDir {
    /// The store in the home folder.
    pub home_store: PathBuf,
    /// The other folder, which exists.
    pub mounted: PathBuf,
}

/// The folder of the store and its `.env`.
///
/// `home` is the user's home folder; `alternative` the folder the image
/// declares as the original 8.x image's (`TATUM_KMS_LEGACY_DATA_DIR`, set
/// only in our image). It is used when it exists as a folder (in our image
/// it exists only when mounted) and the home folder holds no `wallet.dat`;
/// when both do, [`AmbiguousDataDir`]. Otherwise `home/.tatumrc`.
pub fn data_dir(home: &Path, alternative: Option<&Path>) -> Result<PathBuf, AmbiguousDataDir> {
    let default = home.join(".tatumrc");
    let Some(mounted) = alternative.filter(|dir| dir.is_dir()) else {
        return Ok(default);
    };
    if same_folder(mounted, &default) {
        return Ok(default);
    }
    let home_store = default.join("wallet.dat");
    if home_store.exists() {
        return Err(AmbiguousDataDir {
            home_store,
            mounted: mounted.to_path_buf(),
        });
    }
    Ok(mounted.to_path_buf())
}

fn same_folder(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake root: `root/root` is the home, `root/home/node/.tatumrc` the
    /// original 8.x image's folder, created only when "mounted".
    struct Root {
        dir: tempfile::TempDir,
    }

    impl Root {
        fn new() -> Root {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("root/.tatumrc")).unwrap();
            Root { dir }
        }
        fn home(&self) -> PathBuf {
            self.dir.path().join("root")
        }
        fn node_dir(&self) -> PathBuf {
            self.dir.path().join("home/node/.tatumrc")
        }
        fn mount_node_dir(&self) {
            std::fs::create_dir_all(self.node_dir()).unwrap();
        }
        fn resolve(&self) -> Result<PathBuf, AmbiguousDataDir> {
            data_dir(&self.home(), Some(&self.node_dir()))
        }
    }

    #[test]
    fn the_home_folder_when_nothing_is_mounted_at_the_8x_folder() {
        let root = Root::new();
        assert_eq!(root.resolve(), Ok(root.home().join(".tatumrc")));
        // Outside our image nothing names an alternative.
        assert_eq!(
            data_dir(&root.home(), None),
            Ok(root.home().join(".tatumrc"))
        );
    }

    #[test]
    fn the_8x_folder_when_it_is_mounted_empty_or_with_a_store() {
        let root = Root::new();
        root.mount_node_dir();
        assert_eq!(root.resolve(), Ok(root.node_dir()), "a fresh mount");
        std::fs::write(root.node_dir().join("wallet.dat"), "x").unwrap();
        std::fs::write(root.node_dir().join(".env"), "A=1\n").unwrap();
        assert_eq!(
            root.resolve(),
            Ok(root.node_dir()),
            "a mount holding a store"
        );
    }

    #[test]
    fn two_stores_are_refused_naming_both() {
        let root = Root::new();
        std::fs::write(root.home().join(".tatumrc/wallet.dat"), "x").unwrap();
        assert_eq!(
            root.resolve(),
            Ok(root.home().join(".tatumrc")),
            "only the home store"
        );
        root.mount_node_dir();
        let err = root.resolve().unwrap_err();
        assert_eq!(err.home_store, root.home().join(".tatumrc/wallet.dat"));
        assert_eq!(err.mounted, root.node_dir());
        let message = err.to_string();
        assert!(
            message.contains(&root.node_dir().display().to_string()),
            "{message}"
        );
        assert!(message.contains("--path"), "{message}");
    }

    #[test]
    fn a_file_at_the_8x_path_is_not_a_mount() {
        let root = Root::new();
        std::fs::create_dir_all(root.node_dir().parent().unwrap()).unwrap();
        std::fs::write(root.node_dir(), "not a folder").unwrap();
        assert_eq!(root.resolve(), Ok(root.home().join(".tatumrc")));
    }

    #[test]
    fn the_home_folder_named_as_the_alternative_is_the_home_folder() {
        let root = Root::new();
        std::fs::write(root.home().join(".tatumrc/wallet.dat"), "x").unwrap();
        let home_dir = root.home().join(".tatumrc");
        assert_eq!(data_dir(&root.home(), Some(&home_dir)), Ok(home_dir));
    }
}
