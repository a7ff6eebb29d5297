//! Files named by settings: token files (read per request, because
//! Kubernetes and ECS rotate them) and the shared AWS config files. Each is
//! read up to a cap, so a wrong path (a device, a log) cannot grow memory.

use std::io::Read;
use std::path::Path;

use secrecy::SecretString;
use tokio::io::AsyncReadExt;
use zeroize::Zeroizing;

use crate::error::Problem;

/// Far more than any token or config file; a bigger file is not one.
pub(crate) const MAX_FILE: u64 = 1 << 20;

fn file_problem(what: &str, path: &Path, reason: impl Into<String>) -> Problem {
    Problem::File {
        what: what.to_string(),
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// A token file's contents, trimmed; empty is an error.
pub(crate) async fn read_token_file(path: &Path, what: &str) -> Result<SecretString, Problem> {
    let problem = |reason: String| file_problem(what, path, reason);
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| problem(e.to_string()))?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| problem(e.to_string()))?;
    secret_text(bytes, what, path)
}

fn secret_text(
    bytes: Zeroizing<Vec<u8>>,
    what: &str,
    path: &Path,
) -> Result<SecretString, Problem> {
    if bytes.len() as u64 > MAX_FILE {
        return Err(file_problem(
            what,
            path,
            format!("larger than {} KiB, not a token", MAX_FILE / 1024),
        ));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| file_problem(what, path, "not UTF-8 text"))?
        .trim();
    if text.is_empty() {
        return Err(file_problem(what, path, "empty"));
    }
    Ok(SecretString::from(text))
}

/// A config file's text, or `None` when it does not exist (the shared AWS
/// files are optional). It may hold keys: wiped when dropped.
pub(crate) fn read_config_file(
    path: &Path,
    what: &str,
) -> Result<Option<Zeroizing<String>>, Problem> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(file_problem(what, path, e.to_string())),
    };
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| file_problem(what, path, e.to_string()))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(file_problem(
            what,
            path,
            format!("larger than {} KiB", MAX_FILE / 1024),
        ));
    }
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(Some(Zeroizing::new(text))),
        Err(e) => {
            // The bytes come back with the error: wipe them too.
            drop(Zeroizing::new(e.into_bytes()));
            Err(file_problem(what, path, "not UTF-8 text"))
        }
    }
}
