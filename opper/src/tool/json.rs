//! A tool's output as the text the model reads: JSON written as Python's `json.dumps` writes it
//! (the official client's `to_json_str`: `", "` and `": "` separators, non-ASCII as `\uXXXX`),
//! bounded; an error as `{"error": "<message>"}`.

use std::fmt::Write as _;
use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

/// The most bytes of a tool's output kept and sent back to the model: 64 KiB. A longer output
/// is not cut (cut JSON means nothing): the model gets an error saying so.
pub(crate) const MAX_OUTPUT_BYTES: usize = 64 * 1024;

/// The most bytes of a tool error's message kept and sent back: 4 KiB, cut at a character
/// boundary.
pub(crate) const MAX_ERROR_BYTES: usize = 4 * 1024;

/// Python's `json.dumps` layout: `", "` between items, `": "` after keys, and every character
/// outside ASCII escaped as `\uXXXX` (UTF-16 code units).
struct Python;

impl Formatter for Python {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(|c: char| !c.is_ascii()) {
            let (ascii, tail) = rest.split_at(at);
            w.write_all(ascii.as_bytes())?;
            let mut chars = tail.chars();
            if let Some(c) = chars.next() {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(w, "\\u{unit:04x}")?;
                }
            }
            rest = chars.as_str();
        }
        w.write_all(rest.as_bytes())
    }
}

/// A writer that takes at most `limit` bytes and fails past them.
struct Bounded {
    bytes: Vec<u8>,
    limit: usize,
}

impl io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len().saturating_add(buf.len()) > self.limit {
            return Err(io::Error::other("the limit is reached"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `value` as the model reads a tool's output: Python's `json.dumps` text, at most
/// [`MAX_OUTPUT_BYTES`]; `Err` with the message the model gets instead when it is longer or
/// cannot be serialized.
pub(crate) fn output<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
    let mut out = Bounded {
        bytes: Vec::new(),
        limit: MAX_OUTPUT_BYTES,
    };
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, Python);
    match value.serialize(&mut serializer) {
        // serde_json writes UTF-8 (here, ASCII).
        Ok(()) => Ok(String::from_utf8(out.bytes).unwrap_or_default()),
        Err(error) if error.is_io() => Err(format!(
            "the tool's output is longer than {MAX_OUTPUT_BYTES} bytes"
        )),
        Err(error) => Err(format!(
            "the tool's output could not be serialized: {error}"
        )),
    }
}

/// The message of a tool's error: its `Display`, at most [`MAX_ERROR_BYTES`] of it.
pub(crate) fn message(error: &dyn std::fmt::Display) -> String {
    struct Cut {
        text: String,
    }
    impl std::fmt::Write for Cut {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let room = MAX_ERROR_BYTES.saturating_sub(self.text.len());
            if s.len() <= room {
                self.text.push_str(s);
                return Ok(());
            }
            let end = (0..=room)
                .rev()
                .find(|&end| s.is_char_boundary(end))
                .unwrap_or(0);
            self.text.push_str(s.get(..end).unwrap_or_default());
            Err(std::fmt::Error)
        }
    }
    let mut cut = Cut {
        text: String::new(),
    };
    let _ = write!(cut, "{error}");
    cut.text
}

/// What the model reads for a failed call: `{"error": "<message>"}`, as the official client
/// writes it.
pub(crate) fn error_output(message: &str) -> String {
    #[derive(Serialize)]
    struct ErrorOutput<'a> {
        error: &'a str,
    }
    // A message is at most `MAX_ERROR_BYTES`, escaped at most 6 bytes a byte: within bounds
    // of what is sent, and never an error.
    let mut out = Vec::with_capacity(message.len().saturating_add(16));
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, Python);
    let _ = (ErrorOutput { error: message }).serialize(&mut serializer);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn outputs_read_as_python_json_dumps() {
        let value = json!({"city": "Paris", "temperature_c": 21, "tags": ["a", "b"], "é": "🌧"});
        assert_eq!(
            output(&value).unwrap(),
            r#"{"city": "Paris", "temperature_c": 21, "tags": ["a", "b"], "\u00e9": "\ud83c\udf27"}"#
        );
        assert_eq!(output(&5).unwrap(), "5");
        assert_eq!(output("sunny").unwrap(), r#""sunny""#);
        assert_eq!(
            error_output("Tool \"x\" not found"),
            r#"{"error": "Tool \"x\" not found"}"#
        );
    }

    #[test]
    fn outputs_and_messages_are_bounded() {
        let long = "x".repeat(MAX_OUTPUT_BYTES);
        assert!(
            output(&long)
                .unwrap_err()
                .contains("longer than 65536 bytes")
        );
        let message = message(&"é".repeat(MAX_ERROR_BYTES));
        assert_eq!(message.len(), MAX_ERROR_BYTES);
    }
}
