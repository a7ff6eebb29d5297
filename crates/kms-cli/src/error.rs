//! One error type for every command; `main` prints it in one place.

use kms_chain_signers::SignerError;
use kms_core::UnsupportedChain;
use kms_signing::SignError;
use kms_vault::VaultError;

/// A failure as the user sees it: one message on stderr and an exit code
/// (1 failure, 2 usage error or wrong password).
#[derive(Debug)]
pub(crate) enum CliError {
    /// Printed as `Error: …`, exit 1.
    Failure(String),
    /// Printed as `Error: …`, exit 2: the command line, a setting or the password is wrong.
    Usage(String),
    /// The original's `{"error": "..."}` shape, pretty-printed; exit 1.
    Json(String),
    /// Clap's own message (help, version, a malformed command line).
    Clap(clap::Error),
    /// Nothing to print: stdout's reader went away.
    OutputClosed,
}

impl CliError {
    pub(crate) fn failure(message: impl Into<String>) -> Self {
        CliError::Failure(message.into())
    }
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }
    pub(crate) fn json(message: impl Into<String>) -> Self {
        CliError::Json(message.into())
    }
    pub(crate) fn no_wallet(id: &str) -> Self {
        Self::json(format!("No such wallet for signatureId '{id}'."))
    }

    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Failure(_) | CliError::Json(_) => 1,
            CliError::Usage(_) => 2,
            // 128 + SIGPIPE, what a shell reports for a process the closed pipe killed.
            CliError::OutputClosed => 141,
            CliError::Clap(e) => {
                if e.use_stderr() {
                    2
                } else {
                    0
                }
            }
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Failure(m) | CliError::Usage(m) => write!(f, "Error: {m}"),
            CliError::Json(m) => {
                let body = serde_json::json!({ "error": m });
                f.write_str(&serde_json::to_string_pretty(&body).map_err(|_| std::fmt::Error)?)
            }
            CliError::Clap(e) => write!(f, "{e}"),
            CliError::OutputClosed => Ok(()),
        }
    }
}

impl From<VaultError> for CliError {
    fn from(e: VaultError) -> Self {
        match e {
            VaultError::WrongPassword => CliError::usage(format!("{e}.")),
            VaultError::KdfCostAboveDefault { .. } => CliError::usage(format!(
                "{e}; if you raised the cost yourself, pass --allow-costly-kdf"
            )),
            other => CliError::failure(other.to_string()),
        }
    }
}

impl From<SignerError> for CliError {
    fn from(e: SignerError) -> Self {
        match e {
            SignerError::InvalidIndex(_) => CliError::usage(e.to_string()),
            other => CliError::failure(other.to_string()),
        }
    }
}

impl From<SignError> for CliError {
    fn from(e: SignError) -> Self {
        match e {
            SignError::Signer(e) => e.into(),
            other => CliError::failure(other.to_string()),
        }
    }
}

impl From<UnsupportedChain> for CliError {
    fn from(e: UnsupportedChain) -> Self {
        CliError::failure(e.explained())
    }
}
