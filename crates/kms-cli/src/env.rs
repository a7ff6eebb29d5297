//! Settings from the process environment and the `.env` files, loaded as
//! the original loads them (`src/index.ts` of tatum-kms, dotenv 16):
//!
//! 1. `dotenv.config()` at start-up: `.env` in the working directory, when
//!    it is there;
//! 2. then `--envFile`, else `~/.tatumrc/.env`, when that path exists.
//!
//! dotenv never overrides a variable that is already set, so the process
//! environment wins over both files, and the working directory's `.env`
//! wins over the second file. A name set to an empty value still counts as
//! set: it hides the later sources (and reads as unset, see [`Env::get`]).
//! The files are parsed by [`crate::dotenv`], dotenv 16.4.7's rules.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::dotenv;

pub(crate) struct Env {
    /// Every name the files set, with the value of the first file that
    /// set it.
    file: HashMap<String, Zeroizing<String>>,
    /// The `--envFile` or `~/.tatumrc/.env` file that was read, if any.
    pub(crate) file_path: Option<PathBuf>,
    /// The working directory's `.env`, when it was read.
    pub(crate) cwd_file: Option<PathBuf>,
}

pub(crate) fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// The variable our container image sets to the folder the original's 8.x
/// image kept its store in (`/home/node/.tatumrc`); read from the process
/// environment only, since it says where the `.env` file is.
pub(crate) const LEGACY_DATA_DIR_VAR: &str = "TATUM_KMS_LEGACY_DATA_DIR";

/// The folder of `wallet.dat` and `.env` when no flag names them:
/// `~/.tatumrc`, or in our image a folder mounted where the original's 8.x
/// image kept it ([`kms_vault::data_dir`]).
pub(crate) fn data_dir() -> Result<PathBuf, kms_vault::AmbiguousDataDir> {
    let alternative = std::env::var_os(LEGACY_DATA_DIR_VAR)
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from);
    kms_vault::data_dir(&home(), alternative.as_deref())
}

impl Env {
    /// Reads `./.env` when present, then `explicit`, else `~/.tatumrc/.env`
    /// when it exists. Never fails: as with the original, a file that is
    /// missing or cannot be read is left out (with a warning on stderr for
    /// a missing `--envFile` and for any file that exists but cannot be
    /// read, where the original said nothing), and lines dotenv cannot
    /// parse are skipped. The `Result` is kept for the callers.
    pub(crate) fn load(explicit: Option<&Path>, data_dir: &Path) -> Result<Env, String> {
        let cwd_env = std::env::current_dir()
            .map(|dir| dir.join(".env"))
            .unwrap_or_else(|_| PathBuf::from(".env"));
        Ok(Self::load_from(&cwd_env, explicit, &home(), data_dir))
    }

    /// [`Env::load`] with the working directory's `.env`, the home
    /// directory and the data folder given.
    fn load_from(cwd_env: &Path, explicit: Option<&Path>, home: &Path, data_dir: &Path) -> Env {
        let mut env = Env {
            file: HashMap::new(),
            file_path: None,
            cwd_file: None,
        };
        // `dotenv.config()`: a missing ./.env is the usual case; silent.
        if let Some(values) = read_env_file(cwd_env, Missing::Silent) {
            env.add(values);
            env.cwd_file = Some(cwd_env.to_path_buf());
        }
        // `existsSync(envFilePath)` then `dotenv.config({ path })`.
        let (second, missing) = match explicit {
            Some(path) => (path.to_path_buf(), Missing::Warn),
            None => (data_dir.join(".env"), Missing::Silent),
        };
        if !second.exists() {
            if missing == Missing::Warn {
                tracing::warn!(
                    "--envFile {}: no such file; its settings are not read",
                    second.display()
                );
            }
            return env;
        }
        let resolved = resolve_home(&second, home);
        if let Some(values) = read_env_file(&resolved, Missing::Warn) {
            env.add(values);
            env.file_path = Some(resolved);
        }
        env
    }

    /// dotenv's `populate` without `override`: names already set keep
    /// their value.
    fn add(&mut self, values: HashMap<String, Zeroizing<String>>) {
        for (name, value) in values {
            self.file.entry(name).or_insert(value);
        }
    }

    /// A setting: the process environment if the name is set there (even
    /// to an empty value), else the first file that set it. Empty is unset.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        match std::env::var_os(name) {
            // Node decodes the environment as UTF-8 with replacement.
            Some(value) => Some(value.to_string_lossy().into_owned()),
            None => self.file.get(name).map(|value| value.as_str().to_owned()),
        }
        .filter(|value| !value.is_empty())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Missing {
    Silent,
    Warn,
}

