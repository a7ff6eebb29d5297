//! The plaintext both formats hold: the original's JSON map.

use indexmap::IndexMap;
use kms_core::WalletEntry;

use crate::Wallets;

/// The plaintext (the original's JSON map, signatureId → wallet) as wallets.
/// The error names the position, never the content (it is secret).
pub fn parse_wallets(bytes: &[u8]) -> Result<Wallets, String> {
    serde_json::from_slice::<IndexMap<String, WalletEntry>>(bytes)
        .map(Wallets)
        .map_err(|e| format!("JSON error at line {} column {}", e.line(), e.column()))
}
