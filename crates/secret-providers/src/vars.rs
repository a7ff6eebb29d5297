//! Reading settings through the caller's lookup. An empty value counts as
//! unset, as in the original (`if (process.env[key])`).

use secrecy::SecretString;
use url::Url;

use crate::error::Problem;

pub(crate) struct Vars<'a>(pub &'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    /// The first of `names` that is set, trimmed: for names, regions, URLs.
    pub fn text(&self, names: &[&'static str]) -> Option<String> {
        names.iter().find_map(|name| {
            let value = (self.0)(name)?;
            let value = value.trim();
            (!value.is_empty()).then(|| value.to_string())
        })
    }

    pub fn require_text(&self, names: &[&'static str]) -> Result<String, Problem> {
        self.text(names)
            .ok_or_else(|| Problem::MissingSetting(names.to_vec()))
    }

    /// The first of `names` that is set, as given: a password may well end
    /// in a space.
    pub fn secret(&self, names: &[&'static str]) -> Option<SecretString> {
        names.iter().find_map(|name| {
            let value = (self.0)(name)?;
            (!value.is_empty()).then(|| SecretString::from(value))
        })
    }

    pub fn require_secret(&self, names: &[&'static str]) -> Result<SecretString, Problem> {
        self.secret(names)
            .ok_or_else(|| Problem::MissingSetting(names.to_vec()))
    }

    /// An http(s) URL from the first of `names`, else `default`.
    pub fn url(&self, names: &[&'static str], default: &str) -> Result<Url, Problem> {
        match self.text(names) {
            Some(text) => http_url(names[0], &text),
            None => http_url(names[0], default),
        }
    }
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
