//! Azure Key Vault, Get Secret (REST `api-version=7.4`), with a token for the
//! vault's resource, found in `DefaultAzureCredential`'s order: Microsoft
//! Entra ID with a client secret, else with a workload identity's federated
//! token (AKS), else the instance's managed identity (IMDS).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::error::{Problem, ProviderError};
use crate::http::{self, Answer, DEFAULT_TIMEOUT};
use crate::vars::{http_url, join, refuse_plain_http, Vars};
use crate::{PasswordSource, SecretProvider};

const SOURCE: PasswordSource = PasswordSource::Azure;
const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
const DEFAULT_IMDS: &str = "http://169.254.169.254";
const DEFAULT_API_VERSION: &str = "7.4";
const IMDS_API_VERSION: &str = "2018-02-01";
const PUBLIC_RESOURCE: &str = "https://vault.azure.net";
/// The instance metadata service: link-local and http only, by design.
const IMDS_HOSTS: &[IpAddr] = &[IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254))];
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How a token for the vault is obtained.
#[derive(Debug, Clone)]
pub enum AzureCredential {
    /// An app registration's secret (`AZURE_CLIENT_SECRET` and friends).
    ClientSecret {
        /// The Entra ID tenant (directory) id.
        tenant_id: String,
        /// The app registration's client (application) id.
        client_id: String,
        /// The app registration's client secret.
        client_secret: SecretString,
    },
    /// A Kubernetes workload identity: the service account token that AKS
    /// projects into `token_file` (and rotates, so it is read per request)
    /// is exchanged for an Entra ID token of the federated app.
    WorkloadIdentity {
        /// The Entra ID tenant (directory) id.
        tenant_id: String,
        /// The federated app's client (application) id.
        client_id: String,
        /// The projected service account token (`AZURE_FEDERATED_TOKEN_FILE`).
        token_file: PathBuf,
    },
    /// The VM's or container's identity; `client_id` picks a user-assigned one.
    ManagedIdentity {
        /// A user-assigned identity's client id; none: the system-assigned one.
        client_id: Option<String>,
    },
}

/// Which Key Vault secret holds the password, and how to get a token for it.
#[derive(Debug, Clone)]
pub struct AzureConfig {
    /// The vault's base URL, e.g. `https://my-kv.vault.azure.net/`.
    pub vault_url: Url,
    /// The secret's name (`TATUM_KMS_AZURE_SECRETNAME`).
    pub secret_name: String,
    /// Empty: the latest version.
    pub secret_version: String,
    /// How the token for the vault is obtained.
    pub credential: AzureCredential,
    /// The Entra ID authority host that issues tokens for the client secret
    /// and workload identity credentials.
    pub authority_url: Url,
    /// The instance metadata service, for the managed identity's token.
    pub imds_url: Url,
    /// The Key Vault REST `api-version`.
    pub api_version: String,
    /// The token's audience, e.g. `https://vault.azure.net`.
    pub resource: String,
    /// How long each HTTP request may take (10 s from `from_lookup`).
    pub timeout: Duration,
}

