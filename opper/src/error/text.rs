//! How text reaches an error's message: cut at a byte bound on a character boundary
//! (`cut`, `truncate`), escaped so it stays on one line (`escape`, `Escaping`), both (`shown`);
//! a value's JSON serialized within a bound (`bounded_json`); and the `(after N attempts)` that
//! ends the message of a request that was retried.

use std::fmt;

use serde_json::Value;

/// A writer keeping at most `limit` bytes: a write past it keeps what fits and fails, which
/// stops a serializer there.
struct Bounded {
    bytes: Vec<u8>,
    limit: usize,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.limit.saturating_sub(self.bytes.len());
        if room == 0 && !buf.is_empty() {
            return Err(std::io::Error::other("the limit is reached"));
        }
        let take = buf.len().min(room);
        self.bytes
            .extend_from_slice(buf.get(..take).unwrap_or_default());
        Ok(take)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `value`'s compact JSON, serialized into a buffer of at most `limit` bytes: `Ok` with the
/// whole JSON when it fits, else `Err` with its start (cut at a character boundary). Never
/// holds more than `limit` bytes of it.
pub(crate) fn bounded_json(value: &Value, limit: usize) -> Result<String, String> {
    let mut out = Bounded {
        bytes: Vec::new(),
        limit,
    };
    let whole = serde_json::to_writer(&mut out, value).is_ok();
    let mut bytes = out.bytes;
    // serde_json writes UTF-8; a cut may fall inside a character.
    let valid = match std::str::from_utf8(&bytes) {
        Ok(_) => bytes.len(),
        Err(error) => error.valid_up_to(),
    };
    bytes.truncate(valid);
    let text = String::from_utf8(bytes).unwrap_or_default();
    if whole { Ok(text) } else { Err(text) }
}

/// ` (after 3 attempts)` after an error of a request that was retried; nothing otherwise.
pub(super) fn after(attempts: u32) -> String {
    match attempts {
        0 | 1 => String::new(),
        n => format!(" (after {n} attempts)"),
    }
}

/// `text` cut at `max` bytes and escaped (see [`escape`]).
pub(super) fn shown(text: &str, max: usize) -> Escaped<'_> {
    escape(truncate(text, max))
}

/// `text` cut at `max` bytes, at a character boundary, in place.
pub(crate) fn cut(mut text: String, max: usize) -> String {
    text.truncate(truncate(&text, max).len());
    text
}

pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    // The first character boundary at or below `max` (0 is one): at most 3 steps back.
    let end = (0..=max)
        .rev()
        .find(|&end| text.is_char_boundary(end))
        .unwrap_or_default();
    text.get(..end).unwrap_or_default()
}

/// Whether `c` is escaped where server text reaches a message or a log line: C0 and C1 control
/// characters (newline, carriage return, escape, ...), DEL, and the Unicode line and paragraph
/// separators.
fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// Writes `text` with every character [`needs_escape`] picks escaped as Rust does (`\n`,
/// `\r`, `\t`, `\u{1b}`), so the text stays on one line and cannot forge another.
fn write_escaped(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    let mut rest = text;
    while let Some(at) = rest.find(needs_escape) {
        let (plain, tail) = rest.split_at(at);
        out.write_str(plain)?;
        let mut chars = tail.chars();
        if let Some(c) = chars.next() {
            for e in c.escape_default() {
                out.write_char(e)?;
            }
        }
        rest = chars.as_str();
    }
    out.write_str(rest)
}

/// `text` to show in a message or a log line: control characters escaped (see
/// [`needs_escape`]).
pub(crate) fn escape(text: &str) -> Escaped<'_> {
    Escaped(text)
}

/// See [`escape`].
pub(crate) struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0)
    }
}

/// A formatter that escapes what is written through it (see [`escape`]).
pub(super) struct Escaping<'a, 'b>(pub(super) &'a mut fmt::Formatter<'b>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        write_escaped(self.0, text)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn escape_keeps_text_on_one_line() {
        let text = "a\nb\rc\u{1b}[31md\u{7f}e\u{85}f\u{2028}g\u{2029}h\ti é";
        assert_eq!(
            escape(text).to_string(),
            "a\\nb\\rc\\u{1b}[31md\\u{7f}e\\u{85}f\\u{2028}g\\u{2029}h\\ti é"
        );
        assert_eq!(escape("plain").to_string(), "plain");
    }

    #[test]
    fn bounded_json_stops_at_the_limit_on_a_character_boundary() {
        assert_eq!(
            bounded_json(&json!({"a": 1}), 7),
            Ok("{\"a\":1}".to_owned())
        );
        assert_eq!(
            bounded_json(&json!({"a": 1}), 6),
            Err("{\"a\":1".to_owned())
        );
        // `"é` is 3 bytes: a limit of 2 falls inside the `é`.
        assert_eq!(bounded_json(&json!("é"), 2), Err("\"".to_owned()));
    }
}
