//! What every command needs: the global flags, the settings (process
//! environment over `.env`), the store's path, the password, the store.
//! The daemon receives the same [`Context`].

use std::path::PathBuf;

use kms_core::Network;
use kms_secret_providers::{provider_from_lookup, PasswordSource, Problem, ProviderError};
use kms_tatum_client::{ClientConfig, TatumClient};
use kms_vault::{KdfParams, OpenOptions, Vault};
use secrecy::{ExposeSecret, SecretString};

use crate::cli::Global;
use crate::env::{data_dir, home, Env};
use crate::error::CliError;

/// The variable the password is read from, named in every message about it.
pub(crate) const PASSWORD_VAR: &str = "TATUM_KMS_PASSWORD";

pub(crate) struct Context {
    pub(crate) global: Global,
    pub(crate) env: Env,
    /// Where `wallet.dat` and `.env` are when no flag names them.
    pub(crate) data_dir: PathBuf,
}

impl Context {
    /// Finds the data folder, then reads `--envFile`, else its `.env` when
    /// it exists.
    pub(crate) fn load(global: Global) -> Result<Context, CliError> {
        let data_dir = match data_dir() {
            Ok(dir) => dir,
            // `--path` names the store, so there is nothing to choose; the
            // `.env` is then the home folder's, as the original read it.
            Err(_) if global.path.is_some() => home().join(".tatumrc"),
            Err(ambiguous) => return Err(CliError::usage(ambiguous.to_string())),
        };
        if data_dir != home().join(".tatumrc") {
            tracing::info!(
                folder = %data_dir.display(),
                "using the mounted folder of the original's 8.x image for wallet.dat and .env"
            );
        }
        let env = Env::load(global.env_file.as_deref(), &data_dir).map_err(CliError::failure)?;
        Ok(Context {
            global,
            env,
            data_dir,
        })
    }

    /// A setting: the process environment, else the `.env` file; empty is unset.
    pub(crate) fn var(&self, name: &str) -> Option<String> {
        self.env.get(name)
    }

    /// `--testnet`.
    pub(crate) fn network(&self) -> Network {
        Network::from_testnet(self.global.testnet)
    }

    /// `--path`, else `wallet.dat` in the data folder (`~/.tatumrc`).
    pub(crate) fn store_path(&self) -> PathBuf {
        self.global
            .path
            .clone()
            .unwrap_or_else(|| self.data_dir.join("wallet.dat"))
    }

    /// `--apiKey`, else `TATUM_API_KEY`.
    pub(crate) fn api_key(&self) -> Option<SecretString> {
        self.global
            .api_key
            .clone()
            .filter(|k| !k.is_empty())
            .or_else(|| self.var("TATUM_API_KEY"))
            .map(SecretString::from)
    }

    /// The Tatum API client: `TATUM_API_URL` (default the live API),
    /// `TATUM_KMS_VET_NODE_URL` for VeChain (default the public node the
    /// original's SDK read), and `TATUM_KMS_FLOW_ACCESS_NODE` for FLOW
    /// (default the access node the original's SDK used for the network).
    pub(crate) fn tatum_client(&self, api_key: SecretString) -> Result<TatumClient, CliError> {
        let testnet = self.global.testnet;
        let url = self
            .var("TATUM_API_URL")
            .unwrap_or_else(|| "https://api.tatum.io".to_string());
        if plain_http_off_machine(&url) {
            tracing::warn!(
                url = %url,
                "TATUM_API_URL is plain http to another machine: the API key and every transaction cross the network in clear; use https"
            );
        }
        let mut config = ClientConfig::new(url, api_key);
        config.vet_node_url = self.var("TATUM_KMS_VET_NODE_URL").unwrap_or_else(|| {
            if testnet {
                "https://sync-testnet.vechain.org".to_string()
            } else {
                "https://sync-mainnet.vechain.org".to_string()
            }
        });
        config.flow_access_node_url = self.var("TATUM_KMS_FLOW_ACCESS_NODE").unwrap_or_else(|| {
            if testnet {
                "https://rest-testnet.onflow.org".to_string()
            } else {
                "https://rest-mainnet.onflow.org".to_string()
            }
        });
        if plain_http_off_machine(&config.flow_access_node_url) {
            tracing::warn!(
                url = %config.flow_access_node_url,
                "TATUM_KMS_FLOW_ACCESS_NODE is plain http to another machine: signed FLOW transactions cross the network in clear; use https"
            );
        }
        config.client_version = env!("CARGO_PKG_VERSION").to_string();
        TatumClient::new(config).map_err(|e| CliError::failure(format!("{e}")))
    }

    /// Where the password comes from, by the original's flags (AWS before
    /// Azure before VGS, as the original checked them).
    pub(crate) fn password_source(&self) -> PasswordSource {
        let g = &self.global;
        if g.aws {
            PasswordSource::Aws
        } else if g.azure {
            PasswordSource::Azure
        } else if g.vgs {
            PasswordSource::Vgs
        } else {
            PasswordSource::local(|name| self.var(name))
        }
    }

