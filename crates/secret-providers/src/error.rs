use std::fmt;

use crate::PasswordSource;

/// Why a password could not be had: the provider, what was asked (a secret
/// name, an alias, a vault URL, a setting) and what came back. Never the
/// secret or the credentials.
#[derive(Debug, thiserror::Error)]
#[error("{provider}: {asked}: {problem}")]
pub struct ProviderError {
    /// The source that failed.
    pub provider: PasswordSource,
    /// What was asked for: a secret name, an alias, a vault URL, or
    /// `settings` when the config could not be built.
    pub asked: String,
    /// What went wrong.
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
    /// A required setting is not set (or empty); holds the variable names
    /// that were tried, any of which would do.
    #[error("{}", missing(.0))]
    MissingSetting(Vec<&'static str>),
    /// A setting is set but unusable: not a URL, plain http to a remote
    /// host, not a region name, ...
    #[error("{name} is invalid: {reason}")]
    InvalidSetting {
        /// The variable (or config field) at fault.
        name: &'static str,
        /// Why its value was refused.
        reason: String,
    },
    /// The password is to be typed but there is no terminal; holds the
    /// variable to set instead.
    #[error("no terminal to ask on; set {0}")]
    NoTerminal(&'static str),
    /// Reading the terminal failed.
    #[error("reading the terminal failed: {0}")]
    Terminal(String),
    /// No HTTP answer: the connection failed or timed out, or the HTTP
    /// client could not be built.
    #[error("no answer: {0}")]
    Transport(String),
    /// The service answered that the secret or alias does not exist (404,
    /// or AWS's `ResourceNotFoundException`).
    #[error("not found ({0})")]
    NotFound(Box<HttpFailure>),
    /// Any other non-2xx answer, from the service or from a token endpoint.
    #[error("{0}")]
    Http(Box<HttpFailure>),
    /// The AWS secret's JSON object has no such key.
    #[error("missing key `{0}` in the secret")]
    MissingKey(String),
    /// The password found (or typed) is empty.
    #[error("empty value")]
    EmptyValue,
    /// A successful answer is not of the expected shape; says what was
    /// missing or wrong, never the secret.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The answer went past the cap; reading stopped there.
    #[error("answer larger than {} KiB (HTTP {status}); not what the service sends, refused", .limit / 1024)]
    TooLarge {
        /// The answer's HTTP status.
        status: u16,
        /// The cap, in bytes.
        limit: usize,
    },
    /// A file named by a setting (a token file, the shared AWS config).
    #[error("{what} `{}`: {reason}", .path.display())]
    File {
        /// Which file it is, e.g. the web identity token file.
        what: String,
        /// The file's path, as set.
        path: std::path::PathBuf,
        /// Why it could not be used: the I/O error or what is wrong in it.
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
    /// The HTTP status code.
    pub status: u16,
    /// The service's error code, from the error body (or AWS's
    /// `x-amzn-ErrorType` header), with any credentials scrubbed.
    pub code: Option<String>,
    /// The service's error message, from the error body, with any
    /// credentials scrubbed.
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
