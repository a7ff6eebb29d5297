//! What users send to support: `checkconfig` and `report`, secrets masked.

use secrecy::ExposeSecret;
use serde_json::{json, Map, Value};

use super::print_json;
use crate::context::Context;
use crate::error::CliError;

/// The original's `utils.hideValue`, off-by-one included: the tail it shows
/// skips the very last character.
fn hide_value(value: &str, show_start: usize, show_end: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    let len = chars.len();
    if len <= show_start + show_end {
        return "*".repeat(len);
    }
    let tail: String = chars[len - 1 - show_end..len - 1].iter().collect();
    format!(
        "{}{}{}",
        chars[..show_start].iter().collect::<String>(),
        "*".repeat(len - show_start - show_end),
        tail
    )
}

fn hide_password(value: Option<String>) -> String {
    value
        .map(|v| hide_value(&v, 6, 0))
        .unwrap_or_else(|| "N/A".into())
}

/// A secret is shown as set or not: no character and no length of it.
fn hide_secret(value: Option<String>) -> String {
    match value {
        Some(_) => "******** (set)".into(),
        None => "N/A".into(),
    }
}

pub(super) fn check_config(ctx: &Context) -> Result<(), CliError> {
    let path = ctx.store_path();
    let e = |name: &str| ctx.var(name);
    let rows: Vec<(&str, String)> = vec![
        ("Version", env!("CARGO_PKG_VERSION").to_string()),
        ("Wallet file path", path.display().to_string()),
        ("Wallet exists", path.exists().to_string()),
        ("Wallet store type", ctx.store_type().to_string()),
        (
            "Environment vars file",
            // As the original: the file looked for, whether or not it exists.
            ctx.global
                .env_file
                .clone()
                .unwrap_or_else(|| ctx.data_dir.join(".env"))
                .display()
                .to_string(),
        ),
        (
            "TATUM_API_KEY",
            hide_secret(ctx.api_key().map(|k| k.expose_secret().to_string())),
        ),
        ("TATUM_KMS_PASSWORD", hide_secret(e("TATUM_KMS_PASSWORD"))),
        // A PostgreSQL URL carries a password.
        ("TATUM_KMS_LEDGER", hide_secret(e("TATUM_KMS_LEDGER"))),
        (
            "TATUM_KMS_REPLICA",
            e("TATUM_KMS_REPLICA").unwrap_or_else(|| "N/A".into()),
        ),
        (
            "TATUM_KMS_VGS_ALIAS",
            hide_password(e("TATUM_KMS_VGS_ALIAS")),
        ),
        (
            "TATUM_KMS_VGS_USERNAME",
            hide_password(e("TATUM_KMS_VGS_USERNAME")),
        ),
        (
            "TATUM_KMS_VGS_PASSWORD",
            hide_secret(e("TATUM_KMS_VGS_PASSWORD")),
        ),
        (
            "TATUM_KMS_AZURE_SECRETVERSION",
            hide_password(e("TATUM_KMS_AZURE_SECRETVERSION")),
        ),
        (
            "TATUM_KMS_AZURE_SECRETNAME",
            hide_password(e("TATUM_KMS_AZURE_SECRETNAME")),
        ),
        (
            "TATUM_KMS_AZURE_VAULTURL",
            hide_password(e("TATUM_KMS_AZURE_VAULTURL")),
        ),
        (
            "TATUM_KMS_AWS_REGION",
            e("TATUM_KMS_AWS_REGION").unwrap_or_else(|| "N/A".into()),
        ),
        (
            "TATUM_KMS_AWS_ACCESS_KEY_ID",
            hide_password(e("TATUM_KMS_AWS_ACCESS_KEY_ID")),
        ),
        (
            "TATUM_KMS_AWS_SECRET_ACCESS_KEY",
            hide_secret(e("TATUM_KMS_AWS_SECRET_ACCESS_KEY")),
        ),
        (
            "TATUM_KMS_AWS_SECRET_NAME",
            hide_password(e("TATUM_KMS_AWS_SECRET_NAME")),
        ),
        (
            "TATUM_KMS_AWS_SECRET_KEY",
            hide_password(e("TATUM_KMS_AWS_SECRET_KEY")),
        ),
        (
            "TATUM_KMS_DEBUG_MODE",
            e("TATUM_KMS_DEBUG_MODE").unwrap_or_else(|| "N/A".into()),
        ),
    ];
    let mut text = String::new();
    for (name, value) in rows {
        text.push_str(&format!("{name:<33}: {value}\n"));
    }
    super::print_text(text.as_bytes())
}

