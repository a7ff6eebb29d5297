//! Where AWS credentials come from, in the AWS SDKs' order: our
//! `TATUM_KMS_AWS_*` keys, the standard `AWS_*` keys, the shared config and
//! credentials files, a web identity token (EKS service accounts), the
//! container endpoint (ECS tasks, EKS Pod Identity), then the EC2 instance
//! metadata (IMDSv2). The first that is configured is used, and its failure
//! is the answer: falling through to the next would hide a broken setup.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderValue, AUTHORIZATION};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::aws_profile::{self, Profile};
use crate::error::Problem;
use crate::files::read_token_file;
use crate::http::{self, Answer};
use crate::vars::{http_url, refuse_plain_http, Vars};
use crate::xml;

/// A set of AWS keys to sign requests with.
#[derive(Debug, Clone)]
pub struct AwsCredentials {
    /// The access key id (`AKIA...` or, for temporary keys, `ASIA...`).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: SecretString,
    /// For temporary credentials (STS, roles); sent as `X-Amz-Security-Token`.
    pub session_token: Option<SecretString>,
}

/// The ECS task endpoint, for `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`.
pub(crate) const ECS_CONTAINER_HOST: &str = "169.254.170.2";
/// The link-local hosts the container endpoint may use over plain http:
/// ECS, and EKS Pod Identity over IPv4 and IPv6.
pub(crate) const CONTAINER_HOSTS: &[IpAddr] = &[
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 2)),
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 23)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23)),
];
/// The EC2 instance metadata service, IPv4 and IPv6.
pub(crate) const IMDS_HOSTS: &[IpAddr] = &[
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
];
const IMDS_IPV4: &str = "http://169.254.169.254";
const IMDS_IPV6: &str = "http://[fd00:ec2::254]";
/// The IMDSv2 session token's lifetime, as the SDKs ask (6 h).
const IMDS_TOKEN_TTL: &str = "21600";
/// Off EC2 the metadata address does not answer; the SDKs give up on
/// connecting after a second, and so do we.
pub(crate) const IMDS_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Where the credentials come from; resolved when the password is asked,
/// so temporary ones are fresh.
#[derive(Debug, Clone)]
pub enum AwsCredentialSource {
    /// Keys given outright. `origin` says where: a variable or a profile.
    Static {
        /// The keys.
        credentials: AwsCredentials,
        /// The variable or the profile that gave them, for messages.
        origin: String,
    },
    /// STS `AssumeRoleWithWebIdentity` with the token in a file.
    WebIdentity(WebIdentity),
    /// The ECS or EKS Pod Identity agent's endpoint.
    Container(ContainerEndpoint),
    /// The EC2 instance metadata service, IMDSv2.
    InstanceMetadata {
        /// The metadata service's base URL (`http://169.254.169.254` unless
        /// overridden).
        endpoint: Url,
    },
}

/// A role to assume with a web identity token (EKS IRSA and the like).
#[derive(Debug, Clone)]
pub struct WebIdentity {
    /// The ARN of the role to assume.
    pub role_arn: String,
    /// The role session's name, as STS records it.
    pub session_name: String,
    /// Read at every request: EKS rotates the projected token.
    pub token_file: PathBuf,
    /// `https://sts.{region}.amazonaws.com/` unless overridden.
    pub sts_endpoint: Url,
    /// The variables or the profile that asked for it.
    pub origin: String,
}

/// The container credentials endpoint and what to authorize with.
#[derive(Debug, Clone)]
pub struct ContainerEndpoint {
    /// The full URL the credentials are fetched from.
    pub url: Url,
    /// The `Authorization` header's source, if one is set.
    pub authorization: Option<ContainerAuthorization>,
}

