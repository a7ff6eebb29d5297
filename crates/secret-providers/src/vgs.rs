//! VGS Vault API v1: `GET {base}/aliases/{alias}` with HTTP Basic auth,
//! answer `{"data":[{"value": ...}]}`.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::error::{Problem, ProviderError};
use crate::http::{self, DEFAULT_TIMEOUT};
use crate::vars::{join, refuse_plain_http, Vars};
use crate::{PasswordSource, SecretProvider};

/// The VGS live environment's Vault API, used unless
/// `TATUM_KMS_VGS_BASE_URL` says otherwise.
pub const DEFAULT_VGS_BASE_URL: &str = "https://api.live.verygoodvault.com";

const SOURCE: PasswordSource = PasswordSource::Vgs;

/// Which VGS alias holds the password, and the vault's access credentials.
#[derive(Debug, Clone)]
pub struct VgsConfig {
    /// Live (the default), `https://api.live-eu-1.verygoodvault.com`,
    /// `https://api.sandbox.verygoodvault.com`, ...
    pub base_url: Url,
    /// The access credential's user name (`TATUM_KMS_VGS_USERNAME`).
    pub username: SecretString,
    /// The access credential's password (`TATUM_KMS_VGS_PASSWORD`).
    pub password: SecretString,
    /// The alias whose value is the wallet password (`TATUM_KMS_VGS_ALIAS`).
    pub alias: String,
    /// How long each HTTP request may take (10 s from `from_lookup`).
    pub timeout: Duration,
}

impl VgsConfig {
    /// `TATUM_KMS_VGS_USERNAME`, `TATUM_KMS_VGS_PASSWORD`, `TATUM_KMS_VGS_ALIAS`,
    /// optional `TATUM_KMS_VGS_BASE_URL`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ProviderError> {
        let vars = Vars(&lookup);
        let read = || -> Result<Self, Problem> {
            Ok(Self {
                base_url: vars.url(&["TATUM_KMS_VGS_BASE_URL"], DEFAULT_VGS_BASE_URL)?,
                username: vars.require_secret(&["TATUM_KMS_VGS_USERNAME"])?,
                password: vars.require_secret(&["TATUM_KMS_VGS_PASSWORD"])?,
                alias: vars.require_text(&["TATUM_KMS_VGS_ALIAS"])?,
                timeout: DEFAULT_TIMEOUT,
            })
        };
        read().map_err(|p| ProviderError::setting(SOURCE, p))
    }
}

/// Fetches the password from a VGS vault alias.
pub struct VgsProvider {
    config: VgsConfig,
    http: http::Clients,
}

impl VgsProvider {
    /// Refuses a plain-http base URL to anything but loopback, also for a
    /// config built by hand.
    pub fn new(config: VgsConfig) -> Result<Self, ProviderError> {
        refuse_plain_http("TATUM_KMS_VGS_BASE_URL", &config.base_url, &[])
            .map_err(|p| ProviderError::setting(SOURCE, p))?;
        let http = http::Clients::new(config.timeout)
            .map_err(|p| ProviderError::new(SOURCE, "HTTP client", p))?;
        Ok(Self { config, http })
    }

    async fn fetch(&self) -> Result<SecretString, Problem> {
        let c = &self.config;
        let url = join(&c.base_url, &["aliases", &c.alias]);
        let request = self
            .http
            .for_url(&url)
            .get(url)
            .basic_auth(c.username.expose_secret(), Some(c.password.expose_secret()));
        let answer = http::send(request, c.timeout).await?;
        if !answer.is_success() {
            let failure = answer.failure(&[c.username.expose_secret(), c.password.expose_secret()]);
            return Err(match failure.status {
                404 => Problem::NotFound(failure),
                _ => Problem::Http(failure),
            });
        }
        #[derive(Deserialize)]
        struct Reveal {
            data: Vec<Entry>,
        }
        #[derive(Deserialize)]
        struct Entry {
            value: Option<SecretString>,
        }
        // Never quote the parse error: it could hold part of the secret.
        let reveal: Reveal = serde_json::from_slice(&answer.body)
            .map_err(|_| Problem::Malformed("not the VGS `{\"data\": [...]}` shape".into()))?;
        let entry = reveal.data.into_iter().next().ok_or(Problem::EmptyValue)?;
        let value = entry
            .value
            .ok_or_else(|| Problem::Malformed("no `value` in `data[0]`".into()))?;
        if value.expose_secret().is_empty() {
            return Err(Problem::EmptyValue);
        }
        Ok(value)
    }
}

#[async_trait]
impl SecretProvider for VgsProvider {
    fn source(&self) -> PasswordSource {
        SOURCE
    }

    fn describe(&self) -> String {
        format!("alias `{}` at {}", self.config.alias, self.config.base_url)
    }

    async fn password(&self) -> Result<SecretString, ProviderError> {
        self.fetch()
            .await
            .map_err(|p| ProviderError::new(SOURCE, self.describe(), p))
    }
}
