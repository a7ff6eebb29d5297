//! The shared AWS config and credentials files (`~/.aws/config`,
//! `~/.aws/credentials`), as the AWS SDKs read them: INI sections, `[name]`
//! in the credentials file and `[profile name]` (or `[default]`) in the
//! config file; `key = value` lines, keys in any case; full-line `#` and `;`
//! comments, and inline ones after whitespace; indented lines continue the
//! previous key (nested settings such as `s3 =`), which is skipped. Only the
//! chosen profile is kept; the credentials file wins over the config file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::Problem;
use crate::files::read_config_file;
use crate::vars::Vars;

/// One profile's settings, merged from both files. Values may be keys:
/// wiped when dropped.
pub(crate) struct Profile {
    pub name: String,
    settings: HashMap<String, Zeroizing<String>>,
    /// The files that defined it, for messages.
    pub files: Vec<PathBuf>,
}

impl Profile {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.settings
            .get(key)
            .map(|v| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Where it was read from, for messages: `profile `x` in /a, /b`.
    pub(crate) fn origin(&self) -> String {
        let files: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        format!("profile `{}` in {}", self.name, files.join(", "))
    }
}

/// The profile `AWS_PROFILE` names, else `default`. `None` when neither
/// file defines it, which is an error only when `AWS_PROFILE` asked for it.
pub(crate) fn load(vars: &Vars<'_>) -> Result<Option<Profile>, Problem> {
    let explicit = vars.text(&["AWS_PROFILE"]);
    let name = explicit.clone().unwrap_or_else(|| "default".to_string());
    let home = vars.text(&["HOME", "USERPROFILE"]);
    let config = file_path(vars, "AWS_CONFIG_FILE", ".aws/config", home.as_deref());
    let credentials = file_path(
        vars,
        "AWS_SHARED_CREDENTIALS_FILE",
        ".aws/credentials",
        home.as_deref(),
    );
    let mut profile = Profile {
        name,
        settings: HashMap::new(),
        files: Vec::new(),
    };
    // The config file first: the credentials file overrides it.
    for (path, kind) in [(config, Kind::Config), (credentials, Kind::Credentials)] {
        let Some(path) = path else { continue };
        let Some(text) = read_config_file(&path, kind.what())? else {
            continue;
        };
        if parse(&text, &path, kind, &profile.name, &mut profile.settings)? {
            profile.files.push(path);
        }
    }
    if !profile.files.is_empty() {
        return Ok(Some(profile));
    }
    match explicit {
        Some(name) => Err(Problem::InvalidSetting {
            name: "AWS_PROFILE",
            reason: format!("no profile `{name}` in the shared config or credentials file"),
        }),
        None => Ok(None),
    }
}

/// The file a variable names (`~/` is the lookup's home), else the default
/// under the home; `None` when there is no home to put it under.
fn file_path(
    vars: &Vars<'_>,
    variable: &'static str,
    default: &str,
    home: Option<&str>,
) -> Option<PathBuf> {
    match vars.text(&[variable]) {
        Some(text) => match text.strip_prefix("~/").or(text.strip_prefix("~\\")) {
            Some(rest) => home.map(|h| Path::new(h).join(rest)),
            None if text == "~" => home.map(PathBuf::from),
            None => Some(PathBuf::from(text)),
        },
        None => home.map(|h| Path::new(h).join(default)),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Config,
    Credentials,
}

impl Kind {
    fn what(self) -> &'static str {
        match self {
            Self::Config => "the shared AWS config file",
            Self::Credentials => "the shared AWS credentials file",
        }
    }

    /// The profile a section header names, if it names one.
    fn profile(self, header: &str) -> Option<&str> {
        match self {
            Self::Credentials => Some(header),
            Self::Config if header == "default" => Some(header),
            Self::Config => {
                let rest = header.strip_prefix("profile")?;
                rest.starts_with(char::is_whitespace).then(|| rest.trim())
            }
        }
    }
}

/// Adds the settings of section `wanted` to `into`; true if the file has
/// that section. Malformed lines are errors naming the file and line (never
/// quoting it: it may hold a key).
fn parse(
    text: &str,
    path: &Path,
    kind: Kind,
    wanted: &str,
    into: &mut HashMap<String, Zeroizing<String>>,
) -> Result<bool, Problem> {
    let malformed = |line: usize, reason: &str| Problem::File {
        what: kind.what().to_string(),
        path: path.to_path_buf(),
        reason: format!("line {line}: {reason}"),
    };
    let mut found = false;
    let mut section: Option<bool> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if raw.starts_with(char::is_whitespace) {
            // A nested setting or continuation of the previous key.
            if section.is_none() {
                return Err(malformed(number, "an indented line outside any [section]"));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let header = strip_comment(rest)
                .strip_suffix(']')
                .ok_or_else(|| malformed(number, "a section header without `]`"))?
                .trim();
            let is_wanted = kind.profile(header) == Some(wanted);
            found |= is_wanted;
            section = Some(is_wanted);
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(malformed(number, "expected `key = value`"));
        };
        let Some(in_wanted) = section else {
            return Err(malformed(number, "a setting outside any [section]"));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(malformed(number, "a setting without a name"));
        }
        if in_wanted {
            let value = strip_comment(value).trim();
            into.insert(key.to_ascii_lowercase(), Zeroizing::new(value.to_string()));
        }
    }
    Ok(found)
}

/// The text before an inline `#` or `;` comment, which must follow
/// whitespace (`a#b` is a value).
fn strip_comment(text: &str) -> &str {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if (b == b'#' || b == b';') && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            return &text[..i];
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str, kind: Kind, wanted: &str) -> Result<Vec<(String, String)>, Problem> {
        let mut into = HashMap::new();
        parse(text, Path::new("/x"), kind, wanted, &mut into)?;
        let mut all: Vec<(String, String)> =
            into.into_iter().map(|(k, v)| (k, v.to_string())).collect();
        all.sort();
        Ok(all)
    }

