use kms_chain_signers::SignerError;
use kms_vault::VaultError;

/// A failure as the user sees it: one message on stderr and an exit code
/// (1 failure, 2 usage error or wrong password).
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub fn failure(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
    /// The original's `{"error": "..."}` shape, pretty-printed.
    pub fn json(message: impl Into<String>) -> Self {
        let body = serde_json::json!({ "error": message.into() });
        Self::failure(serde_json::to_string_pretty(&body).expect("json"))
    }
    pub fn no_wallet(id: &str) -> Self {
        Self::json(format!("No such wallet for signatureId '{id}'."))
    }
}

impl From<VaultError> for CliError {
    fn from(e: VaultError) -> Self {
        match e {
            VaultError::WrongPassword => CliError::usage(format!("Error: {e}.")),
            other => CliError::failure(format!("Error: {other}")),
        }
    }
}

impl From<SignerError> for CliError {
    fn from(e: SignerError) -> Self {
        match e {
            SignerError::InvalidIndex(_) => CliError::usage(format!("Error: {e}")),
            other => CliError::failure(format!("Error: {other}")),
        }
    }
}

impl From<kms_core::UnsupportedChain> for CliError {
    fn from(e: kms_core::UnsupportedChain) -> Self {
        match e.note {
            Some(note) => CliError::failure(format!("Error: {e} ({note})")),
            None => CliError::failure(format!("Error: {e}")),
        }
    }
}