/// Where the container endpoint's authorization token comes from.
#[derive(Debug, Clone)]
pub enum ContainerAuthorization {
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    Token(SecretString),
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, read at every request (EKS
    /// Pod Identity rotates it).
    File(PathBuf),
}

impl AwsCredentialSource {
    /// The keys, when they were given outright.
    pub fn static_credentials(&self) -> Option<&AwsCredentials> {
        match self {
            Self::Static { credentials, .. } => Some(credentials),
            _ => None,
        }
    }

    /// Where the credentials come from, for logs and errors: no secrets.
    pub fn describe(&self) -> String {
        match self {
            Self::Static { origin, .. } => format!("credentials from {origin}"),
            Self::WebIdentity(w) => format!(
                "web identity credentials for role `{}` (token file `{}`, from {}) from STS at {}",
                w.role_arn,
                w.token_file.display(),
                w.origin,
                w.sts_endpoint
            ),
            Self::Container(c) => format!("container credentials from {}", c.url),
            Self::InstanceMetadata { endpoint } => {
                format!("EC2 instance metadata credentials from {endpoint}")
            }
        }
    }
}

/// What the chain needs besides the variables.
pub(crate) struct Chain<'a> {
    pub vars: &'a Vars<'a>,
    pub region: &'a str,
    pub profile: Option<&'a Profile>,
}

impl Chain<'_> {
    /// The first source that is configured, else `NoCredentials`.
    pub(crate) fn source(&self) -> Result<AwsCredentialSource, Problem> {
        let vars = self.vars;
        if let Some(credentials) = env_keys(vars)? {
            return Ok(credentials);
        }
        if let Some(profile) = self.profile {
            if let Some(source) = self.profile_source(profile)? {
                return Ok(source);
            }
        }
        if let Some(token_file) = vars.text(&["AWS_WEB_IDENTITY_TOKEN_FILE"]) {
            let role_arn = vars.text(&["AWS_ROLE_ARN"]).ok_or_else(|| {
                Problem::InvalidSetting {
                    name: "AWS_ROLE_ARN",
                    reason: "not set, but AWS_WEB_IDENTITY_TOKEN_FILE is: a web identity needs the role to assume".into(),
                }
            })?;
            return Ok(AwsCredentialSource::WebIdentity(WebIdentity {
                role_arn,
                session_name: vars
                    .text(&["AWS_ROLE_SESSION_NAME"])
                    .unwrap_or_else(default_session_name),
                token_file: PathBuf::from(token_file),
                sts_endpoint: self.sts_endpoint()?,
                origin: "AWS_WEB_IDENTITY_TOKEN_FILE".into(),
            }));
        }
        if let Some(endpoint) = container_endpoint(vars)? {
            return Ok(AwsCredentialSource::Container(endpoint));
        }
        if vars.flag("AWS_EC2_METADATA_DISABLED") {
            return Err(Problem::NoCredentials(
                "none of TATUM_KMS_AWS_ACCESS_KEY_ID, AWS_ACCESS_KEY_ID, a profile with credentials \
                 in the shared AWS files, AWS_WEB_IDENTITY_TOKEN_FILE, \
                 AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or AWS_CONTAINER_CREDENTIALS_FULL_URI is set, \
                 and AWS_EC2_METADATA_DISABLED turns off the instance metadata"
                    .into(),
            ));
        }
        let default = match vars.text(&["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"]) {
            Some(mode) if mode.eq_ignore_ascii_case("ipv6") => IMDS_IPV6,
            _ => IMDS_IPV4,
        };
        let endpoint =
            vars.url_allowing(&["AWS_EC2_METADATA_SERVICE_ENDPOINT"], default, IMDS_HOSTS)?;
        Ok(AwsCredentialSource::InstanceMetadata { endpoint })
    }

    /// A profile's credentials: a web identity role, or static keys. Other
    /// kinds (SSO, `credential_process`, `source_profile` chains) are
    /// refused by name rather than skipped, as the SDKs would use them.
    fn profile_source(&self, profile: &Profile) -> Result<Option<AwsCredentialSource>, Problem> {
        let unsupported = |what: &str| Problem::InvalidSetting {
            name: "AWS_PROFILE",
            reason: format!(
                "{} uses {what}, which is not supported; use static keys, \
                 role_arn with web_identity_token_file, or the AWS_* variables",
                profile.origin()
            ),
        };
        if let Some(role_arn) = profile.get("role_arn") {
            let Some(token_file) = profile.get("web_identity_token_file") else {
                return Err(unsupported("role_arn without web_identity_token_file"));
            };
            return Ok(Some(AwsCredentialSource::WebIdentity(WebIdentity {
                role_arn: role_arn.to_string(),
                session_name: profile
                    .get("role_session_name")
                    .map(str::to_string)
                    .unwrap_or_else(default_session_name),
                token_file: PathBuf::from(token_file),
                sts_endpoint: self.sts_endpoint()?,
                origin: profile.origin(),
            })));
        }
        for key in ["sso_session", "sso_start_url", "credential_process"] {
            if profile.get(key).is_some() {
                return Err(unsupported(key));
            }
        }
        match (
            profile.get("aws_access_key_id"),
            profile.get("aws_secret_access_key"),
        ) {
            (Some(id), Some(secret)) => Ok(Some(AwsCredentialSource::Static {
                credentials: AwsCredentials {
                    access_key_id: id.to_string(),
                    secret_access_key: SecretString::from(secret),
                    session_token: profile.get("aws_session_token").map(SecretString::from),
                },
                origin: profile.origin(),
            })),
            (None, None) => Ok(None),
            _ => Err(Problem::InvalidSetting {
                name: "AWS_PROFILE",
                reason: format!(
                    "{} has only one of aws_access_key_id and aws_secret_access_key",
                    profile.origin()
                ),
            }),
        }
    }

    /// `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else the regional
    /// endpoint.
    fn sts_endpoint(&self) -> Result<Url, Problem> {
        let default = format!("https://sts.{}.{}/", self.region, domain(self.region));
        self.vars.url(
            configured_endpoints(self.vars, &["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"]),
            &default,
        )
    }
}

