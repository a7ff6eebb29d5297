use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroize;

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
    Mnemonic,
    PrivateKey,
    Secret,
    Other,
}

impl WalletEntry {
    pub fn new() -> Self {
        Self(Map::new())
    }

    /// Appends (or replaces) a field, keeping first-insertion order.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.insert(key, value);
        self
    }

    pub fn insert(&mut self, key: &str, value: impl Into<Value>) {
        if let Some(mut old) = self.0.insert(key.to_string(), value.into()) {
            zeroize_value(&mut old);
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn chain_name(&self) -> Option<&str> {
        self.str_field("chain")
    }
    pub fn testnet(&self) -> bool {
        self.0
            .get("testnet")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
    pub fn mnemonic(&self) -> Option<&str> {
        self.str_field("mnemonic")
    }
    pub fn xpub(&self) -> Option<&str> {
        self.str_field("xpub")
    }
    pub fn private_key(&self) -> Option<&str> {
        self.str_field("privateKey")
    }
    pub fn secret(&self) -> Option<&str> {
        self.str_field("secret")
    }
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

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
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
    }
}
