//! AWS Secrets Manager, `GetSecretValue` (JSON 1.1 protocol, SigV4-signed).
//! The secret's `SecretString` is a JSON object; the password is the string
//! under one of its keys.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use url::Url;

use crate::error::{Problem, ProviderError};
use crate::http::{self, DEFAULT_TIMEOUT};
use crate::sigv4::{self, Scope, SigningTime};
use crate::vars::Vars;
use crate::{PasswordSource, SecretProvider};

const SOURCE: PasswordSource = PasswordSource::Aws;
const SERVICE: &str = "secretsmanager";
const TARGET: &str = "secretsmanager.GetSecretValue";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

#[derive(Debug, Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    /// For temporary credentials (STS, assumed roles).
    pub session_token: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub struct AwsConfig {
    pub region: String,
    pub secret_name: String,
    /// The key of the secret's JSON object that holds the password.
    pub secret_key: String,
    pub credentials: AwsCredentials,
    /// `https://secretsmanager.{region}.amazonaws.com/` unless overridden.
    pub endpoint: Url,
    pub timeout: Duration,
}

impl AwsConfig {
    /// `TATUM_KMS_AWS_REGION` (else `AWS_REGION`, `AWS_DEFAULT_REGION`),
    /// `TATUM_KMS_AWS_SECRET_NAME`, `TATUM_KMS_AWS_SECRET_KEY`, optional
    /// `TATUM_KMS_AWS_ENDPOINT_URL`. Credentials: `TATUM_KMS_AWS_ACCESS_KEY_ID`
    /// with `TATUM_KMS_AWS_SECRET_ACCESS_KEY` (and optional
    /// `TATUM_KMS_AWS_SESSION_TOKEN`); when the first is unset, the standard
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
    /// The two sets are never mixed: a key of one with the secret of the
    /// other cannot sign.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ProviderError> {
        let vars = Vars(&lookup);
        let read = || -> Result<Self, Problem> {
            let region =
                vars.require_text(&["TATUM_KMS_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"])?;
            if !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(Problem::InvalidSetting {
                    name: "TATUM_KMS_AWS_REGION",
                    reason: format!("`{region}` is not a region name such as `eu-west-1`"),
                });
            }
            let credentials = match vars.text(&["TATUM_KMS_AWS_ACCESS_KEY_ID"]) {
                Some(access_key_id) => AwsCredentials {
                    access_key_id,
                    secret_access_key: vars.require_secret(&["TATUM_KMS_AWS_SECRET_ACCESS_KEY"])?,
                    session_token: vars.secret(&["TATUM_KMS_AWS_SESSION_TOKEN"]),
                },
                None => AwsCredentials {
                    access_key_id: vars.text(&["AWS_ACCESS_KEY_ID"]).ok_or_else(|| {
                        Problem::MissingSetting(vec![
                            "TATUM_KMS_AWS_ACCESS_KEY_ID",
                            "AWS_ACCESS_KEY_ID",
                        ])
                    })?,
                    secret_access_key: vars.require_secret(&["AWS_SECRET_ACCESS_KEY"])?,
                    session_token: vars.secret(&["AWS_SESSION_TOKEN"]),
                },
            };
            let endpoint = vars.url(&["TATUM_KMS_AWS_ENDPOINT_URL"], &default_endpoint(&region))?;
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
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://{SERVICE}.{region}.{domain}/")
}

pub struct AwsProvider {
    config: AwsConfig,
    http: reqwest::Client,
}

impl AwsProvider {
    pub fn new(config: AwsConfig) -> Result<Self, ProviderError> {
        let http = http::client(config.timeout, true)
            .map_err(|p| ProviderError::new(SOURCE, "HTTP client", p))?;
        Ok(Self { config, http })
    }

    async fn fetch(&self) -> Result<SecretString, Problem> {
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
        if let Some(token) = &c.credentials.session_token {
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
            &c.credentials.access_key_id,
            &c.credentials.secret_access_key,
            &scope,
        );
        let mut request = self
            .http
            .post(c.endpoint.clone())
            .header("authorization", authorization)
            .body(body);
        // reqwest derives `host` from the URL, exactly as signed.
        for (name, value) in headers.iter().filter(|(name, _)| *name != "host") {
            request = request.header(*name, *value);
        }
        let answer = http::send(request, c.timeout).await?;
        if !answer.is_success() {
            let mut scrub = vec![c.credentials.secret_access_key.expose_secret()];
            if let Some(token) = &c.credentials.session_token {
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
        self.fetch()
            .await
            .map_err(|p| ProviderError::new(SOURCE, self.describe(), p))
    }
}
