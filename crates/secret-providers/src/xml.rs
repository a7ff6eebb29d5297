//! Just enough XML to read the few elements AWS answers carry: STS's
//! `Credentials` (`AccessKeyId`, `SecretAccessKey`, `SessionToken`,
//! `Expiration`) and an error's `Code` and `Message`. These answers are
//! flat, unprefixed, without DTDs or repeated names, so finding an element by
//! its tags is exact for them; a full parser would add a dependency for four
//! leaves. What does not fit this shape is refused, not guessed at.

/// The raw content of the first `<name>` element (attributes allowed;
/// `<name/>` is empty), or `None` when there is none.
pub(crate) fn element<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut from = 0;
    while let Some(at) = body[from..].find(&open) {
        let after = from + at + open.len();
        let rest = &body[after..];
        // `<Code>` or `<Code xmlns="…">`, not `<CodeName>`.
        match rest.chars().next() {
            Some('>') => {
                let start = after + 1;
                let end = start + body[start..].find(&close)?;
                return Some(&body[start..end]);
            }
            Some(c) if c.is_whitespace() || c == '/' => {
                let tag_end = after + rest.find('>')?;
                if body[..tag_end].ends_with('/') {
                    return Some("");
                }
                let start = tag_end + 1;
                let end = start + body[start..].find(&close)?;
                return Some(&body[start..end]);
            }
            _ => from = after,
        }
    }
    None
}

/// A leaf's text: entities and character references decoded, a CDATA
/// section taken as is, surrounding whitespace trimmed. Markup inside a
/// leaf is an error, as is an unknown entity.
pub(crate) fn unescape(raw: &str) -> Result<String, &'static str> {
    let raw = raw.trim();
    if let Some(inner) = raw
        .strip_prefix("<![CDATA[")
        .and_then(|r| r.strip_suffix("]]>"))
    {
        return Ok(inner.to_string());
    }
    if raw.contains('<') {
        return Err("markup where text was expected");
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').ok_or("an unterminated entity")?;
        let entity = &rest[at + 1..at + end];
        let decoded = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(decimal) = entity.strip_prefix('#') {
                    decimal.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32).ok_or("an unknown entity")?
            }
        };
        out.push(decoded);
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The decoded text of `<name>` inside `body`.
pub(crate) fn leaf(body: &str, name: &str) -> Option<Result<String, &'static str>> {
    element(body, name).map(unescape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_elements_by_exact_name() {
        let body = r#"<R xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><CodeName>no</CodeName>
            <Code lang="en">Yes</Code><Empty/><Spaced>
              a b
            </Spaced></R>"#;
        assert_eq!(element(body, "Code"), Some("Yes"));
        assert_eq!(element(body, "CodeName"), Some("no"));
        assert_eq!(element(body, "Empty"), Some(""));
        assert_eq!(leaf(body, "Spaced"), Some(Ok("a b".to_string())));
        assert_eq!(element(body, "Missing"), None);
        assert_eq!(element("<Open>never closed", "Open"), None);
    }

    #[test]
    fn decodes_text() {
        assert_eq!(
            unescape("a&amp;b &lt;&gt;&quot;&apos; &#65;&#x42;&#X43;").unwrap(),
            "a&b <>\"' ABC"
        );
        assert_eq!(unescape("<![CDATA[x<&y]]>").unwrap(), "x<&y");
        assert_eq!(unescape("a<b/>"), Err("markup where text was expected"));
        assert_eq!(unescape("&nbsp;"), Err("an unknown entity"));
        assert_eq!(unescape("&amp"), Err("an unterminated entity"));
        assert_eq!(unescape("&#xD800;"), Err("an unknown entity"));
    }
}
