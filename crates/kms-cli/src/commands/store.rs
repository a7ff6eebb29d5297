//! The store as a whole: export, migrate, change its password.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::print_json;
use crate::context::Context;
use crate::error::CliError;
use crate::secret_input::prompt_password;

pub(super) fn export(ctx: &Context) -> Result<(), CliError> {
    let vault = ctx.open_vault()?;
    if !vault.file_exists() {
        return Err(CliError::json("No such wallet file."));
    }
    let mut text = vault.export_pretty();
    text.push('\n');
    super::print_text(text.as_bytes())
}

pub(super) fn migrate(ctx: &Context) -> Result<(), CliError> {
    let mut vault = ctx.open_vault()?;
    let backup = vault.migrate()?;
    crate::context::report_vault_warnings(&mut vault);
    let out = match backup {
        Some(path) => json!({ "migrated": true, "backup": path.display().to_string() }),
        None => {
            json!({ "migrated": false, "reason": "the store is already in the current format, or empty" })
        }
    };
    print_json(&out)?;
    Ok(())
}

pub(super) fn change_password(ctx: &Context) -> Result<(), CliError> {
    let mut vault = ctx.open_vault()?;
    let new = match ctx.var("TATUM_KMS_NEW_PASSWORD") {
        Some(p) => SecretString::from(p),
        None => {
            let first = prompt_password("New password:")?;
            let second = prompt_password("New password again:")?;
            match (first, second) {
                (Some(a), Some(b)) if a.expose_secret() == b.expose_secret() => a,
                (Some(_), Some(_)) => {
                    return Err(CliError::usage(
                        "the two new passwords differ; nothing changed",
                    ))
                }
                _ => return Err(CliError::usage(
                    "no new password: set TATUM_KMS_NEW_PASSWORD, or run on a terminal to be asked",
                )),
            }
        }
    };
    crate::context::check_new_password(&new)?;
    vault.change_password(&new, ctx.kdf_params()?)?;
    crate::context::report_vault_warnings(&mut vault);
    eprintln!("Password changed.");
    Ok(())
}
