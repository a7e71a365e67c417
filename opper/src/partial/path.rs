//! `json_path` strings: `response.people[0].name`, `people[0]["odd.key"]`, `response[2]`.

use std::borrow::Cow;
use std::fmt;

use crate::jsontext::limits::MAX_DEPTH;

/// One step of a parsed `json_path`.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg<'a> {
    /// An object key: `.name` or `["name"]`.
    Key(Cow<'a, str>),
    /// An array index: `[0]`.
    Index(usize),
}

impl Seg<'_> {
    /// The same segment, owning its key.
    pub(crate) fn into_owned(self) -> Seg<'static> {
        match self {
            Seg::Key(key) => Seg::Key(Cow::Owned(key.into_owned())),
            Seg::Index(index) => Seg::Index(index),
        }
    }
}

impl fmt::Display for Seg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seg::Key(key) => write!(f, ".{key}"),
            Seg::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// Writes a parsed path back as text, `people[0].name` style (for messages).
pub(crate) fn display(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(key) if out.is_empty() => out.push_str(key),
            seg => out.push_str(&seg.to_string()),
        }
    }
    out
}

/// A path as quoted in messages: its first 200 bytes, so an error stays small whatever was sent.
pub(crate) fn shorten(path: &str) -> std::borrow::Cow<'_, str> {
    let short = crate::error::truncate(path, 200);
    if short.len() == path.len() {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(format!("{short}… ({} bytes)", path.len()))
    }
}

/// [`parse_each`] into a vector: for the tests and the fuzz targets.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn parse(path: &str) -> Result<Vec<Seg<'_>>, String> {
    parse_with_ends(path).map(|(segs, _)| segs)
}

/// [`parse_each`] into vectors: the segments, and where each one ends.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn parse_with_ends(path: &str) -> Result<(Vec<Seg<'_>>, Vec<usize>), String> {
    let mut segs = Vec::with_capacity(4);
    let mut ends = Vec::with_capacity(4);
    parse_each(path, |seg, end| {
        segs.push(seg);
        ends.push(end);
    })?;
    Ok((segs, ends))
}

/// Parses a `json_path`, handing each segment in order to `each` with the byte offset in `path`
/// where it ends (so a caller may keep them wherever it likes, reusing its buffers).
///
/// Grammar: keys separated by `.`, indexes as `[digits]`, and keys that contain `.` or `[` as
/// `["..."]` or `['...']` (with `\` escaping the quote or itself). A leading `$` (JSONPath root)
/// is accepted and dropped. The empty path is the root. A path of more than
/// [`MAX_DEPTH`] + 1 segments (the `+ 1` for a `response` prefix) is refused as soon as it is
/// seen, so a long path costs no more than that.
pub(crate) fn parse_each<'p>(
    path: &'p str,
    mut each: impl FnMut(Seg<'p>, usize),
) -> Result<(), String> {
    if path == "$" {
        return Ok(());
    }
    // What is left to parse, always a suffix of `path`; `at` is where it starts in `path`.
    let mut rest = path
        .strip_prefix("$.")
        .or_else(|| path.strip_prefix('$').filter(|rest| rest.starts_with('[')))
        .unwrap_or(path);
    let at = |rest: &str| path.len().saturating_sub(rest.len());
    let bad = |at: usize, what: &str| {
        format!("invalid json_path `{}` at byte {at}: {what}", shorten(path))
    };
    let mut count = 0usize;
    let mut expect_key = !rest.is_empty();
    while let Some(&first) = rest.as_bytes().first() {
        let seg = if first == b'[' {
            rest = rest.get(1..).unwrap_or("");
            expect_key = false;
            if let Some(&quote @ (b'"' | b'\'')) = rest.as_bytes().first() {
                let (key, after) = quoted_key(rest.get(1..).unwrap_or(""), char::from(quote))
                    .map_err(|rest| bad(at(rest), "unterminated quoted key"))?;
                rest = after
                    .strip_prefix(']')
                    .ok_or_else(|| bad(at(after), "expected `]` after a quoted key"))?;
                Some(Seg::Key(key))
            } else {
                let start = at(rest);
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                // ASCII digits end on a character boundary.
                let (digits, after) = rest.split_at_checked(digits).unwrap_or(("", rest));
                let after = after
                    .strip_prefix(']')
                    .filter(|_| !digits.is_empty())
                    .ok_or_else(|| bad(start, "expected an index `[digits]`"))?;
                let index = digits
                    .parse::<usize>()
                    .map_err(|_| bad(start, "index out of range"))?;
                rest = after;
                Some(Seg::Index(index))
            }
        } else if first == b'.' {
            if expect_key {
                return Err(bad(at(rest), "empty key"));
            }
            rest = rest.get(1..).unwrap_or("");
            expect_key = true;
            if rest.is_empty() {
                return Err(bad(path.len(), "empty key at the end"));
            }
            None
        } else {
            if !expect_key {
                return Err(bad(at(rest), "expected `.` or `[`"));
            }
            // Keys are short: a plain scan beats memchr's setup.
            let end = rest
                .bytes()
                .position(|b| b == b'.' || b == b'[')
                .unwrap_or(rest.len());
            // `.` and `[` are ASCII: `end` is a character boundary.
            let (key, after) = rest.split_at_checked(end).unwrap_or((rest, ""));
            rest = after;
            expect_key = false;
            Some(Seg::Key(Cow::Borrowed(key)))
        };
        if let Some(seg) = seg {
            count = count.saturating_add(1);
            if count > MAX_DEPTH.saturating_add(1) {
                return Err(format!(
                    "json_path `{}` has more than {MAX_DEPTH} segments, the maximum depth",
                    shorten(path)
                ));
            }
            each(seg, at(rest));
        }
        if expect_key && rest.starts_with('[') {
            // `a.[0]` is not a path.
            return Err(bad(at(rest), "empty key"));
        }
    }
    Ok(())
}