    #[test]
    fn reads_the_wanted_section_only() {
        let text = "\
# a comment
; another
[default]
region = eu-west-1
[profile dev]
Region=us-east-1 # inline comment
aws_access_key_id = AKIADEV
s3 =
  max_concurrent_requests = 10
role_arn=arn:aws:iam::1:role/a#b
[sso-session dev]
sso_region = x
[dev]
region = not-from-config
";
        assert_eq!(
            settings(text, Kind::Config, "dev").unwrap(),
            vec![
                ("aws_access_key_id".into(), "AKIADEV".into()),
                ("region".into(), "us-east-1".into()),
                ("role_arn".into(), "arn:aws:iam::1:role/a#b".into()),
                ("s3".into(), "".into()),
            ]
        );
        assert_eq!(
            settings(text, Kind::Config, "default").unwrap(),
            vec![("region".into(), "eu-west-1".into())]
        );
        // In the credentials file a section is the bare name.
        assert_eq!(
            settings(text, Kind::Credentials, "dev").unwrap(),
            vec![("region".into(), "not-from-config".into())]
        );
    }

    #[test]
    fn malformed_lines_name_the_line_not_the_text() {
        for (text, reason) in [
            (
                "[default]\naws_secret_access_key SECRETVALUE\n",
                "line 2: expected `key = value`",
            ),
            ("region = x\n", "line 1: a setting outside any [section]"),
            ("[default\n", "line 1: a section header without `]`"),
            ("[default]\n= v\n", "line 2: a setting without a name"),
        ] {
            let err = settings(text, Kind::Credentials, "default").unwrap_err();
            assert!(
                matches!(&err, Problem::File { reason: r, .. } if r == reason),
                "{err}"
            );
            assert!(!err.to_string().contains("SECRETVALUE"));
        }
    }
}
