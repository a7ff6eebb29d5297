//! The two local sources: `TATUM_KMS_PASSWORD` and the terminal.

use async_trait::async_trait;
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::{Problem, ProviderError};
use crate::vars::Vars;
use crate::{PasswordSource, SecretProvider};

pub const PASSWORD_VARIABLE: &str = "TATUM_KMS_PASSWORD";

#[derive(Debug, Clone)]
pub struct EnvConfig {
    pub password: SecretString,
}

impl EnvConfig {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ProviderError> {
        let password = Vars(&lookup)
            .require_secret(&[PASSWORD_VARIABLE])
            .map_err(|p| ProviderError::setting(PasswordSource::Env, p))?;
        Ok(Self { password })
    }
}

#[derive(Debug)]
pub struct EnvProvider {
    config: EnvConfig,
}

impl EnvProvider {
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

#[derive(Debug, Clone)]
pub struct InteractiveConfig {
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

#[derive(Debug)]
pub struct InteractiveProvider {
    config: InteractiveConfig,
}

impl InteractiveProvider {
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