/// dotenv's `_resolveHome`: a path starting with `~` is taken from the home
/// directory (`path.join(os.homedir(), envPath.slice(1))`). The original
/// checked that the path exists *before* this, so `--envFile=~/x` (no
/// shell expansion) is read only when a `./~/x` exists too: kept as is.
fn resolve_home(path: &Path, home: &Path) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    match path.as_os_str().as_bytes().strip_prefix(b"~") {
        Some(rest) => {
            let rest = std::ffi::OsStr::from_bytes(rest);
            home.join(Path::new(rest).strip_prefix("/").unwrap_or(Path::new(rest)))
        }
        None => path.to_path_buf(),
    }
}

/// One file's settings, or `None` when it cannot be read (dotenv returns
/// the error and the original ignores it). Its lines dotenv would skip are
/// named at debug level, by number only: they may hold a secret.
fn read_env_file(path: &Path, missing: Missing) -> Option<HashMap<String, Zeroizing<String>>> {
    let bytes = match read_secret_file(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && missing == Missing::Silent => {
            return None
        }
        Err(e) => {
            tracing::warn!(
                "{}: cannot read it ({e}); its settings are not read",
                path.display()
            );
            return None;
        }
    };
    let parsed = dotenv::parse(&bytes);
    for line in &parsed.ignored_lines {
        tracing::debug!(
            file = %path.display(),
            line,
            "not a setting (KEY=VALUE); skipped, as dotenv does"
        );
    }
    Some(parsed.values)
}

/// The file's bytes in a buffer sized once (growing it would leave copies
/// of a password in freed memory) and wiped when dropped.
fn read_secret_file(path: &Path) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let mut bytes = Zeroizing::new(Vec::with_capacity(
        usize::try_from(size).unwrap_or(0).saturating_add(1),
    ));
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dirs {
        _root: tempfile::TempDir,
        cwd_env: PathBuf,
        home: PathBuf,
    }

    fn dirs() -> Dirs {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        std::fs::create_dir_all(home.join(".tatumrc")).unwrap();
        std::fs::create_dir_all(root.path().join("work")).unwrap();
        Dirs {
            cwd_env: root.path().join("work/.env"),
            home,
            _root: root,
        }
    }

    fn file_value(env: &Env, name: &str) -> Option<String> {
        env.file.get(name).map(|v| v.as_str().to_owned())
    }

    #[test]
    fn the_working_directory_env_wins_over_the_home_one() {
        let d = dirs();
        std::fs::write(&d.cwd_env, "A=cwd\nEMPTY=\n").unwrap();
        std::fs::write(d.home.join(".tatumrc/.env"), "A=home\nB=home\nEMPTY=home\n").unwrap();
        let env = Env::load_from(&d.cwd_env, None, &d.home, &d.home.join(".tatumrc"));
        assert_eq!(file_value(&env, "A").as_deref(), Some("cwd"));
        assert_eq!(file_value(&env, "B").as_deref(), Some("home"));
        // Set, though empty, in the first file: dotenv keeps it.
        assert_eq!(file_value(&env, "EMPTY").as_deref(), Some(""));
        assert_eq!(env.cwd_file.as_deref(), Some(d.cwd_env.as_path()));
        assert_eq!(env.file_path, Some(d.home.join(".tatumrc/.env")));
    }

    #[test]
    fn env_file_replaces_the_home_one_and_a_missing_one_is_not_fatal() {
        let d = dirs();
        std::fs::write(d.home.join(".tatumrc/.env"), "A=home\n").unwrap();
        let custom = d.home.join("custom.env");
        std::fs::write(&custom, "A=custom\n").unwrap();
        let env = Env::load_from(&d.cwd_env, Some(&custom), &d.home, &d.home.join(".tatumrc"));
        assert_eq!(file_value(&env, "A").as_deref(), Some("custom"));
        assert!(env.cwd_file.is_none());

        let missing = d.home.join("missing.env");
        let env = Env::load_from(
            &d.cwd_env,
            Some(&missing),
            &d.home,
            &d.home.join(".tatumrc"),
        );
        assert!(
            env.file.is_empty(),
            "a missing --envFile does not fall back to the home .env"
        );
        assert!(env.file_path.is_none());
    }

    #[test]
    fn a_file_that_cannot_be_read_is_left_out() {
        let d = dirs();
        // A directory where the file should be: dotenv's read fails, the
        // original goes on without it.
        std::fs::create_dir_all(&d.cwd_env).unwrap();
        std::fs::write(d.home.join(".tatumrc/.env"), "A=home\n").unwrap();
        let env = Env::load_from(&d.cwd_env, None, &d.home, &d.home.join(".tatumrc"));
        assert!(env.cwd_file.is_none());
        assert_eq!(file_value(&env, "A").as_deref(), Some("home"));
    }

    #[test]
    fn a_tilde_path_is_taken_from_home_as_dotenv_does() {
        let home = Path::new("/h/me");
        assert_eq!(
            resolve_home(Path::new("~/x/.env"), home),
            home.join("x/.env")
        );
        assert_eq!(resolve_home(Path::new("~x"), home), home.join("x"));
        assert_eq!(resolve_home(Path::new("/a/~/b"), home), Path::new("/a/~/b"));
    }
}
