use kms_core::Chain;

use kms_core::ApiError;

/// Why a derivation or a signature failed. Messages name what was wrong and
/// never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("invalid mnemonic: {0}")]
    InvalidMnemonic(String),
    #[error("invalid derivation index '{0}': expected a whole number from 0 to 2147483647")]
    InvalidIndex(String),
    #[error("invalid {chain} private key: {reason}")]
    InvalidPrivateKey { chain: Chain, reason: String },
    #[error("invalid {chain} xpub: {reason}")]
    InvalidXpub { chain: Chain, reason: String },
    #[error("invalid {chain} transaction: {reason}")]
    InvalidTransaction { chain: Chain, reason: String },
    #[error("{chain}: {what} is not supported")]
    Unsupported { chain: Chain, what: String },
    #[error("{chain}: no key for this transaction: {reason}")]
    MissingKey { chain: Chain, reason: String },
    #[error("{chain}: {reason}")]
    Network { chain: Chain, reason: String },
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl SignerError {
    pub fn tx(chain: Chain, reason: impl Into<String>) -> Self {
        SignerError::InvalidTransaction {
            chain,
            reason: reason.into(),
        }
    }
    pub fn key(chain: Chain, reason: impl Into<String>) -> Self {
        SignerError::InvalidPrivateKey {
            chain,
            reason: reason.into(),
        }
    }
    pub fn unsupported(chain: Chain, what: impl Into<String>) -> Self {
        SignerError::Unsupported {
            chain,
            what: what.into(),
        }
    }
}