/// The endpoint variables, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`
/// says to ignore them (as the SDKs do).
pub(crate) fn configured_endpoints(
    vars: &Vars<'_>,
    names: &'static [&'static str],
) -> &'static [&'static str] {
    if vars.flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
        &[]
    } else {
        names
    }
}

pub(crate) fn domain(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

fn default_session_name() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("tatum-kms-{secs}")
}

/// `TATUM_KMS_AWS_*` keys, else `AWS_*` keys; the two sets are never mixed
/// (a key of one with the secret of the other cannot sign).
pub(crate) fn env_keys(vars: &Vars<'_>) -> Result<Option<AwsCredentialSource>, Problem> {
    for (id, secret, token) in [
        (
            "TATUM_KMS_AWS_ACCESS_KEY_ID",
            "TATUM_KMS_AWS_SECRET_ACCESS_KEY",
            "TATUM_KMS_AWS_SESSION_TOKEN",
        ),
        (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        ),
    ] {
        if let Some(access_key_id) = vars.text(&[id]) {
            return Ok(Some(AwsCredentialSource::Static {
                credentials: AwsCredentials {
                    access_key_id,
                    secret_access_key: vars.require_secret(&[secret])?,
                    session_token: vars.secret(&[token]),
                },
                origin: id.to_string(),
            }));
        }
    }
    Ok(None)
}

