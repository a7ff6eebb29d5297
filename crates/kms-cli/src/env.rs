//! Settings from the process environment and the `.env` file; the process
//! environment wins, as with the original's dotenv.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use zeroize::Zeroize;

pub struct Env {
    file: HashMap<String, String>,
    /// The `.env` file that was read, if any.
    #[allow(dead_code)] // replaced by the dotenv rewrite
    pub file_path: Option<PathBuf>,
}

impl Drop for Env {
    fn drop(&mut self) {
        for value in self.file.values_mut() {
            value.zeroize();
        }
    }
}

pub fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// `~/.tatumrc/.env`, read when `--envFile` is not given and it exists.
pub fn default_env_file() -> PathBuf {
    home().join(".tatumrc/.env")
}

impl Env {
    /// Reads `explicit`, else `~/.tatumrc/.env` when it exists.
    pub fn load(explicit: Option<&Path>) -> Result<Env, String> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => Some(default_env_file()).filter(|p| p.exists()),
        };
        let mut file = HashMap::new();
        if let Some(path) = &path {
            let iter =
                dotenvy::from_path_iter(path).map_err(|e| format!("{}: {e}", path.display()))?;
            for item in iter {
                let (k, v) = item.map_err(|e| format!("{}: {e}", path.display()))?;
                file.insert(k, v);
            }
        }
        Ok(Env {
            file,
            file_path: path,
        })
    }

    pub fn get(&self, name: &str) -> Option<String> {
        std::env::var(name)
            .ok()
            .or_else(|| self.file.get(name).cloned())
            .filter(|v| !v.is_empty())
    }
}