impl AzureConfig {
    /// `TATUM_KMS_AZURE_VAULTURL`, `TATUM_KMS_AZURE_SECRETNAME`, optional
    /// `TATUM_KMS_AZURE_SECRETVERSION`. The credential, as
    /// `DefaultAzureCredential` picks it: a client secret
    /// (`TATUM_KMS_AZURE_TENANT_ID`/`_CLIENT_ID`/`_CLIENT_SECRET`, each
    /// falling back to the `AZURE_*` name), else a workload identity
    /// (`AZURE_FEDERATED_TOKEN_FILE` with the tenant and client ids), else
    /// the managed identity. Optional `TATUM_KMS_AZURE_AUTHORITY_URL` (else
    /// `AZURE_AUTHORITY_HOST`), `_IMDS_URL`, `_API_VERSION`.
    ///
    /// Plain http is refused except to loopback (and the metadata endpoint,
    /// which is http only): a token or the password would cross the network
    /// in clear.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ProviderError> {
        let vars = Vars(&lookup);
        let read = || -> Result<Self, Problem> {
            let vault_text = vars.require_text(&["TATUM_KMS_AZURE_VAULTURL"])?;
            let vault_url = vault_url(&vault_text).map_err(|reason| Problem::InvalidSetting {
                name: "TATUM_KMS_AZURE_VAULTURL",
                reason,
            })?;
            refuse_plain_http("TATUM_KMS_AZURE_VAULTURL", &vault_url, &[])?;
            let tenant = ["TATUM_KMS_AZURE_TENANT_ID", "AZURE_TENANT_ID"];
            let client = ["TATUM_KMS_AZURE_CLIENT_ID", "AZURE_CLIENT_ID"];
            let secret = ["TATUM_KMS_AZURE_CLIENT_SECRET", "AZURE_CLIENT_SECRET"];
            let token_file = [
                "TATUM_KMS_AZURE_FEDERATED_TOKEN_FILE",
                "AZURE_FEDERATED_TOKEN_FILE",
            ];
            let credential = match (vars.secret(&secret), vars.text(&token_file)) {
                (Some(client_secret), _) => AzureCredential::ClientSecret {
                    tenant_id: vars.require_text(&tenant)?,
                    client_id: vars.require_text(&client)?,
                    client_secret,
                },
                (None, Some(token_file)) => AzureCredential::WorkloadIdentity {
                    tenant_id: vars.require_text(&tenant)?,
                    client_id: vars.require_text(&client)?,
                    token_file: PathBuf::from(token_file),
                },
                (None, None) => AzureCredential::ManagedIdentity {
                    client_id: vars.text(&client),
                },
            };
            Ok(Self {
                resource: resource_for(&vault_url),
                vault_url,
                secret_name: vars.require_text(&["TATUM_KMS_AZURE_SECRETNAME"])?,
                secret_version: vars
                    .text(&["TATUM_KMS_AZURE_SECRETVERSION"])
                    .unwrap_or_default(),
                credential,
                authority_url: vars.url(
                    &["TATUM_KMS_AZURE_AUTHORITY_URL", "AZURE_AUTHORITY_HOST"],
                    DEFAULT_AUTHORITY,
                )?,
                imds_url: vars.url_allowing(
                    &["TATUM_KMS_AZURE_IMDS_URL"],
                    DEFAULT_IMDS,
                    IMDS_HOSTS,
                )?,
                api_version: vars
                    .text(&["TATUM_KMS_AZURE_API_VERSION"])
                    .unwrap_or_else(|| DEFAULT_API_VERSION.to_string()),
                timeout: DEFAULT_TIMEOUT,
            })
        };
        read().map_err(|p| ProviderError::setting(SOURCE, p))
    }
}

/// The vault's base URL from what users write: a bare vault name (`my-kv`),
/// a host (`my-kv.vault.azure.net`, as the original expected) or a URL.
pub fn vault_url(text: &str) -> Result<Url, String> {
    let text = text.trim();
    let full = if text.contains("://") {
        text.to_string()
    } else if text.contains(['.', ':', '/']) {
        format!("https://{text}")
    } else {
        format!("https://{text}.vault.azure.net")
    };
    http_url("TATUM_KMS_AZURE_VAULTURL", &full).map_err(|p| match p {
        Problem::InvalidSetting { reason, .. } => reason,
        other => other.to_string(),
    })
}

/// Sovereign clouds have their own audience: `x.vault.azure.cn` wants
/// `https://vault.azure.cn`. Hosts without `.vault.` (a local fake) get the
/// public cloud's.
fn resource_for(vault: &Url) -> String {
    let host = vault.host_str().unwrap_or_default();
    match host.find(".vault.") {
        Some(at) => format!("https://vault.{}", &host[at + ".vault.".len()..]),
        None => PUBLIC_RESOURCE.to_string(),
    }
}

/// Fetches the password from an Azure Key Vault secret.
pub struct AzureProvider {
    config: AzureConfig,
    http: http::Clients,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<SecretString>,
}

#[derive(Deserialize)]
struct SecretBundle {
    value: Option<SecretString>,
}

impl AzureProvider {
    /// Refuses plain http to anything but loopback (and the metadata
    /// endpoint), also for a config built by hand.
    pub fn new(config: AzureConfig) -> Result<Self, ProviderError> {
        let checks = [
            ("TATUM_KMS_AZURE_VAULTURL", &config.vault_url, &[][..]),
            (
                "TATUM_KMS_AZURE_AUTHORITY_URL",
                &config.authority_url,
                &[][..],
            ),
            ("TATUM_KMS_AZURE_IMDS_URL", &config.imds_url, IMDS_HOSTS),
        ];
        for (name, url, link_local) in checks {
            refuse_plain_http(name, url, link_local)
                .map_err(|p| ProviderError::setting(SOURCE, p))?;
        }
        // The metadata endpoint is link-local: `Clients` sends plain http
        // direct, never through a proxy.
        let http = http::Clients::new(config.timeout)
            .map_err(|p| ProviderError::new(SOURCE, "HTTP client", p))?;
        Ok(Self { config, http })
    }

