//! Where the wallet password comes from: `TATUM_KMS_PASSWORD`, a no-echo
//! terminal prompt, a VGS alias, an Azure Key Vault secret or a key of an AWS
//! Secrets Manager secret.
//!
//! Each source has a typed config. The library reads no environment itself:
//! every config has a `from_lookup` constructor that knows the variable names
//! and asks the caller's lookup (the process environment, a `.env` file, ...).
//! Errors name the provider, what was asked and what came back, never the
//! secret or the credentials.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod aws;
mod aws_credentials;
mod aws_profile;
mod azure;
mod error;
mod files;
mod http;
mod local;
pub mod sigv4;
mod vars;
mod vgs;
mod xml;

use std::fmt;

use async_trait::async_trait;
use secrecy::SecretString;

pub use aws::{AwsConfig, AwsProvider};
pub use aws_credentials::{
    AwsCredentialSource, AwsCredentials, ContainerAuthorization, ContainerEndpoint, WebIdentity,
};
pub use azure::{vault_url, AzureConfig, AzureCredential, AzureProvider};
pub use error::{HttpFailure, Problem, ProviderError};
use local::PASSWORD_VARIABLE;
pub use local::{EnvConfig, EnvProvider, InteractiveConfig, InteractiveProvider};
pub use vgs::{VgsConfig, VgsProvider, DEFAULT_VGS_BASE_URL};

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

impl PasswordSource {
    /// The source when no `--vgs`/`--azure`/`--aws` flag is given: the
    /// variable when it is set, else the prompt (which fails at once, naming
    /// the variable, when there is no terminal).
    pub fn local(lookup: impl Fn(&str) -> Option<String>) -> Self {
        match lookup(PASSWORD_VARIABLE) {
            Some(value) if !value.is_empty() => Self::Env,
            _ => Self::Interactive,
        }
    }
}

impl fmt::Display for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Env => "environment",
            Self::Interactive => "terminal prompt",
            Self::Vgs => "VGS",
            Self::Azure => "Azure Key Vault",
            Self::Aws => "AWS Secrets Manager",
        })
    }
}

/// A place the password can be fetched from.
#[async_trait]
pub trait SecretProvider: Send + Sync {
    /// Which of the sources this provider is.
    fn source(&self) -> PasswordSource;
    /// What will be asked for, for logs: no secrets, no credentials.
    fn describe(&self) -> String;
    /// Fetches (or, for the terminal, asks for) the password; an empty one
    /// is an error.
    async fn password(&self) -> Result<SecretString, ProviderError>;
}

/// The provider for `source`, configured from the caller's variables.
pub fn provider_from_lookup(
    source: PasswordSource,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Box<dyn SecretProvider>, ProviderError> {
    Ok(match source {
        PasswordSource::Env => Box::new(EnvProvider::new(EnvConfig::from_lookup(lookup)?)),
        PasswordSource::Interactive => {
            Box::new(InteractiveProvider::new(InteractiveConfig::default()))
        }
        PasswordSource::Vgs => Box::new(VgsProvider::new(VgsConfig::from_lookup(lookup)?)?),
        PasswordSource::Azure => Box::new(AzureProvider::new(AzureConfig::from_lookup(lookup)?)?),
        PasswordSource::Aws => Box::new(AwsProvider::new(AwsConfig::from_lookup(lookup)?)?),
    })
}
