//! Secrets typed by the user: without echo on a terminal, or from stdin when
//! it is not one (so `tatum-kms storemanagedwallet BTC < file` works and
//! nothing lands in shell history).

use std::io::{IsTerminal, Read};

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::CliError;

pub(crate) fn read_secret(prompt: &str, what: &str) -> Result<SecretString, CliError> {
    let text = if std::io::stdin().is_terminal() {
        Zeroizing::new(
            rpassword::prompt_password(prompt)
                .map_err(|e| CliError::failure(format!("reading the {what}: {e}")))?,
        )
    } else {
        let mut buf = Zeroizing::new(String::new());
        std::io::stdin()
            .read_to_string(&mut buf)
            .map_err(|e| CliError::failure(format!("reading the {what} from stdin: {e}")))?;
        buf
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CliError::usage(format!("no {what} given (empty input)")));
    }
    Ok(SecretString::from(trimmed.to_string()))
}

/// A password from the terminal only; `None` when there is no terminal, so
/// callers can name the variable to set instead of hanging.
pub(crate) fn prompt_password(prompt: &str) -> Result<Option<SecretString>, CliError> {
    if !std::io::stdin().is_terminal() && std::fs::File::open("/dev/tty").is_err() {
        return Ok(None);
    }
    match rpassword::prompt_password(prompt) {
        Ok(p) => Ok(Some(SecretString::from(p))),
        Err(_) => Ok(None),
    }
}
