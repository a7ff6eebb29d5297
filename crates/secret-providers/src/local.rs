//! The two local sources: `TATUM_KMS_PASSWORD` and the terminal.

use async_trait::async_trait;
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::{Problem, ProviderError};
use crate::vars::Vars;
use crate::{PasswordSource, SecretProvider};

/// The variable that holds the wallet password itself.
pub(crate) const PASSWORD_VARIABLE: &str = "TATUM_KMS_PASSWORD";

/// The password, as read from `TATUM_KMS_PASSWORD`.
#[derive(Debug, Clone)]
pub struct EnvConfig {
    /// The wallet password.
    pub password: SecretString,
}

impl EnvConfig {
    /// Reads `TATUM_KMS_PASSWORD`; unset or empty is `MissingSetting`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ProviderError> {
        let password = Vars(&lookup)
            .require_secret(&[PASSWORD_VARIABLE])
            .map_err(|p| ProviderError::setting(PasswordSource::Env, p))?;
        Ok(Self { password })
    }
}

/// Gives the password taken from `TATUM_KMS_PASSWORD`.
#[derive(Debug)]
pub struct EnvProvider {
    config: EnvConfig,
}

impl EnvProvider {
    /// A provider that gives `config.password`.
    pub fn new(config: EnvConfig) -> Self {
        Self { config }
    }
}

#[async_trait]
impl SecretProvider for EnvProvider {
    fn source(&self) -> PasswordSource {
        PasswordSource::Env
    }

    fn describe(&self) -> String {
        PASSWORD_VARIABLE.to_string()
    }

    async fn password(&self) -> Result<SecretString, ProviderError> {
        Ok(self.config.password.clone())
    }
}

/// What the terminal prompt says.
#[derive(Debug, Clone)]
pub struct InteractiveConfig {
    /// The text shown before the no-echo input.
    pub prompt: String,
}

impl Default for InteractiveConfig {
    fn default() -> Self {
        Self {
            prompt: format!(
                "Enter password to access wallet store (or set env var {PASSWORD_VARIABLE}):"
            ),
        }
    }
}

/// Asks for the password on the terminal, without echo.
#[derive(Debug)]
pub struct InteractiveProvider {
    config: InteractiveConfig,
}

impl InteractiveProvider {
    /// A provider that prompts with `config.prompt`.
    pub fn new(config: InteractiveConfig) -> Self {
        Self { config }
    }
}

#[async_trait]
impl SecretProvider for InteractiveProvider {
    fn source(&self) -> PasswordSource {
        PasswordSource::Interactive
    }

    fn describe(&self) -> String {
        "password".to_string()
    }

    async fn password(&self) -> Result<SecretString, ProviderError> {
        let prompt = self.config.prompt.clone();
        // The prompt blocks on the terminal; keep it off the async workers.
        tokio::task::spawn_blocking(move || ask(&prompt))
            .await
            .map_err(|e| Problem::Terminal(e.to_string()))
            .and_then(|answer| answer)
            .map_err(|p| ProviderError::new(PasswordSource::Interactive, "password", p))
    }
}

fn ask(prompt: &str) -> Result<SecretString, Problem> {
    // Without a terminal the prompt would fail or hang (a daemon, a
    // container without -t): say at once which variable to set instead.
    if !has_terminal() {
        return Err(Problem::NoTerminal(PASSWORD_VARIABLE));
    }
    let typed = Zeroizing::new(
        rpassword::prompt_password(prompt).map_err(|e| Problem::Terminal(e.to_string()))?,
    );
    if typed.is_empty() {
        return Err(Problem::EmptyValue);
    }
    Ok(SecretString::from(typed.as_str()))
}

/// rpassword reads `/dev/tty` on Unix, whatever stdin is.
#[cfg(unix)]
fn has_terminal() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

#[cfg(not(unix))]
fn has_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal()
}
