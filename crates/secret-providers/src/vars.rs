//! Reading settings through the caller's lookup. An empty value counts as
//! unset, as in the original (`if (process.env[key])`).

use std::net::IpAddr;

use secrecy::SecretString;
use url::{Host, Url};

use crate::error::Problem;

pub(crate) struct Vars<'a>(pub &'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    /// The first of `names` that is set, trimmed: for names, regions, URLs.
    pub(crate) fn text(&self, names: &[&'static str]) -> Option<String> {
        names.iter().find_map(|name| {
            let value = (self.0)(name)?;
            let value = value.trim();
            (!value.is_empty()).then(|| value.to_string())
        })
    }

    pub(crate) fn require_text(&self, names: &[&'static str]) -> Result<String, Problem> {
        self.text(names)
            .ok_or_else(|| Problem::MissingSetting(names.to_vec()))
    }

    /// The first of `names` that is set, as given: a password may well end
    /// in a space.
    pub(crate) fn secret(&self, names: &[&'static str]) -> Option<SecretString> {
        names.iter().find_map(|name| {
            let value = (self.0)(name)?;
            (!value.is_empty()).then(|| SecretString::from(value))
        })
    }

    pub(crate) fn require_secret(&self, names: &[&'static str]) -> Result<SecretString, Problem> {
        self.secret(names)
            .ok_or_else(|| Problem::MissingSetting(names.to_vec()))
    }

    /// An https URL (plain http only to loopback) from the first of
    /// `names` that is set, else `default`. The error names the setting
    /// that gave the URL.
    pub(crate) fn url(&self, names: &[&'static str], default: &str) -> Result<Url, Problem> {
        self.url_allowing(names, default, &[])
    }

    /// As `url`, with plain http also allowed to the `link_local` hosts: the
    /// metadata endpoints that only speak http.
    pub(crate) fn url_allowing(
        &self,
        names: &[&'static str],
        default: &str,
        link_local: &[IpAddr],
    ) -> Result<Url, Problem> {
        let (name, text) = self.named_text(names).unwrap_or((
            names.first().copied().unwrap_or("the default endpoint"),
            default.to_string(),
        ));
        let url = http_url(name, &text)?;
        refuse_plain_http(name, &url, link_local)?;
        Ok(url)
    }

    /// The first of `names` that is set, with the name that set it.
    pub(crate) fn named_text(&self, names: &[&'static str]) -> Option<(&'static str, String)> {
        names
            .iter()
            .find_map(|name| Some((*name, self.text(&[name])?)))
    }

    /// A yes/no setting: `true` (any case) is yes, anything else no.
    pub(crate) fn flag(&self, name: &'static str) -> bool {
        self.text(&[name])
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

/// Plain http would carry the password, a bearer token or credentials in
/// clear. Loopback never leaves the machine; the `link_local` hosts are
/// metadata endpoints that exist only as http and only on the host's own
/// link.
pub(crate) fn refuse_plain_http(
    name: &'static str,
    url: &Url,
    link_local: &[IpAddr],
) -> Result<(), Problem> {
    if url.scheme() == "https" {
        return Ok(());
    }
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(ip.to_ipv4_mapped().map_or(IpAddr::V6(ip), IpAddr::V4)),
        Some(Host::Domain(domain)) => {
            if domain.eq_ignore_ascii_case("localhost") {
                return Ok(());
            }
            None
        }
        None => None,
    };
    if let Some(ip) = ip {
        if ip.is_loopback() || link_local.contains(&ip) {
            return Ok(());
        }
    }
    let also = if link_local.is_empty() {
        String::new()
    } else {
        let hosts: Vec<String> = link_local.iter().map(IpAddr::to_string).collect();
        format!(
            " and the metadata endpoint{} {}",
            if hosts.len() > 1 { "s" } else { "" },
            hosts.join(", ")
        )
    };
    Err(Problem::InvalidSetting {
        name,
        reason: format!(
            "`{url}` is plain http to another host: secrets would cross the network in clear; \
             use https (plain http is accepted only for loopback{also})"
        ),
    })
}

pub(crate) fn http_url(name: &'static str, text: &str) -> Result<Url, Problem> {
    let invalid = |reason: String| Problem::InvalidSetting { name, reason };
    let url = Url::parse(text).map_err(|e| invalid(format!("`{text}` is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(invalid(format!("`{text}` is not an http(s) URL")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials do not belong in the URL".to_string()));
    }
    Ok(url)
}

/// `url` with `segments` appended to its path, each percent-encoded.
pub(crate) fn join(url: &Url, segments: &[&str]) -> Url {
    let mut url = url.clone();
    url.set_query(None);
    url.path_segments_mut()
        .expect("http(s) URLs have a path")
        .pop_if_empty()
        .extend(segments);
    url
}
