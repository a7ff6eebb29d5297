//! The `x-ttm-kms-latest-version: <semver>;<LEVEL>;<message>` header, by
//! which the API tells old clients to update.

/// A parsed header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionNotice {
    /// The latest version, lower-cased.
    pub latest: String,
    /// `ERROR`, `WARN`, `INFO`... as sent, upper-cased.
    pub level: String,
    /// The text to show the user; empty if none was sent.
    pub message: String,
}

impl VersionNotice {
    /// `None` for a header without a version.
    pub fn parse(header: &str) -> Option<VersionNotice> {
        let mut parts = header.splitn(3, ';').map(str::trim);
        let latest = parts.next().filter(|v| !v.is_empty())?.to_lowercase();
        let level = parts.next().unwrap_or("WARN").to_uppercase();
        let message = parts.next().unwrap_or_default().to_string();
        Some(VersionNotice {
            latest,
            level,
            message,
        })
    }
}

/// Which of the API's notices to show: each version newer than ours once,
/// and then only a still newer one. The API repeats the header on every
/// answer (every few seconds); the original logged it every 30 s for as long
/// as the daemon ran, which buried everything else in the log.
#[derive(Clone, Debug, Default)]
pub struct VersionNoticeLog {
    /// The newest version already shown.
    shown: Option<String>,
}

impl VersionNoticeLog {
    /// True when `notice` should be shown now to a client at version `ours`
    /// (and remembers it, so the same version is not shown again).
    pub fn should_show(&mut self, notice: &VersionNotice, ours: &str) -> bool {
        let already_shown = self
            .shown
            .as_deref()
            .is_some_and(|shown| !is_newer(&notice.latest, shown));
        if !is_newer(&notice.latest, ours) || already_shown {
            return false;
        }
        self.shown = Some(notice.latest.clone());
        true
    }
}

/// `latest > current` by semantic version precedence (numeric core; a
/// pre-release sorts before its release). Unparsable versions are never newer.
pub fn is_newer(latest: &str, current: &str) -> bool {
    match (parse(latest), parse(current)) {
        (Some(a), Some(b)) => a > b,
        _ => false,
    }
}

/// (major, minor, patch, is_release, pre-release text): tuple order is precedence
/// except between two pre-releases, compared as text (close enough for a notice).
fn parse(v: &str) -> Option<(u64, u64, u64, bool, String)> {
    let v = v.trim().trim_start_matches('v');
    let v = v.split('+').next()?;
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, p.to_string()),
        None => (v, String::new()),
    };
    let mut nums = core.split('.').map(|n| n.parse::<u64>().ok());
    let major = nums.next()??;
    let minor = nums.next().unwrap_or(Some(0))?;
    let patch = nums.next().unwrap_or(Some(0))?;
    Some((major, minor, patch, pre.is_empty(), pre))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_by_semver() {
        assert!(is_newer("8.1.0", "8.0.9"));
        assert!(is_newer("10.0.0", "9.9.9"));
        assert!(!is_newer("8.0.0", "8.0.0"));
        assert!(!is_newer("7.9.0", "8.0.0"));
        assert!(is_newer("8.0.0", "8.0.0-rc.1"));
        assert!(!is_newer("garbage", "1.0.0"));
    }

    #[test]
    fn each_newer_version_is_shown_once() {
        let notice = |v: &str| VersionNotice::parse(&format!("{v};WARN;Please update")).unwrap();
        let mut log = VersionNoticeLog::default();
        assert!(
            !log.should_show(&notice("9.0.0"), "9.0.0"),
            "our own version"
        );
        assert!(!log.should_show(&notice("8.0.1"), "9.0.0"), "an older one");
        assert!(log.should_show(&notice("9.1.0"), "9.0.0"));
        assert!(
            !log.should_show(&notice("9.1.0"), "9.0.0"),
            "the same, again"
        );
        assert!(
            !log.should_show(&notice("9.0.5"), "9.0.0"),
            "older than shown"
        );
        assert!(log.should_show(&notice("9.2.0"), "9.0.0"), "a newer one");
        assert!(!log.should_show(&notice("9.2.0"), "9.0.0"));
    }

    #[test]
    fn header_parts() {
        let n = VersionNotice::parse("9.0.1; error ;Please update now").unwrap();
        assert_eq!(n.latest, "9.0.1");
        assert_eq!(n.level, "ERROR");
        assert_eq!(n.message, "Please update now");
        assert!(VersionNotice::parse(" ;WARN;x").is_none());
    }
}
