//! AWS Secrets Manager, `GetSecretValue` (JSON 1.1 protocol, SigV4-signed).
//! The secret's `SecretString` is a JSON object; the password is the string
//! under one of its keys. The credentials come from the chain in
//! `aws_credentials`.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use url::Url;

use crate::aws_credentials::{self, AwsCredentialSource, AwsCredentials, Chain, Resolver};
use crate::error::{Problem, ProviderError};
use crate::http::{self, DEFAULT_TIMEOUT};
use crate::sigv4::{self, Scope, SigningTime};
use crate::vars::{refuse_plain_http, Vars};
use crate::{PasswordSource, SecretProvider};

const SOURCE: PasswordSource = PasswordSource::Aws;
const SERVICE: &str = "secretsmanager";
const TARGET: &str = "secretsmanager.GetSecretValue";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Which Secrets Manager secret holds the password, where, and the
/// credentials to ask with.
#[derive(Debug, Clone)]
pub struct AwsConfig {
    /// The region the secret is in (and the request is signed for).
    pub region: String,
    /// The secret's name or ARN (`TATUM_KMS_AWS_SECRET_NAME`).
    pub secret_name: String,
    /// The key of the secret's JSON object that holds the password.
    pub secret_key: String,
    /// Where the signing credentials come from.
    pub credentials: AwsCredentialSource,
    /// `https://secretsmanager.{region}.amazonaws.com/` unless overridden.
    pub endpoint: Url,
    /// How long each HTTP request may take (10 s from `from_lookup`).
    pub timeout: Duration,
}

impl AwsConfig {
    /// `TATUM_KMS_AWS_SECRET_NAME`, `TATUM_KMS_AWS_SECRET_KEY`; the region
    /// from `TATUM_KMS_AWS_REGION`, `AWS_REGION`, `AWS_DEFAULT_REGION` or
    /// the profile's `region`; the endpoint from `TATUM_KMS_AWS_ENDPOINT_URL`,
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER` or `AWS_ENDPOINT_URL` (the last two
    /// unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`). Credentials from the
    /// first source of the chain that is configured (see
    /// `docs/secret-providers.md`): `TATUM_KMS_AWS_*` keys, `AWS_*` keys, the
    /// shared files' profile (`AWS_PROFILE`, else `default`), a web identity,
    /// the container endpoint, the EC2 instance metadata.
    ///
    /// Home-relative paths use the lookup's `HOME`; nothing else is read
    /// from the process. Plain http is refused except to loopback and the
    /// metadata endpoints.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ProviderError> {
        let vars = Vars(&lookup);
        let read = || -> Result<Self, Problem> {
            let region_names = ["TATUM_KMS_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"];
            let env_region = vars.named_text(&region_names);
            let env_keys = aws_credentials::env_keys(&vars)?;
            // The shared files are read only when something is still missing.
            let profile = aws_credentials::profile_if_needed(
                &vars,
                env_region.is_none() || env_keys.is_none(),
            )?;
            let (region_setting, region) = match env_region {
                Some(found) => found,
                None => (
                    "AWS_PROFILE",
                    profile
                        .as_ref()
                        .and_then(|p| p.get("region"))
                        .map(str::to_string)
                        .ok_or_else(|| {
                            Problem::MissingSetting(
                                [&region_names[..], &["a profile's `region`"]].concat(),
                            )
                        })?,
                ),
            };
            if !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(Problem::InvalidSetting {
                    name: region_setting,
                    reason: format!("`{region}` is not a region name such as `eu-west-1`"),
                });
            }
            let credentials = match env_keys {
                Some(keys) => keys,
                None => Chain {
                    vars: &vars,
                    region: &region,
                    profile: profile.as_ref(),
                }
                .source()?,
            };
            let endpoint_names: &[&'static str] =
                if vars.flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
                    &["TATUM_KMS_AWS_ENDPOINT_URL"]
                } else {
                    &[
                        "TATUM_KMS_AWS_ENDPOINT_URL",
                        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                        "AWS_ENDPOINT_URL",
                    ]
                };
            let endpoint = vars.url(endpoint_names, &default_endpoint(&region))?;
            Ok(Self {
                secret_name: vars.require_text(&["TATUM_KMS_AWS_SECRET_NAME"])?,
                secret_key: vars.require_text(&["TATUM_KMS_AWS_SECRET_KEY"])?,
                region,
                credentials,
                endpoint,
                timeout: DEFAULT_TIMEOUT,
            })
        };
        read().map_err(|p| ProviderError::setting(SOURCE, p))
    }
}

fn default_endpoint(region: &str) -> String {
    format!(
        "https://{SERVICE}.{region}.{}/",
        aws_credentials::domain(region)
    )
}

/// Fetches the password from AWS Secrets Manager.
pub struct AwsProvider {
    config: AwsConfig,
    http: http::Clients,
    /// For the instance metadata: direct, giving up quickly off EC2.
    imds: reqwest::Client,
}

