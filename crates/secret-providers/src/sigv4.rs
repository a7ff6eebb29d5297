//! AWS Signature Version 4 for a request signed in the `Authorization`
//! header: the canonical request, the string to sign and the key derivation
//! as AWS documents them. The hash and the MAC are RustCrypto's.
//!
//! Paths are encoded once more, as every service but S3 expects.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The request as it goes on the wire. `headers` must hold every header to
/// sign, `host` and `x-amz-date` among them; `path` and `query` are as sent
/// (already percent-encoded).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The path, percent-encoded as sent; empty means `/`.
    pub path: &'a str,
    /// The query string without the `?`, percent-encoded as sent.
    pub query: &'a str,
    /// The headers to sign, as (name, value).
    pub headers: &'a [(&'a str, &'a str)],
    /// The request body, whose SHA-256 is signed.
    pub body: &'a [u8],
}

/// Where and when a signature is valid.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    /// The region, e.g. `us-east-1`.
    pub region: &'a str,
    /// The service's signing name, e.g. `secretsmanager`.
    pub service: &'a str,
    /// When the request is signed.
    pub time: &'a SigningTime,
}

impl Scope<'_> {
    /// `date/region/service/aws4_request`.
    pub(crate) fn credential_scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.time.date(),
            self.region,
            self.service
        )
    }
}

/// A UTC instant in the two forms SigV4 uses: `20150830T123600Z` and `20150830`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningTime {
    amz_date: String,
}

impl SigningTime {
    /// The current time (the epoch if the clock is before it).
    pub(crate) fn now() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self::from_unix(secs)
    }

    /// The instant `secs` seconds after 1970-01-01T00:00:00Z.
    pub fn from_unix(secs: u64) -> Self {
        let days = (secs / 86_400) as i64;
        let rest = secs % 86_400;
        let (year, month, day) = civil_from_days(days);
        Self {
            amz_date: format!(
                "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
                rest / 3600,
                rest / 60 % 60,
                rest % 60
            ),
        }
    }

    /// `X-Amz-Date`.
    pub fn amz_date(&self) -> &str {
        &self.amz_date
    }

    /// The date part, `YYYYMMDD`, as used in the credential scope.
    pub fn date(&self) -> &str {
        &self.amz_date[..8]
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The canonical request and its signed-headers list.
pub fn canonical_request(request: &Request<'_>) -> (String, String) {
    let path = if request.path.is_empty() {
        "/".to_string()
    } else {
        request
            .path
            .split('/')
            .map(uri_encode)
            .collect::<Vec<_>>()
            .join("/")
    };

    let mut query: Vec<(String, String)> = url::form_urlencoded::parse(request.query.as_bytes())
        .map(|(k, v)| (uri_encode(&k), uri_encode(&v)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");

    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| {
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            (name.to_ascii_lowercase(), value)
        })
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    // Repeated names are one line with the values joined by commas, in order.
    let mut lines: Vec<(String, String)> = Vec::new();
    for (name, value) in headers {
        match lines.last_mut() {
            Some((last, values)) if *last == name => {
                values.push(',');
                values.push_str(&value);
            }
            _ => lines.push((name, value)),
        }
    }
    let canonical_headers: String = lines
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let signed_headers = lines
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");

    let canonical = format!(
        "{}\n{path}\n{query}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method,
        hex::encode(Sha256::digest(request.body))
    );
    (canonical, signed_headers)
}

/// The string to sign: algorithm, time, credential scope and the hash of
/// `canonical_request`.
pub fn string_to_sign(scope: &Scope<'_>, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        scope.time.amz_date(),
        scope.credential_scope(),
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// The signing key derived from the secret access key for `scope`'s date,
/// region and service.
pub fn signing_key(secret_access_key: &SecretString, scope: &Scope<'_>) -> Zeroizing<Vec<u8>> {
    let seed = Zeroizing::new(format!("AWS4{}", secret_access_key.expose_secret()));
    let mut key = Zeroizing::new(seed.as_bytes().to_vec());
    for part in [
        scope.time.date(),
        scope.region,
        scope.service,
        "aws4_request",
    ] {
        key = mac(&key, part.as_bytes());
    }
    key
}

fn mac(key: &[u8], data: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    Zeroizing::new(mac.finalize().into_bytes().to_vec())
}

/// The `Authorization` header value for `request`.
pub fn authorization(
    request: &Request<'_>,
    access_key_id: &str,
    secret_access_key: &SecretString,
    scope: &Scope<'_>,
) -> String {
    let (canonical, signed_headers) = canonical_request(request);
    let key = signing_key(secret_access_key, scope);
    let signature = hex::encode(&*mac(&key, string_to_sign(scope, &canonical).as_bytes()));
    format!(
        "{ALGORITHM} Credential={access_key_id}/{}, SignedHeaders={signed_headers}, Signature={signature}",
        scope.credential_scope()
    )
}

/// RFC 3986 unreserved characters stay, every other byte is `%XX`.
fn uri_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