    fn token_asked(&self) -> String {
        let c = &self.config;
        match &c.credential {
            AzureCredential::ClientSecret {
                tenant_id,
                client_id,
                ..
            } => format!(
                "token for client `{client_id}` of tenant `{tenant_id}` from {}",
                c.authority_url
            ),
            AzureCredential::WorkloadIdentity {
                tenant_id,
                client_id,
                token_file,
            } => format!(
                "workload-identity token for client `{client_id}` of tenant `{tenant_id}` \
                 (federated token file `{}`) from {}",
                token_file.display(),
                c.authority_url
            ),
            AzureCredential::ManagedIdentity { client_id } => format!(
                "managed-identity token{} from {} (no client secret set)",
                client_id
                    .as_ref()
                    .map(|id| format!(" for client `{id}`"))
                    .unwrap_or_default(),
                c.imds_url
            ),
        }
    }

    async fn token(&self) -> Result<SecretString, Problem> {
        let c = &self.config;
        let (answer, scrub) = match &c.credential {
            AzureCredential::ClientSecret {
                tenant_id,
                client_id,
                client_secret,
            } => {
                let url = join(&c.authority_url, &[tenant_id, "oauth2", "v2.0", "token"]);
                let scope = format!("{}/.default", c.resource);
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", client_secret.expose_secret()),
                    ("scope", &scope),
                ];
                let request = self.http.for_url(&url).post(url).form(&form);
                let answer = http::send(request, c.timeout).await?;
                (answer, Some(client_secret.clone()))
            }
            AzureCredential::WorkloadIdentity {
                tenant_id,
                client_id,
                token_file,
            } => {
                let assertion =
                    crate::files::read_token_file(token_file, "the federated token file").await?;
                let url = join(&c.authority_url, &[tenant_id, "oauth2", "v2.0", "token"]);
                let scope = format!("{}/.default", c.resource);
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", assertion.expose_secret()),
                    ("scope", &scope),
                ];
                let request = self.http.for_url(&url).post(url).form(&form);
                let answer = http::send(request, c.timeout).await?;
                (answer, Some(assertion))
            }
            AzureCredential::ManagedIdentity { client_id } => {
                let mut url = join(&c.imds_url, &["metadata", "identity", "oauth2", "token"]);
                url.query_pairs_mut()
                    .append_pair("api-version", IMDS_API_VERSION)
                    .append_pair("resource", &c.resource);
                if let Some(id) = client_id {
                    url.query_pairs_mut().append_pair("client_id", id);
                }
                let request = self.http.for_url(&url).get(url).header("Metadata", "true");
                (http::send(request, c.timeout).await?, None)
            }
        };
        if !answer.is_success() {
            let scrub: Vec<&str> = scrub.iter().map(|s| s.expose_secret()).collect();
            return Err(Problem::Http(answer.failure(&scrub)));
        }
        let token: TokenAnswer = serde_json::from_slice(&answer.body)
            .map_err(|_| Problem::Malformed("the token answer is not JSON".into()))?;
        token
            .access_token
            .filter(|t| !t.expose_secret().is_empty())
            .ok_or_else(|| Problem::Malformed("no `access_token` in the token answer".into()))
    }

    fn secret_asked(&self) -> String {
        let c = &self.config;
        let version = match c.secret_version.as_str() {
            "" => "latest version".to_string(),
            v => format!("version `{v}`"),
        };
        format!("secret `{}` ({version}) in {}", c.secret_name, c.vault_url)
    }

    async fn secret(&self, token: &SecretString) -> Result<SecretString, Problem> {
        let c = &self.config;
        let mut url = join(
            &c.vault_url,
            &["secrets", &c.secret_name, &c.secret_version],
        );
        url.query_pairs_mut()
            .append_pair("api-version", &c.api_version);
        let request = self
            .http
            .for_url(&url)
            .get(url)
            .bearer_auth(token.expose_secret());
        let answer: Answer = http::send(request, c.timeout).await?;
        if !answer.is_success() {
            let failure = answer.failure(&[token.expose_secret()]);
            return Err(match failure.status {
                404 => Problem::NotFound(failure),
                _ => Problem::Http(failure),
            });
        }
        let bundle: SecretBundle = serde_json::from_slice(&answer.body)
            .map_err(|_| Problem::Malformed("not a Key Vault secret bundle".into()))?;
        let value = bundle
            .value
            .ok_or_else(|| Problem::Malformed("no `value` in the secret bundle".into()))?;
        if value.expose_secret().is_empty() {
            return Err(Problem::EmptyValue);
        }
        Ok(value)
    }
}

#[async_trait]
impl SecretProvider for AzureProvider {
    fn source(&self) -> PasswordSource {
        SOURCE
    }

    fn describe(&self) -> String {
        self.secret_asked()
    }

    async fn password(&self) -> Result<SecretString, ProviderError> {
        let token = self
            .token()
            .await
            .map_err(|p| ProviderError::new(SOURCE, self.token_asked(), p))?;
        self.secret(&token)
            .await
            .map_err(|p| ProviderError::new(SOURCE, self.secret_asked(), p))
    }
}