    /// The original's name for the store type (`checkconfig`, `report`).
    pub(crate) fn store_type(&self) -> &'static str {
        match self.password_source() {
            PasswordSource::Aws => "AWS",
            PasswordSource::Azure => "AZURE",
            PasswordSource::Vgs => "VGS",
            PasswordSource::Env | PasswordSource::Interactive => "LOCAL",
        }
    }

    /// Argon2 cost for a store this run creates (or re-keys): the default,
    /// or `TATUM_KMS_KDF_MEMORY_MIB` (64..4096) where memory is scarce.
    pub(crate) fn kdf_params(&self) -> Result<KdfParams, CliError> {
        let mut params = KdfParams::default();
        if let Some(text) = self.var("TATUM_KMS_KDF_MEMORY_MIB") {
            let mib = text
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|m| (64..=4096).contains(m))
                .ok_or_else(|| {
                    CliError::usage(format!(
                        "TATUM_KMS_KDF_MEMORY_MIB must be a number of MiB from 64 to 4096, not '{text}'"
                    ))
                })?;
            params.memory_kib = mib * 1024;
            params.validate()?;
        }
        Ok(params)
    }

    /// The store's password. The one place that knows where it comes from:
    /// the source chosen by the flags, configured from the settings.
    pub(crate) fn password(&self) -> Result<SecretString, CliError> {
        let source = self.password_source();
        let provider =
            provider_from_lookup(source, |name| self.var(name)).map_err(provider_error)?;
        tracing::debug!(source = %source, asking = %provider.describe(), "getting the wallet password");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::failure(format!("starting the async runtime: {e}")))?;
        runtime
            .block_on(provider.password())
            .map_err(provider_error)
    }

    /// Opens the store with `password`; a cost above the default needs
    /// `--allow-costly-kdf` (or the `TATUM_KMS_KDF_MEMORY_MIB` it was re-keyed with).
    pub(crate) fn unlock(&self, password: &SecretString) -> Result<Vault, CliError> {
        let options =
            OpenOptions::new(self.kdf_params()?).allow_costly_kdf(self.global.allow_costly_kdf);
        Ok(Vault::open_with(&self.store_path(), password, options)?)
    }

    /// Opens the store to read it (a missing file is an empty store).
    pub(crate) fn open_vault(&self) -> Result<Vault, CliError> {
        let password = self.password()?;
        let path = self.store_path();
        tracing::debug!(path = %path.display(), "opening the wallet store");
        self.unlock(&password)
    }

    /// Opens the store to add to it; refuses to create a new one under an
    /// empty password.
    pub(crate) fn open_vault_for_writing(&self) -> Result<Vault, CliError> {
        let password = self.password()?;
        let vault = self.unlock(&password)?;
        if !vault.file_exists() {
            check_new_password(&password)?;
        }
        Ok(vault)
    }
}

/// `http://` to anything but this machine.
fn plain_http_off_machine(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    !loopback
}

/// Says what a write changed beside the wallets (a mode tightened to
/// 0600, a group that could not be kept).
pub(crate) fn report_vault_warnings(vault: &mut Vault) {
    for warning in vault.take_warnings() {
        tracing::warn!("{warning}");
    }
}

/// Shorter than this, a new password gets a warning: a stolen wallet.dat
/// is then within reach of a guessing attack despite the KDF.
const SHORT_PASSWORD: usize = 12;

/// A password a new store (or `changepassword`) is about to be sealed with:
/// empty or blank is refused; short is allowed, with a warning (the
/// original's own tests and users' scripts use `test`).
pub(crate) fn check_new_password(password: &SecretString) -> Result<(), CliError> {
    let text = password.expose_secret();
    if text.trim().is_empty() {
        return Err(CliError::usage(format!(
            "refusing an empty or blank password for the wallet store; set {PASSWORD_VAR}"
        )));
    }
    if text.chars().count() < SHORT_PASSWORD {
        eprintln!(
            "Warning: the wallet store password is shorter than {SHORT_PASSWORD} characters: anyone who copies wallet.dat can try to guess it offline. Prefer a long passphrase (changepassword)."
        );
    }
    Ok(())
}

/// Missing or invalid settings and no terminal are usage errors (exit 2);
/// a source that answered badly is a failure (exit 1).
fn provider_error(e: ProviderError) -> CliError {
    let message = e.to_string();
    match e.problem {
        Problem::MissingSetting(_)
        | Problem::InvalidSetting { .. }
        | Problem::NoTerminal(_)
        | Problem::NoCredentials { .. } => CliError::usage(message),
        _ => CliError::failure(message),
    }
}

#[cfg(test)]
mod tests {
    use super::plain_http_off_machine;

    #[test]
    fn plain_http_is_fine_on_this_machine_only() {
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost/x",
            "http://[::1]:9/",
            "https://api.tatum.io",
        ] {
            assert!(!plain_http_off_machine(local), "{local}");
        }
        for remote in [
            "http://api.tatum.io",
            "http://10.0.0.2:80/v3",
            "http://[fd00::1]/",
        ] {
            assert!(plain_http_off_machine(remote), "{remote}");
        }
    }
}
