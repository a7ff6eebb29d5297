use std::fmt;

use crate::PasswordSource;

/// Why a password could not be had: the provider, what was asked (a secret
/// name, an alias, a vault URL, a setting) and what came back. Never the
/// secret or the credentials.
#[derive(Debug, thiserror::Error)]
#[error("{provider}: {asked}: {problem}")]
pub struct ProviderError {
    pub provider: PasswordSource,
    pub asked: String,
    pub problem: Problem,
}

impl ProviderError {
    pub(crate) fn new(
        provider: PasswordSource,
        asked: impl Into<String>,
        problem: Problem,
    ) -> Self {
        Self {
            provider,
            asked: asked.into(),
            problem,
        }
    }

    /// A missing or invalid setting, found while building a config.
    pub(crate) fn setting(provider: PasswordSource, problem: Problem) -> Self {
        Self::new(provider, "settings", problem)
    }
}

/// What went wrong. Texts that come from a server are limited to the error
/// code and message of an error answer; a successful answer (which holds the
/// secret) is never quoted.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("{}", missing(.0))]
    MissingSetting(Vec<&'static str>),
    #[error("{name} is invalid: {reason}")]
    InvalidSetting { name: &'static str, reason: String },
    #[error("no terminal to ask on; set {0}")]
    NoTerminal(&'static str),
    #[error("reading the terminal failed: {0}")]
    Terminal(String),
    #[error("no answer: {0}")]
    Transport(String),
    #[error("not found ({0})")]
    NotFound(Box<HttpFailure>),
    #[error("{0}")]
    Http(Box<HttpFailure>),
    #[error("missing key `{0}` in the secret")]
    MissingKey(String),
    #[error("empty value")]
    EmptyValue,
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The answer went past the cap; reading stopped there.
    #[error("answer larger than {} KiB (HTTP {status}); not what the service sends, refused", .limit / 1024)]
    TooLarge { status: u16, limit: usize },
    /// A file named by a setting (a token file, the shared AWS config).
    #[error("{what} `{}`: {reason}", .path.display())]
    File {
        what: String,
        path: std::path::PathBuf,
        reason: String,
    },
    /// Nothing in the credential chain applies.
    #[error("no credentials: {0}")]
    NoCredentials(String),
}

fn missing(names: &[&str]) -> String {
    match names {
        [one] => format!("{one} is not set"),
        many => format!("none of {} is set", many.join(", ")),
    }
}

/// A non-2xx answer: its status and what its body and headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpFailure {
    pub status: u16,
    pub code: Option<String>,
    pub message: Option<String>,
    /// `Retry-After`, as sent (429, 503).
    pub retry_after: Option<String>,
    /// `WWW-Authenticate`, as sent (401).
    pub challenge: Option<String>,
}

impl fmt::Display for HttpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(after) = &self.retry_after {
            write!(f, " (Retry-After: {after})")?;
        }
        if let Some(challenge) = &self.challenge {
            write!(f, " (WWW-Authenticate: {challenge})")?;
        }
        Ok(())
    }
}