pub(super) fn report(ctx: &Context, ids: &str) -> Result<(), CliError> {
    let ids: Vec<&str> = ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let vault = ctx.open_vault()?;
    let mut system_warnings: Vec<String> = Vec::new();
    let mut wallets = Map::new();
    for id in ids {
        let Some(entry) = vault.get(id) else {
            system_warnings.push(format!("No wallet found for signatureId: {id}"));
            continue;
        };
        let mut warnings: Vec<String> = Vec::new();
        let kind = entry.kind();
        let fields: &[(&str, bool)] = match kind {
            kms_core::WalletKind::Mnemonic => &[
                ("chain", true),
                ("mnemonic", true),
                ("xpub", true),
                ("testnet", false),
            ],
            kms_core::WalletKind::PrivateKey => {
                &[("chain", true), ("privateKey", true), ("testnet", false)]
            }
            kms_core::WalletKind::Secret => {
                &[("chain", true), ("secret", true), ("testnet", false)]
            }
            kms_core::WalletKind::Other => {
                warnings.push(
                    "Wallet type is not recognized. Mnemonic, privateKey or secret are absent"
                        .into(),
                );
                &[]
            }
        };
        for (field, string) in fields {
            let value = entry.get(field);
            let ok = if *string {
                value.is_some_and(Value::is_string)
            } else {
                value.is_some_and(Value::is_boolean)
            };
            if !ok {
                let want = if *string { "string" } else { "boolean" };
                let got = match value {
                    None | Some(Value::Null) => "undefined",
                    Some(Value::String(_)) => "string",
                    Some(Value::Bool(_)) => "boolean",
                    Some(Value::Number(_)) => "number",
                    Some(_) => "object",
                };
                warnings.push(format!("Field '{field}' is not {want}. Its type is: {got}"));
            }
        }
        let mut report = Map::new();
        report.insert("type".into(), serde_json::to_value(kind).expect("kind"));
        report.insert(
            "chain".into(),
            entry.get("chain").cloned().unwrap_or(Value::Null),
        );
        report.insert(
            "testnet".into(),
            entry.get("testnet").cloned().unwrap_or(Value::Null),
        );
        if !warnings.is_empty() {
            report.insert("warnings".into(), json!(warnings));
        }
        wallets.insert(id.to_string(), Value::Object(report));
    }
    let mut out = json!({
        "system": {
            "kmsVersion": env!("CARGO_PKG_VERSION"),
            "nodeVersion": "N/A (Rust)",
            "store": { "type": ctx.store_type(), "exists": ctx.store_path().exists() },
        },
        "wallets": wallets,
        "apiKey": hide_secret(ctx.api_key().map(|k| k.expose_secret().to_string())),
    });
    if !system_warnings.is_empty() {
        out["warnings"] = json!(system_warnings);
    }
    print_json(&out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_the_original() {
        // utils.hideValue('abcdefghijklmnop', 6, 6) in the original.
        assert_eq!(hide_value("abcdefghijklmnop", 6, 6), "abcdef****jklmno");
        assert_eq!(hide_value("short", 6, 0), "*****");
        assert_eq!(hide_password(Some("password123".into())), "passwo*****");
        assert_eq!(hide_password(None), "N/A");
        assert_eq!(hide_secret(Some("password123".into())), "******** (set)");
        assert_eq!(hide_secret(None), "N/A");
    }
}