impl AwsProvider {
    /// Refuses plain http to anything but loopback (and, for the container
    /// and instance metadata endpoints, their link-local hosts), also for a
    /// config built by hand.
    pub fn new(config: AwsConfig) -> Result<Self, ProviderError> {
        let setting = |p| ProviderError::setting(SOURCE, p);
        refuse_plain_http("TATUM_KMS_AWS_ENDPOINT_URL", &config.endpoint, &[]).map_err(setting)?;
        match &config.credentials {
            AwsCredentialSource::WebIdentity(w) => {
                refuse_plain_http("AWS_ENDPOINT_URL_STS", &w.sts_endpoint, &[]).map_err(setting)?;
            }
            AwsCredentialSource::Container(c) => {
                refuse_plain_http(
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    &c.url,
                    aws_credentials::CONTAINER_HOSTS,
                )
                .map_err(setting)?;
            }
            AwsCredentialSource::InstanceMetadata { endpoint } => {
                refuse_plain_http(
                    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                    endpoint,
                    aws_credentials::IMDS_HOSTS,
                )
                .map_err(setting)?;
            }
            AwsCredentialSource::Static { .. } => {}
        }
        let client_error = |p| ProviderError::new(SOURCE, "HTTP client", p);
        let http = http::Clients::new(config.timeout).map_err(client_error)?;
        let imds = http::client_with(config.timeout, aws_credentials::IMDS_CONNECT_TIMEOUT, false)
            .map_err(client_error)?;
        Ok(Self { config, http, imds })
    }

    async fn credentials(&self) -> Result<AwsCredentials, Problem> {
        Resolver {
            http: &self.http,
            imds: &self.imds,
            timeout: self.config.timeout,
        }
        .credentials(&self.config.credentials)
        .await
    }

    async fn fetch(&self, credentials: &AwsCredentials) -> Result<SecretString, Problem> {
        let c = &self.config;
        let body = serde_json::json!({ "SecretId": c.secret_name }).to_string();
        let time = SigningTime::now();
        let host = match c.endpoint.port() {
            Some(port) => format!("{}:{port}", c.endpoint.host_str().unwrap_or_default()),
            None => c.endpoint.host_str().unwrap_or_default().to_string(),
        };
        let mut headers = vec![
            ("content-type", CONTENT_TYPE),
            ("host", host.as_str()),
            ("x-amz-date", time.amz_date()),
            ("x-amz-target", TARGET),
        ];
        if let Some(token) = &credentials.session_token {
            headers.push(("x-amz-security-token", token.expose_secret()));
        }
        let signed = sigv4::Request {
            method: "POST",
            path: c.endpoint.path(),
            query: c.endpoint.query().unwrap_or_default(),
            headers: &headers,
            body: body.as_bytes(),
        };
        let scope = Scope {
            region: &c.region,
            service: SERVICE,
            time: &time,
        };
        let authorization = sigv4::authorization(
            &signed,
            &credentials.access_key_id,
            &credentials.secret_access_key,
            &scope,
        );
        let mut request = self
            .http
            .for_url(&c.endpoint)
            .post(c.endpoint.clone())
            .header("authorization", authorization)
            .body(body);
        // reqwest derives `host` from the URL, exactly as signed.
        for (name, value) in headers.iter().filter(|(name, _)| *name != "host") {
            request = request.header(*name, *value);
        }
        let answer = http::send(request, c.timeout).await?;
        if !answer.is_success() {
            let mut scrub = vec![credentials.secret_access_key.expose_secret()];
            if let Some(token) = &credentials.session_token {
                scrub.push(token.expose_secret());
            }
            let failure = answer.failure(&scrub);
            let not_found = failure.status == 404
                || failure.code.as_deref() == Some("ResourceNotFoundException");
            return Err(if not_found {
                Problem::NotFound(failure)
            } else {
                Problem::Http(failure)
            });
        }

        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct SecretValue {
            secret_string: Option<SecretString>,
            secret_binary: Option<IgnoredAny>,
        }
        let value: SecretValue = serde_json::from_slice(&answer.body)
            .map_err(|_| Problem::Malformed("not a GetSecretValue answer".into()))?;
        match (value.secret_string, value.secret_binary) {
            (Some(text), _) => password_under(text.expose_secret(), &c.secret_key),
            (None, Some(_)) => Err(Problem::Malformed(
                "the secret is binary (SecretBinary); store a JSON object as SecretString".into(),
            )),
            (None, None) => Err(Problem::Malformed("no SecretString in the answer".into())),
        }
    }
}

/// The string under `key` of the JSON object `text`, read without keeping
/// the other values.
fn password_under(text: &str, key: &str) -> Result<SecretString, Problem> {
    let not_object = || Problem::Malformed("the SecretString is not a JSON object".into());
    let mut json = serde_json::Deserializer::from_str(text);
    // The parse error is not quoted: it could hold part of the secret.
    let found = json.deserialize_map(Pick(key)).map_err(|_| not_object())?;
    json.end().map_err(|_| not_object())?;
    match found {
        Picked::Missing => Err(Problem::MissingKey(key.to_string())),
        Picked::NotText => Err(Problem::Malformed(format!(
            "the value under key `{key}` is not a string"
        ))),
        Picked::Text(value) if value.expose_secret().is_empty() => Err(Problem::EmptyValue),
        Picked::Text(value) => Ok(value),
    }
}

enum Picked {
    Missing,
    NotText,
    Text(SecretString),
}

struct Pick<'k>(&'k str);

impl<'de> Visitor<'de> for Pick<'_> {
    type Value = Picked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Picked, A::Error> {
        let mut found = Picked::Missing;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.0 {
                found = match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::String(text) => Picked::Text(SecretString::from(text)),
                    _ => Picked::NotText,
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl SecretProvider for AwsProvider {
    fn source(&self) -> PasswordSource {
        SOURCE
    }

    fn describe(&self) -> String {
        let c = &self.config;
        format!(
            "key `{}` of secret `{}` in {} at {}",
            c.secret_key, c.secret_name, c.region, c.endpoint
        )
    }

    async fn password(&self) -> Result<SecretString, ProviderError> {
        let credentials = self
            .credentials()
            .await
            .map_err(|p| ProviderError::new(SOURCE, self.config.credentials.describe(), p))?;
        self.fetch(&credentials)
            .await
            .map_err(|p| ProviderError::new(SOURCE, self.describe(), p))
    }
}