/// The key of a quoted segment, `body` being what follows its opening `quote`: `\` takes the
/// next character as it is. Returns the key and what follows the closing quote, or, when the
/// key is not closed, the rest of `body` where that was found (to say where).
fn quoted_key(body: &str, quote: char) -> Result<(Cow<'_, str>, &str), &str> {
    // The key with its escapes undone, once there is one.
    let mut owned: Option<String> = None;
    let mut chars = body.char_indices();
    while let Some((at, c)) = chars.next() {
        if c == quote {
            let key = match owned {
                Some(key) => Cow::Owned(key),
                // `at` is where a character starts: a boundary.
                None => Cow::Borrowed(body.get(..at).unwrap_or(body)),
            };
            return Ok((key, chars.as_str()));
        }
        if c == '\\' {
            let buf = owned.get_or_insert_with(|| body.get(..at).unwrap_or(body).to_owned());
            match chars.next() {
                Some((_, escaped)) => buf.push(escaped),
                None => return Err(body.get(at..).unwrap_or("")),
            }
        } else if let Some(buf) = owned.as_mut() {
            buf.push(c);
        }
    }
    Err("")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(k: &str) -> Seg<'_> {
        Seg::Key(Cow::Borrowed(k))
    }

    #[test]
    fn parses_the_documented_shapes() {
        assert_eq!(
            parse("response.people[0].name").unwrap(),
            vec![key("response"), key("people"), Seg::Index(0), key("name")]
        );
        assert_eq!(
            parse("people[12].name").unwrap(),
            vec![key("people"), Seg::Index(12), key("name")]
        );
        assert_eq!(
            parse("response[2]").unwrap(),
            vec![key("response"), Seg::Index(2)]
        );
        assert_eq!(parse("[2][3]").unwrap(), vec![Seg::Index(2), Seg::Index(3)]);
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(parse("$").unwrap(), vec![]);
        assert_eq!(parse("$.a").unwrap(), vec![key("a")]);
        assert_eq!(parse("$[1]").unwrap(), vec![Seg::Index(1)]);
        assert_eq!(
            parse("naïve.ключ").unwrap(),
            vec![key("naïve"), key("ключ")]
        );
    }

    #[test]
    fn parses_quoted_keys() {
        assert_eq!(
            parse(r#"m["a.b"]['c[d]'].e"#).unwrap(),
            vec![key("m"), key("a.b"), key("c[d]"), key("e")]
        );
        assert_eq!(
            parse(r#"m["q\"uo\\te"]"#).unwrap(),
            vec![key("m"), Seg::Key(Cow::Owned("q\"uo\\te".into()))]
        );
        assert_eq!(parse(r#"["é\"x"]"#).unwrap(), vec![Seg::Key("é\"x".into())]);
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in [
            "a..b",
            ".a",
            "a.",
            "a[",
            "a[]",
            "a[x]",
            "a[1",
            "a[1]b",
            r#"a["x"#,
            r#"a["x"x]"#,
            "a.[0]",
            "a[99999999999999999999999999]",
            r#"a["\"#,
        ] {
            assert!(parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn deep_and_long_paths_are_refused_early_with_a_short_message() {
        let deep = format!("response{}", "[0]".repeat(MAX_DEPTH));
        assert_eq!(parse(&deep).unwrap().len(), MAX_DEPTH + 1);
        let deeper = format!("response{}", "[0]".repeat(10_000));
        let error = parse(&deeper).unwrap_err();
        assert!(error.contains("more than 128 segments"), "{error}");
        assert!(error.len() < 400, "{error}");
        let long = format!("a{}.", "b".repeat(100_000));
        assert!(parse(&long).unwrap_err().len() < 400);
    }

    #[test]
    fn segments_end_where_the_text_says() {
        let path = r#"response.people[10]["a.b"].name"#;
        let (segs, ends) = parse_with_ends(path).unwrap();
        assert_eq!(segs.len(), ends.len());
        let prefixes: Vec<&str> = ends.iter().map(|&end| &path[..end]).collect();
        assert_eq!(
            prefixes,
            [
                "response",
                "response.people",
                "response.people[10]",
                r#"response.people[10]["a.b"]"#,
                path
            ]
        );
    }

    #[test]
    fn displays_paths() {
        let path = parse("people[0].name").unwrap();
        assert_eq!(display(&path), "people[0].name");
        assert_eq!(display(&parse("[1].a").unwrap()), "[1].a");
    }
}
