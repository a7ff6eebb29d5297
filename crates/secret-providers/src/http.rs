//! The HTTP plumbing the remote providers share: one client policy (explicit
//! timeouts, no redirects), bounded answers, and the reading of the error
//! bodies the vaults send.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER, WWW_AUTHENTICATE};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::error::{HttpFailure, Problem};

pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Enough for any answer a vault, STS or a metadata endpoint gives; a bigger
/// one is not from the service asked, and reading it whole would let a
/// misbehaving server grow our memory without bound.
pub(crate) const MAX_BODY: usize = 1 << 20;

/// Server texts are quoted up to this many characters.
const MAX_QUOTE: usize = 300;

/// No redirects: a redirect would carry the credentials elsewhere.
/// `use_proxy` is false for the link-local metadata endpoints and loopback
/// hosts, which a proxy cannot reach (and through which plain http would
/// leave the machine).
pub(crate) fn client(timeout: Duration, use_proxy: bool) -> Result<reqwest::Client, Problem> {
    client_with(timeout, timeout.min(Duration::from_secs(5)), use_proxy)
}

pub(crate) fn client_with(
    timeout: Duration,
    connect_timeout: Duration,
    use_proxy: bool,
) -> Result<reqwest::Client, Problem> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tatum-kms-rs/", env!("CARGO_PKG_VERSION")));
    if !use_proxy {
        builder = builder.no_proxy();
    }
    builder
        .build()
        .map_err(|e| Problem::Transport(describe(&e, timeout)))
}

/// A transport failure in a few words, without the URL (the caller names
/// what was asked).
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("timed out after {} s", timeout.as_secs_f32());
    }
    let what = if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    };
    let mut deepest: Option<&dyn std::error::Error> = None;
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        deepest = Some(s);
        source = s.source();
    }
    match deepest {
        Some(cause) => format!("{what}: {cause}"),
        None => what.to_string(),
    }
}

/// A proxied client for https and a direct one for plain http, which this
/// crate only sends to loopback or to a link-local metadata endpoint.
pub(crate) struct Clients {
    proxied: reqwest::Client,
    direct: reqwest::Client,
}

impl Clients {
    pub(crate) fn new(timeout: Duration) -> Result<Self, Problem> {
        Ok(Self {
            proxied: client(timeout, true)?,
            direct: client(timeout, false)?,
        })
    }

    pub(crate) fn for_url(&self, url: &url::Url) -> &reqwest::Client {
        if url.scheme() == "https" {
            &self.proxied
        } else {
            &self.direct
        }
    }
}

pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    /// A successful answer holds the secret: wiped when dropped.
    pub body: Zeroizing<Vec<u8>>,
}

