//! Where the wallet password comes from. This crate holds the trait and the
//! vocabulary; the five sources (environment, prompt, VGS, Azure Key Vault,
//! AWS Secrets Manager) are built in the password-sources issue. Until then
//! the CLI reads `TATUM_KMS_PASSWORD` or prompts itself, and refuses
//! `--vgs`/`--azure`/`--aws` with a clear message.

use async_trait::async_trait;
use secrecy::SecretString;

/// The sources the original offers, selected by its flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordSource {
    /// `TATUM_KMS_PASSWORD`.
    Env,
    /// A no-echo prompt on the terminal.
    Interactive,
    /// `--vgs`: a VGS vault alias.
    Vgs,
    /// `--azure`: an Azure Key Vault secret.
    Azure,
    /// `--aws`: a key of an AWS Secrets Manager secret.
    Aws,
}

/// Why a password could not be had. Names the provider, what was asked and
/// what came back; never the secret or the credentials.
#[derive(Debug, thiserror::Error)]
#[error("{provider}: {what}: {reason}")]
pub struct ProviderError {
    pub provider: &'static str,
    pub what: String,
    pub reason: String,
}

/// A place the password can be fetched from.
#[async_trait]
pub trait SecretProvider: Send + Sync {
    fn source(&self) -> PasswordSource;
    async fn password(&self) -> Result<SecretString, ProviderError>;
}
