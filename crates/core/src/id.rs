use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The name of a stored wallet: what `generatemanagedwallet` prints and
/// what the Tatum API's pending transactions refer to in `hashes` and
/// `signatures`. Not a secret.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SignatureId(String);

impl SignatureId {
    /// Wraps a name as it is (the store accepts whatever the original stored).
    pub fn new(id: impl Into<String>) -> SignatureId {
        SignatureId(id.into())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SignatureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Borrow<str> for SignatureId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SignatureId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<String> for SignatureId {
    fn from(id: String) -> Self {
        SignatureId(id)
    }
}

impl From<&str> for SignatureId {
    fn from(id: &str) -> Self {
        SignatureId(id.to_string())
    }
}

impl PartialEq<str> for SignatureId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for SignatureId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}
