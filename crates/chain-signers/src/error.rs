use kms_core::Chain;

use kms_core::ApiError;

/// Why a derivation or a signature failed. Messages name what was wrong and
/// never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// The mnemonic's words or checksum are wrong, or no key can be derived
    /// from its seed along the chain's path; the text says what.
    #[error("invalid mnemonic: {0}")]
    InvalidMnemonic(String),
    /// A derivation index that is not a whole number or is above
    /// [`MAX_INDEX`](crate::MAX_INDEX), or that the chain cannot derive at;
    /// holds the index as given.
    #[error("invalid derivation index '{0}': expected a whole number from 0 to 2147483647")]
    InvalidIndex(String),
    /// A private key that is not in the chain's format or not a valid key.
    #[error("invalid {chain} private key: {reason}")]
    InvalidPrivateKey {
        /// The chain the key was given for.
        chain: Chain,
        /// What is wrong with it (never the key itself).
        reason: String,
    },
    /// An extended public key that does not parse or does not fit the chain.
    #[error("invalid {chain} xpub: {reason}")]
    InvalidXpub {
        /// The chain the xpub was given for.
        chain: Chain,
        /// What is wrong with it.
        reason: String,
    },
    /// A pending transaction the chain cannot sign as given: a malformed
    /// `serializedTransaction`, missing or contradictory fields, an input
    /// that cannot be signed.
    #[error("invalid {chain} transaction: {reason}")]
    InvalidTransaction {
        /// The transaction's chain.
        chain: Chain,
        /// What is wrong with it.
        reason: String,
    },
    /// Something this chain's signer does not do, e.g. a kind of request the
    /// original left to its SDK.
    #[error("{chain}: {what} is not supported")]
    Unsupported {
        /// The chain asked.
        chain: Chain,
        /// What was asked of it.
        what: String,
    },
    /// The resolved keys do not fit the transaction: there are none, an
    /// input is spendable by none of them, one of them spends no input, or
    /// an off-chain withdrawal needs a mnemonic the wallet does not have.
    #[error("{chain}: no key for this transaction: {reason}")]
    MissingKey {
        /// The transaction's chain.
        chain: Chain,
        /// What is missing or does not fit.
        reason: String,
    },
    /// An answer fetched in [`Signer::prepare`](crate::Signer::prepare)
    /// lacks what signing needs or is malformed.
    #[error("{chain}: {reason}")]
    Network {
        /// The chain whose lookup it was.
        chain: Chain,
        /// What the answer lacks or got wrong.
        reason: String,
    },
    /// A request through the [`ChainApi`](crate::ChainApi) failed.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl SignerError {
    pub(crate) fn tx(chain: Chain, reason: impl Into<String>) -> Self {
        SignerError::InvalidTransaction {
            chain,
            reason: reason.into(),
        }
    }
    pub(crate) fn key(chain: Chain, reason: impl Into<String>) -> Self {
        SignerError::InvalidPrivateKey {
            chain,
            reason: reason.into(),
        }
    }
    pub(crate) fn unsupported(chain: Chain, what: impl Into<String>) -> Self {
        SignerError::Unsupported {
            chain,
            what: what.into(),
        }
    }
}
