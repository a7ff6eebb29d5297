use zeroize::Zeroizing;

use crate::SignerError;

/// A checked BIP39 mnemonic with its seed computed once (PBKDF2, empty
/// passphrase). Never printed by `Debug`; zeroized on drop.
pub struct Mnemonic {
    inner: bip39::Mnemonic,
    phrase: Zeroizing<String>,
    seed: Zeroizing<[u8; 64]>,
}

impl Mnemonic {
    /// Parses an English mnemonic, checking words and checksum. Extra
    /// whitespace is tolerated; the stored phrase is single-spaced.
    pub fn parse(text: &str) -> Result<Self, SignerError> {
        let normalized = Zeroizing::new(text.split_whitespace().collect::<Vec<_>>().join(" "));
        let inner = bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &normalized)
            .map_err(|e| SignerError::InvalidMnemonic(describe(e)))?;
        Ok(Self::from_inner(inner))
    }

    /// A fresh 24-word mnemonic (256 bits), as the original's `generateMnemonic(256)`.
    pub fn generate() -> Self {
        let mut entropy = Zeroizing::new([0u8; 32]);
        getrandom::fill(entropy.as_mut()).expect("the operating system's random source failed");
        let inner = bip39::Mnemonic::from_entropy(entropy.as_ref())
            .expect("32 bytes is a valid entropy length");
        Self::from_inner(inner)
    }

    fn from_inner(inner: bip39::Mnemonic) -> Self {
        let phrase = Zeroizing::new(inner.to_string());
        let seed = Zeroizing::new(inner.to_seed_normalized(""));
        Self {
            inner,
            phrase,
            seed,
        }
    }

    /// The words, single-spaced.
    pub fn phrase(&self) -> &str {
        &self.phrase
    }

    /// The BIP39 seed (64 bytes).
    pub fn seed(&self) -> &[u8; 64] {
        &self.seed
    }

    /// The entropy the words encode (Cardano's Icarus derivation starts here).
    pub fn entropy(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.inner.to_entropy())
    }
}

/// The mnemonic a wallet is generated from: the one given, or a fresh one.
pub(crate) enum GivenOrFresh<'a> {
    Given(&'a Mnemonic),
    Fresh(Mnemonic),
}

impl<'a> GivenOrFresh<'a> {
    pub(crate) fn new(given: Option<&'a Mnemonic>) -> Self {
        match given {
            Some(m) => GivenOrFresh::Given(m),
            None => GivenOrFresh::Fresh(Mnemonic::generate()),
        }
    }
}

impl std::ops::Deref for GivenOrFresh<'_> {
    type Target = Mnemonic;
    fn deref(&self) -> &Mnemonic {
        match self {
            GivenOrFresh::Given(m) => m,
            GivenOrFresh::Fresh(m) => m,
        }
    }
}

fn describe(e: bip39::Error) -> String {
    match e {
        bip39::Error::BadWordCount(n) => format!("{n} words; expected 12, 15, 18, 21 or 24"),
        bip39::Error::UnknownWord(i) => format!("word {} is not in the BIP39 English list", i + 1),
        bip39::Error::InvalidChecksum => {
            "checksum does not match (a word is wrong or out of order)".into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The phrase is the wallet: nothing may format it by accident.
    static_assertions::assert_not_impl_any!(Mnemonic: std::fmt::Debug, std::fmt::Display);

    #[test]
    fn checks_checksum() {
        let m = Mnemonic::parse("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about").ok().unwrap();
        assert_eq!(hex::encode(&m.seed()[..4]), "5eb00bbd");
        let err = Mnemonic::parse("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon").err().unwrap();
        assert!(err.to_string().contains("checksum"), "{err}");
        assert_eq!(Mnemonic::generate().phrase().split(' ').count(), 24);
    }
}