impl Answer {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// What an error answer says. `scrub` holds credentials that must not be
    /// quoted even if a server echoes them.
    pub(crate) fn failure(&self, scrub: &[&str]) -> Box<HttpFailure> {
        let (mut code, message) = error_fields(&self.body);
        if code.is_none() {
            code = header(&self.headers, "x-amzn-errortype").map(|t| aws_error_type(&t));
        }
        let clean = |text: String| quote(&text, scrub);
        Box::new(HttpFailure {
            status: self.status,
            code: code.map(clean).filter(|c| !c.is_empty()),
            message: message.map(clean).filter(|m| !m.is_empty()),
            retry_after: header(&self.headers, RETRY_AFTER.as_str()).map(clean),
            challenge: (self.status == 401)
                .then(|| header(&self.headers, WWW_AUTHENTICATE.as_str()))
                .flatten()
                .map(clean),
        })
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<Answer, Problem> {
    let mut response = request
        .send()
        .await
        .map_err(|e| Problem::Transport(describe(&e, timeout)))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let too_large = || Problem::TooLarge {
        status,
        limit: MAX_BODY,
    };
    // A declared length over the cap is refused before any of it is read.
    let declared = response.content_length().unwrap_or(0);
    if declared > MAX_BODY as u64 {
        return Err(too_large());
    }
    let mut body = Zeroizing::new(Vec::with_capacity(declared as usize));
    // Chunk by chunk, so an undeclared or lying length stops at the cap too.
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Problem::Transport(describe(&e, timeout)))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Code and message of an error body, in any of the shapes the providers
/// use: Azure `{"error":{"code","message"}}`, Entra ID and IMDS
/// `{"error","error_description"}`, VGS `{"errors":[{"status","title","detail"}]}`,
/// AWS JSON `{"__type","message"}` and AWS XML `<Code>`/`<Message>`.
fn error_fields(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return xml_error_fields(&String::from_utf8_lossy(body));
    };
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match json.get("error") {
        Some(Value::Object(error)) => {
            return (text(error.get("code")), text(error.get("message")));
        }
        Some(Value::String(code)) => {
            return (Some(code.clone()), text(json.get("error_description")));
        }
        _ => {}
    }
    if let Some(first) = json.get("errors").and_then(|e| e.get(0)) {
        let message = match (text(first.get("title")), text(first.get("detail"))) {
            (Some(title), Some(detail)) => Some(format!("{title}: {detail}")),
            (title, detail) => title.or(detail),
        };
        return (text(first.get("code")), message);
    }
    let message = text(json.get("message")).or_else(|| text(json.get("Message")));
    if let Some(kind) = text(json.get("__type")) {
        return (Some(aws_error_type(&kind)), message);
    }
    (
        text(json.get("code")).or_else(|| text(json.get("Code"))),
        message,
    )
}

/// `com.amazonaws.secretsmanager#ResourceNotFoundException` and
/// `InvalidSignatureException:http://internal.amazon.com/...` both mean the
/// part between the `#` and the `:`.
fn aws_error_type(kind: &str) -> String {
    let kind = kind.rsplit('#').next().unwrap_or(kind);
    kind.split(':').next().unwrap_or(kind).to_string()
}

fn xml_error_fields(body: &str) -> (Option<String>, Option<String>) {
    (xml_element(body, "Code"), xml_element(body, "Message"))
}

fn xml_element(body: &str, name: &str) -> Option<String> {
    crate::xml::element(body, name).and_then(|text| crate::xml::unescape(text).ok())
}

/// One line, bounded, credentials blanked.
fn quote(text: &str, scrub: &[&str]) -> String {
    let mut text: String = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    for secret in scrub {
        // Shorter strings would blank ordinary words.
        if secret.len() >= 4 {
            text = text.replace(secret, "[redacted]");
        }
    }
    if text.chars().count() > MAX_QUOTE {
        text = text.chars().take(MAX_QUOTE).collect::<String>() + "…";
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_error_shape() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            (
                r#"{"error":{"code":"SecretNotFound","message":"A secret with (name/id) pw was not found in this key vault."}}"#,
                Some("SecretNotFound"),
                Some("A secret with (name/id) pw was not found in this key vault."),
            ),
            (
                r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}"#,
                Some("invalid_client"),
                Some("AADSTS7000215: Invalid client secret provided."),
            ),
            (
                r#"{"errors":[{"status":401,"title":"Unauthorized","detail":"Bad credentials"}]}"#,
                None,
                Some("Unauthorized: Bad credentials"),
            ),
            (
                r#"{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}"#,
                Some("ResourceNotFoundException"),
                Some("Secrets Manager can't find the specified secret."),
            ),
            (
                r#"{"__type":"InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/","Message":"Signature expired"}"#,
                Some("InvalidSignatureException"),
                Some("Signature expired"),
            ),
            (
                "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>\
                 <Message>The request signature we calculated does not match &amp; so on</Message>\
                 </Error><RequestId>x</RequestId></ErrorResponse>",
                Some("SignatureDoesNotMatch"),
                Some("The request signature we calculated does not match & so on"),
            ),
            ("<html>Bad gateway</html>", None, None),
            ("", None, None),
        ];
        for (body, code, message) in cases {
            let (c, m) = error_fields(body.as_bytes());
            assert_eq!((c.as_deref(), m.as_deref()), (*code, *message), "{body}");
        }
    }

    #[test]
    fn quotes_on_one_bounded_line_without_credentials() {
        assert_eq!(
            quote("bad\n  key  AKIAEXAMPLE1 here\r\n", &["AKIAEXAMPLE1", "ab"]),
            "bad key [redacted] here"
        );
        let long = "x".repeat(1000);
        assert_eq!(quote(&long, &[]).chars().count(), MAX_QUOTE + 1);
    }
}
