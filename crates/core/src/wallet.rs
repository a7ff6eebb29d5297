use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroize;

use crate::{Chain, Network};

/// One wallet of the store: the original's JSON object (`mnemonic`, `xpub`,
/// `privateKey`, `secret`, `address`, `chain`, `testnet`, ...), kept with its
/// key order so `export` prints what the original printed.
///
/// It holds secrets, so it never prints them: `Debug` shows only the field
/// names, and every string in it is overwritten with zeros when it is dropped.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WalletEntry(Map<String, Value>);

/// How a wallet signs, as the original's `report` classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WalletKind {
    /// Holds a BIP39 mnemonic; keys are derived at an index.
    Mnemonic,
    /// Holds one private key.
    PrivateKey,
    /// Holds a chain's own secret (XRP, XLM, ALGO).
    Secret,
    /// Holds none of those.
    Other,
}

/// Why a stored wallet's `chain` field names no chain we serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalletChainError {
    /// The wallet has no `chain` field.
    #[error("the wallet has no chain")]
    Missing,
    /// The field names a chain we do not serve.
    #[error("the wallet is stored for chain '{0}', which is not one we serve")]
    Unsupported(String),
}

impl WalletEntry {
    /// An empty wallet.
    pub fn new() -> Self {
        Self(Map::new())
    }

    /// A wallet to store: the chain's own fields, then `chain` and
    /// `testnet`, in the order the original stored them.
    pub fn stored(fields: WalletEntry, chain: Chain, network: Network) -> WalletEntry {
        fields
            .with("chain", chain.as_str())
            .with("testnet", network.is_testnet())
    }

    /// Appends (or replaces) a field, keeping first-insertion order.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.insert(key, value);
        self
    }

    /// Sets a field (an old value is zeroized).
    pub fn insert(&mut self, key: &str, value: impl Into<Value>) {
        if let Some(mut old) = self.0.insert(key.to_string(), value.into()) {
            zeroize_value(&mut old);
        }
    }

    /// A field, as stored.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The chain the wallet was stored for (`chain`, any case; a token name
    /// the original stored, such as `USDT`, is the chain that derived it:
    /// [`Chain::from_stored_name`]).
    pub fn chain(&self) -> Result<Chain, WalletChainError> {
        let name = self.str_field("chain").ok_or(WalletChainError::Missing)?;
        Chain::from_stored_name(name).map_err(|_| WalletChainError::Unsupported(name.to_string()))
    }
    /// The network the wallet was stored for (`testnet`; absent is mainnet, as in the original).
    pub fn network(&self) -> Network {
        Network::from_testnet(
            self.0
                .get("testnet")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        )
    }
    /// The BIP39 phrase of a mnemonic wallet.
    pub fn mnemonic(&self) -> Option<&str> {
        self.str_field("mnemonic")
    }
    /// The extended public key of a mnemonic wallet.
    pub fn xpub(&self) -> Option<&str> {
        self.str_field("xpub")
    }
    /// The key of a private-key wallet (also kept by SOL's mnemonic wallets).
    pub fn private_key(&self) -> Option<&str> {
        self.str_field("privateKey")
    }
    /// The secret of an XRP, XLM or ALGO wallet.
    pub fn secret(&self) -> Option<&str> {
        self.str_field("secret")
    }
    /// The stored address, for chains that store one.
    pub fn address(&self) -> Option<&str> {
        self.str_field("address")
    }

    /// The original's classification: a mnemonic wins over a private key,
    /// which wins over a secret (SOL wallets hold both mnemonic and key).
    pub fn kind(&self) -> WalletKind {
        if self.mnemonic().is_some() {
            WalletKind::Mnemonic
        } else if self.private_key().is_some() {
            WalletKind::PrivateKey
        } else if self.secret().is_some() {
            WalletKind::Secret
        } else {
            WalletKind::Other
        }
    }

    /// Every field, in stored order.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }
}

impl From<Map<String, Value>> for WalletEntry {
    fn from(map: Map<String, Value>) -> Self {
        Self(map)
    }
}

impl Drop for WalletEntry {
    fn drop(&mut self) {
        for (_, v) in self.0.iter_mut() {
            zeroize_value(v);
        }
    }
}

fn zeroize_value(v: &mut Value) {
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(zeroize_value),
        Value::Object(map) => map.iter_mut().for_each(|(_, v)| zeroize_value(v)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A wallet holds its mnemonic or key in the clear: no way to format it.
    static_assertions::assert_not_impl_any!(WalletEntry: std::fmt::Debug, std::fmt::Display);

    #[test]
    fn field_order_is_kept() {
        let w = WalletEntry::new()
            .with("mnemonic", "abandon abandon about")
            .with("xpub", "xpubABC")
            .with("chain", "BTC")
            .with("testnet", false);
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            r#"{"mnemonic":"abandon abandon about","xpub":"xpubABC","chain":"BTC","testnet":false}"#
        );
        assert_eq!(w.kind(), WalletKind::Mnemonic);
        assert_eq!(w.chain(), Ok(Chain::BTC));
        assert_eq!(w.network(), Network::Mainnet);
    }

    #[test]
    fn stored_wallets_own_chain_and_network() {
        let w = WalletEntry::stored(
            WalletEntry::new().with("privateKey", "k"),
            Chain::ETH,
            Network::Testnet,
        );
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            r#"{"privateKey":"k","chain":"ETH","testnet":true}"#
        );
        assert_eq!(w.chain(), Ok(Chain::ETH));
        assert_eq!(w.network(), Network::Testnet);
        assert_eq!(
            WalletEntry::new().with("chain", "BNB").chain(),
            Err(WalletChainError::Unsupported("BNB".into()))
        );
        assert_eq!(WalletEntry::new().chain(), Err(WalletChainError::Missing));
    }
}