/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on the ECS host) wins over
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI`, which must be https, loopback or
/// one of the ECS / EKS Pod Identity link-local hosts.
fn container_endpoint(vars: &Vars<'_>) -> Result<Option<ContainerEndpoint>, Problem> {
    let url = if let Some(relative) = vars.text(&["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]) {
        let name = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
        let slash = if relative.starts_with('/') { "" } else { "/" };
        let url = http_url(
            name,
            &format!("http://{ECS_CONTAINER_HOST}{slash}{relative}"),
        )?;
        // `@host` or similar must not move the request elsewhere.
        if url.host_str() != Some(ECS_CONTAINER_HOST) {
            return Err(Problem::InvalidSetting {
                name,
                reason: "not a path on the ECS credentials endpoint".into(),
            });
        }
        url
    } else if let Some(full) = vars.text(&["AWS_CONTAINER_CREDENTIALS_FULL_URI"]) {
        let name = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
        let url = http_url(name, &full)?;
        refuse_plain_http(name, &url, CONTAINER_HOSTS)?;
        url
    } else {
        return Ok(None);
    };
    let authorization = if let Some(file) = vars.text(&["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) {
        Some(ContainerAuthorization::File(PathBuf::from(file)))
    } else {
        vars.secret(&["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
            .map(ContainerAuthorization::Token)
    };
    Ok(Some(ContainerEndpoint { url, authorization }))
}

/// Fetches credentials from the source.
pub(crate) struct Resolver<'a> {
    pub http: &'a http::Clients,
    /// Direct, with a short connect timeout: the metadata address.
    pub imds: &'a reqwest::Client,
    pub timeout: Duration,
}

impl Resolver<'_> {
    pub(crate) async fn credentials(
        &self,
        source: &AwsCredentialSource,
    ) -> Result<AwsCredentials, Problem> {
        match source {
            AwsCredentialSource::Static { credentials, .. } => Ok(credentials.clone()),
            AwsCredentialSource::WebIdentity(w) => self.web_identity(w).await,
            AwsCredentialSource::Container(c) => self.container(c).await,
            AwsCredentialSource::InstanceMetadata { endpoint } => {
                self.instance_metadata(endpoint).await
            }
        }
    }

    /// STS `AssumeRoleWithWebIdentity`: unsigned (the token is the proof),
    /// form-encoded, answered in XML.
    async fn web_identity(&self, w: &WebIdentity) -> Result<AwsCredentials, Problem> {
        let token = read_token_file(&w.token_file, "the web identity token file").await?;
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", w.role_arn.as_str()),
            ("RoleSessionName", w.session_name.as_str()),
            ("WebIdentityToken", token.expose_secret()),
        ];
        let request = self
            .http
            .for_url(&w.sts_endpoint)
            .post(w.sts_endpoint.clone())
            .form(&form);
        let answer = http::send(request, self.timeout).await?;
        refuse_failure(&answer, &[token.expose_secret()])?;
        sts_credentials(&answer.body)
    }

    /// `GET` the container endpoint, with its authorization token if set.
    async fn container(&self, c: &ContainerEndpoint) -> Result<AwsCredentials, Problem> {
        let token = match &c.authorization {
            None => None,
            Some(ContainerAuthorization::Token(token)) => Some(token.clone()),
            Some(ContainerAuthorization::File(path)) => {
                Some(read_token_file(path, "the container authorization token file").await?)
            }
        };
        let mut request = self.http.for_url(&c.url).get(c.url.clone());
        if let Some(token) = &token {
            let mut value = HeaderValue::from_str(token.expose_secret()).map_err(|_| {
                Problem::InvalidSetting {
                    name: "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                    reason: "not a valid header value (a line break?)".into(),
                }
            })?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        let answer = http::send(request, self.timeout).await?;
        let scrub: Vec<&str> = token.iter().map(|t| t.expose_secret()).collect();
        refuse_failure(&answer, &scrub)?;
        json_credentials(&answer.body)
    }

    /// IMDSv2: a session token by `PUT`, then the role's name, then its
    /// credentials, each `GET` carrying the token.
    async fn instance_metadata(&self, endpoint: &Url) -> Result<AwsCredentials, Problem> {
        let at = |path: &str| -> Url {
            let mut url = endpoint.clone();
            let base = url.path().trim_end_matches('/').to_string();
            url.set_path(&format!("{base}{path}"));
            url.set_query(None);
            url
        };
        let request = self
            .imds
            .put(at("/latest/api/token"))
            .header("x-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL);
        let answer = http::send(request, self.timeout).await?;
        refuse_failure(&answer, &[])?;
        let token = SecretString::from(
            std::str::from_utf8(&answer.body)
                .map_err(|_| Problem::Malformed("the IMDS session token is not text".into()))?
                .trim(),
        );
        let mut token_header = HeaderValue::from_str(token.expose_secret()).map_err(|_| {
            Problem::Malformed("the IMDS session token is not a header value".into())
        })?;
        token_header.set_sensitive(true);
        let get = |url: Url| {
            self.imds
                .get(url)
                .header("x-aws-ec2-metadata-token", token_header.clone())
        };

        let listing = "/latest/meta-data/iam/security-credentials/";
        let answer = http::send(get(at(listing)), self.timeout).await?;
        if answer.status == 404 {
            return Err(Problem::NoCredentials(
                "the instance has no IAM role (instance metadata has no security credentials)"
                    .into(),
            ));
        }
        refuse_failure(&answer, &[token.expose_secret()])?;
        let roles = String::from_utf8_lossy(&answer.body);
        let role = roles
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .ok_or_else(|| Problem::Malformed("no role in the instance metadata".into()))?
            .to_string();
        let mut url = at(listing);
        url.path_segments_mut()
            .map_err(|_| Problem::Malformed("the metadata URL has no path".into()))?
            .pop_if_empty()
            .push(&role);
        let answer = http::send(get(url), self.timeout).await?;
        refuse_failure(&answer, &[token.expose_secret()])?;
        json_credentials(&answer.body)
    }
}

fn refuse_failure(answer: &Answer, scrub: &[&str]) -> Result<(), Problem> {
    if answer.is_success() {
        Ok(())
    } else {
        Err(Problem::Http(answer.failure(scrub)))
    }
}

/// The `Credentials` of an `AssumeRoleWithWebIdentity` answer.
fn sts_credentials(body: &[u8]) -> Result<AwsCredentials, Problem> {
    let malformed = |what: &str| Problem::Malformed(format!("STS answer: {what}"));
    let text = std::str::from_utf8(body).map_err(|_| malformed("not UTF-8"))?;
    let block = xml::element(text, "Credentials").ok_or_else(|| malformed("no <Credentials>"))?;
    // Never quote the text: it holds the keys.
    let field = |name: &'static str| -> Result<SecretString, Problem> {
        match xml::leaf(block, name) {
            Some(Ok(value)) if !value.is_empty() => Ok(SecretString::from(value)),
            Some(Err(reason)) => Err(malformed(&format!("<{name}>: {reason}"))),
            _ => Err(malformed(&format!("no <{name}> in <Credentials>"))),
        }
    };
    let credentials = AwsCredentials {
        access_key_id: field("AccessKeyId")?.expose_secret().to_string(),
        secret_access_key: field("SecretAccessKey")?,
        session_token: Some(field("SessionToken")?),
    };
    check_expiration(field("Expiration")?.expose_secret())?;
    Ok(credentials)
}

/// The JSON the container endpoint and IMDS answer with.
fn json_credentials(body: &[u8]) -> Result<AwsCredentials, Problem> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        code: Option<String>,
        access_key_id: Option<String>,
        secret_access_key: Option<SecretString>,
        token: Option<SecretString>,
        expiration: Option<String>,
    }
    // The parse error is not quoted: it could hold part of a key.
    let answer: Answer = serde_json::from_slice(body).map_err(|_| {
        Problem::Malformed("the credentials answer is not the expected JSON".into())
    })?;
    if let Some(code) = answer.code.filter(|c| c != "Success") {
        return Err(Problem::Malformed(format!(
            "the credentials answer says `{}`",
            code.chars().take(100).collect::<String>()
        )));
    }
    let missing = |name: &str| Problem::Malformed(format!("no `{name}` in the credentials answer"));
    let access_key_id = answer
        .access_key_id
        .filter(|k| !k.is_empty())
        .ok_or_else(|| missing("AccessKeyId"))?;
    let secret_access_key = answer
        .secret_access_key
        .filter(|k| !k.expose_secret().is_empty())
        .ok_or_else(|| missing("SecretAccessKey"))?;
    if let Some(expiration) = &answer.expiration {
        check_expiration(expiration)?;
    }
    Ok(AwsCredentials {
        access_key_id,
        secret_access_key,
        session_token: answer.token.filter(|t| !t.expose_secret().is_empty()),
    })
}

/// Temporary credentials that have already expired would only earn an
/// `ExpiredToken` refusal from Secrets Manager; say so here instead.
fn check_expiration(text: &str) -> Result<(), Problem> {
    let expires = parse_timestamp(text).ok_or_else(|| {
        Problem::Malformed(format!(
            "the credentials' expiration `{}` is not an ISO 8601 UTC time",
            text.chars().take(40).collect::<String>()
        ))
    })?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if expires <= now {
        return Err(Problem::Malformed(format!(
            "the credentials expired at {text} (is the clock right?)"
        )));
    }
    Ok(())
}

/// `2024-05-01T12:00:00Z`, with optional fractional seconds, as seconds
/// since 1970.
pub(crate) fn parse_timestamp(text: &str) -> Option<u64> {
    let text = text.trim();
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))?;
    let (date, time) = text.split_once('T')?;
    let mut date = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (date.next()??, date.next()??, date.next()??);
    let time = time.split('.').next()?;
    let mut time = time.splitn(3, ':').map(|p| p.parse::<u64>().ok());
    let (hour, minute, second) = (time.next()??, time.next()??, time.next()??);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // H. Hinnant's `days_from_civil`.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days)
        .ok()
        .map(|d| d * 86_400 + hour * 3600 + minute * 60 + second)
}

/// The profile, when something still needs it: the region or credentials.
pub(crate) fn profile_if_needed(vars: &Vars<'_>, need: bool) -> Result<Option<Profile>, Problem> {
    if need {
        aws_profile::load(vars)
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp("2015-08-30T12:36:00Z"), Some(1_440_938_160));
        assert_eq!(
            parse_timestamp("2015-08-30T12:36:00.123Z"),
            Some(1_440_938_160)
        );
        assert_eq!(
            parse_timestamp("2024-02-29T23:59:59+00:00"),
            Some(1_709_251_199)
        );
        for bad in [
            "2015-08-30 12:36:00Z",
            "2015-13-01T00:00:00Z",
            "2015-08-30T12:36:00",
            "x",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn sts_answer() {
        let body = br#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <SessionToken>FwoGZXIvYXdzE&amp;token</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <Expiration>2999-10-24T23:00:23Z</Expiration>
      <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"#;
        let c = sts_credentials(body).unwrap();
        assert_eq!(c.access_key_id, "ASgeIAIOSFODNN7EXAMPLE");
        assert_eq!(
            c.secret_access_key.expose_secret(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
        );
        assert_eq!(
            c.session_token.unwrap().expose_secret(),
            "FwoGZXIvYXdzE&token"
        );

        let expired = String::from_utf8_lossy(body).replace("2999", "2001");
        assert!(matches!(
            sts_credentials(expired.as_bytes()),
            Err(Problem::Malformed(m)) if m.contains("expired at 2001-10-24T23:00:23Z")
        ));
        let no_token = String::from_utf8_lossy(body).replace("SessionToken", "Other");
        let err = sts_credentials(no_token.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, Problem::Malformed(m) if m.contains("<SessionToken>")),
            "{err}"
        );
        assert!(!err.to_string().contains("EXAMPLEKEY"));
    }
}
