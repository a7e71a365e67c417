//! The chunks of a v2 stream (`/v2/call/stream`): each event's `data` is one
//! [`StreamingChunk`], decoded into the crate's frames (a span id, a delta at a `json_path`)
//! or, for an error chunk, into [`Error::StreamChunk`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::error::Result;
use crate::error::truncate;
use crate::protocol::check::{Json, Text};
use crate::protocol::frame::{Decoded, Frame, carries_data};

/// The frame an event's `data` carries; `Ok(None)` for events that carry nothing (empty data,
/// keep-alives, a `[DONE]` marker, a chunk with neither a delta nor a span id). `at_eof`: the
/// event was cut off by the end of the body. An error chunk is [`Error::StreamChunk`].
///
/// Allocates no more than the chunk's own strings and delta, which move into the frame.
pub(crate) fn decode(data: &str, at_eof: bool) -> Result<Option<Decoded>> {
    if !carries_data(data) {
        return Ok(None);
    }
    // The common event is a bare object: nothing to trim.
    let data = if data.starts_with('{') && data.ends_with('}') {
        data
    } else {
        data.trim()
    };
    // Read in place (a chunk is large: it is moved as little as possible).
    let mut chunk = StreamingChunk::default();
    if read_flat(data, &mut chunk).is_none() {
        chunk = match serde_json::from_str::<StreamingChunk>(data) {
            Ok(chunk) => chunk,
            Err(_) if at_eof => {
                return Err(Error::cut_inside_an_event());
            }
            Err(error) => {
                return Err(Error::InvalidChunk {
                    data: truncate(data, 500).to_owned(),
                    reason: format!("not a JSON chunk: {error}"),
                    partial: Value::Null,
                });
            }
        };
    }
    chunk.into_decoded()
}

/// The span id an event's data carries.
pub(crate) fn span_id_of(data: &str) -> Option<String> {
    serde_json::from_str::<StreamingChunk>(data)
        .ok()
        .and_then(|chunk| chunk.span_id)
}

/// Reads the chunk of the common event into `chunk` (a default one), from borrowed text: a
/// flat object of known fields, each once, whose values are strings without escapes, integers
/// of at most 19 digits, `true`, `false` or `null`. `None` for any other text (escapes, other
/// numbers, arrays, objects, unknown or repeated keys, invalid JSON), which serde then reads:
/// whatever this accepts, serde reads as the same chunk, and only what the chunk keeps is
/// copied.
fn read_flat(data: &str, chunk: &mut StreamingChunk) -> Option<()> {
    let mut text = Flat { rest: data };
    // Which fields were read: a repeated one is an error, serde's to report.
    let mut seen = 0u8;
    text.eat(b'{')?;
    if text.eat(b'}').is_none() {
        loop {
            let key = text.string()?;
            text.eat(b':')?;
            let value = text.value()?;
            let (bit, slot) = match key {
                "delta" => (1, None),
                "json_path" => (2, Some(&mut chunk.json_path)),
                "chunk_type" => (4, None),
                "span_id" => (8, Some(&mut chunk.span_id)),
                "error_type" => (16, Some(&mut chunk.error_type)),
                "error_message" => (32, Some(&mut chunk.error_message)),
                // An unknown key: serde skips its value, whatever it is.
                _ => return None,
            };
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            match (slot, value) {
                // Every field is optional: `null` is `None`.
                (_, Scalar::Null) => {}
                (Some(slot), Scalar::Text(text)) => *slot = Some(text.to_owned()),
                // A text field given a number or a boolean: an error.
                (Some(_), _) => return None,
                (None, Scalar::Text(kind)) if bit == 4 => {
                    chunk.chunk_type = Some(match kind {
                        "text" => ChunkType::Text,
                        "json" => ChunkType::Json,
                        "error" => ChunkType::Error,
                        _ => ChunkType::Other,
                    });
                }
                (None, _) if bit == 4 => return None,
                (None, Scalar::Text(delta)) => chunk.delta = Some(Value::from(delta)),
                (None, Scalar::Int(delta)) => chunk.delta = Some(Value::from(delta)),
                (None, Scalar::Bool(delta)) => chunk.delta = Some(Value::from(delta)),
            }
            if text.eat(b'}').is_some() {
                break;
            }
            text.eat(b',')?;
        }
    }
    skip_space(text.rest).is_empty().then_some(())
}

/// `text` without its leading JSON whitespace.
fn skip_space(text: &str) -> &str {
    match text.as_bytes().first() {
        Some(b' ' | b'\t' | b'\n' | b'\r') => text.trim_start_matches([' ', '\t', '\n', '\r']),
        _ => text,
    }
}

/// Where the first `"`, `\` or control character of `bytes` is: eight bytes at a time while
/// none is among them (a string's text is mostly plain), then byte by byte.
fn string_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const QUOTES: u64 = 0x2222_2222_2222_2222;
    const BACKSLASHES: u64 = 0x5C5C_5C5C_5C5C_5C5C;
    const SPACES: u64 = 0x2020_2020_2020_2020;
    // Whether a byte of `word` is below the byte `n` repeats (for `n` up to 0x80, exactly).
    let below = |word: u64, n: u64| word.wrapping_sub(n) & !word & HIGHS != 0;
    let mut plain = 0usize;
    for word in bytes.chunks_exact(8) {
        let word = u64::from_le_bytes(word.try_into().ok()?);
        if below(word ^ QUOTES, ONES) || below(word ^ BACKSLASHES, ONES) || below(word, SPACES) {
            break;
        }
        plain = plain.saturating_add(8);
    }
    let at = bytes
        .get(plain..)?
        .iter()
        .position(|b| matches!(b, b'"' | b'\\' | 0..=0x1f))?;
    Some(plain.saturating_add(at))
}

/// The value of a field in [`read_flat`].
enum Scalar<'a> {
    Text(&'a str),
    Int(u64),
    Bool(bool),
    Null,
}

/// What is left of the text [`read_flat`] reads.
struct Flat<'a> {
    rest: &'a str,
}

impl<'a> Flat<'a> {
    /// Skips JSON whitespace, then takes `byte` (ASCII) if it comes next.
    fn eat(&mut self, byte: u8) -> Option<()> {
        let rest = skip_space(self.rest);
        if rest.as_bytes().first() != Some(&byte) {
            return None;
        }
        // An ASCII byte is a whole character.
        self.rest = rest.get(1..)?;
        Some(())
    }

    /// A string without escapes nor control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let end = string_end(self.rest.as_bytes())?;
        // The byte found is ASCII: a character boundary.
        let (text, after) = self.rest.split_at_checked(end)?;
        // A backslash or a control character: serde's to read.
        self.rest = after.strip_prefix('"')?;
        Some(text)
    }

    /// A string, an integer of at most 19 digits (below `u64::MAX`), `true`, `false` or `null`.
    fn value(&mut self) -> Option<Scalar<'a>> {
        self.rest = skip_space(self.rest);
        let (value, rest) = match self.rest.as_bytes().first()? {
            b'"' => return self.string().map(Scalar::Text),
            b't' => (Scalar::Bool(true), self.rest.strip_prefix("true")?),
            b'f' => (Scalar::Bool(false), self.rest.strip_prefix("false")?),
            b'n' => (Scalar::Null, self.rest.strip_prefix("null")?),
            first => {
                let digits = self.rest.bytes().take_while(u8::is_ascii_digit).count();
                // `0` alone or no leading zero; nothing of a fraction or an exponent after it.
                if digits == 0 || digits > 19 || (*first == b'0' && digits > 1) {
                    return None;
                }
                // ASCII digits end on a character boundary.
                let (number, after) = self.rest.split_at_checked(digits)?;
                if after.starts_with(['.', 'e', 'E']) {
                    return None;
                }
                (Scalar::Int(number.parse().ok()?), after)
            }
        };
        self.rest = rest;
        Some(value)
    }
}

/// How a chunk is to be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ChunkType {
    /// Text mode (no output schema): `delta` is text.
    Text,
    /// Structured mode: `delta` belongs to the field at `json_path`.
    Json,
    /// The service failed: see `error_type` and `error_message`.
    Error,
    /// A type this version does not know.
    #[serde(other)]
    Other,
}

/// One event of `/v2/call/stream`. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StreamingChunk {
    /// The call's span; usually alone in the first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// The increment: text, a number or a boolean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<Value>,
    /// Which field the delta belongs to, such as `response.people[0].name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    /// `text`, `json` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_type: Option<ChunkType>,
    /// The kind of error, in an `error` chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// The error's message, in an `error` chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl StreamingChunk {
    /// Whether this is an error chunk.
    pub fn is_error(&self) -> bool {
        is_error(
            self.chunk_type.as_ref(),
            self.error_type.is_some() || self.error_message.is_some(),
        )
    }

    /// The chunk in the crate's terms, its strings and delta moved: a delta (with the span id
    /// beside it when it has one), a span id alone, or nothing; an error chunk is
    /// [`Error::StreamChunk`]. `chunk_type` says nothing more: a delta with a `json_path` is
    /// structured output, one without is text.
    fn into_decoded(self) -> Result<Option<Decoded>> {
        if self.is_error() {
            return Err(Error::stream_chunk(self.error_type, self.error_message));
        }
        Ok(match (self.delta, self.span_id) {
            (Some(value), span_id) => Some(Decoded {
                frame: Frame::Delta {
                    path: self.json_path,
                    value,
                },
                span_id,
            }),
            (None, Some(id)) => Some(Decoded::frame(Frame::SpanId(id))),
            (None, None) => None,
        })
    }
}

/// Checks a recorded event (a cache entry's frame, `data` as sent; v2 reads no event name) as
/// [`decode`] reads it, building nothing: a chunk that would not read, or an error chunk (whose
/// replay would fail), is refused.
pub(crate) fn check_recorded(data: &str) -> std::result::Result<(), String> {
    let check: ChunkCheck = serde_json::from_str(data)
        .map_err(|e| format!("it is not a cache entry: a chunk is not one: {e}"))?;
    match check.is_error() {
        true => Err("it holds an error chunk".into()),
        false => Ok(()),
    }
}

/// A chunk read as [`StreamingChunk`] reads it (the same fields, of the same JSON types, a
/// repeated field refused, others ignored), building nothing: what it accepts, a
/// `StreamingChunk` does.
#[derive(Deserialize)]
struct ChunkCheck {
    #[serde(default)]
    #[allow(dead_code)]
    span_id: Option<Text>,
    #[serde(default)]
    #[allow(dead_code)]
    delta: Option<Json>,
    #[serde(default)]
    #[allow(dead_code)]
    json_path: Option<Text>,
    #[serde(default)]
    chunk_type: Option<ChunkType>,
    #[serde(default)]
    error_type: Option<Text>,
    #[serde(default)]
    error_message: Option<Text>,
}

impl ChunkCheck {
    /// [`StreamingChunk::is_error`], on what was checked.
    fn is_error(&self) -> bool {
        is_error(
            self.chunk_type.as_ref(),
            self.error_type.is_some() || self.error_message.is_some(),
        )
    }
}

/// Whether a chunk of `chunk_type` is an error chunk: `error`, or no type and (`error_fields`)
/// an `error_type` or an `error_message`.
fn is_error(chunk_type: Option<&ChunkType>, error_fields: bool) -> bool {
    match chunk_type {
        Some(kind) => *kind == ChunkType::Error,
        None => error_fields,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The frame and span id `data` decodes into.
    fn decoded(data: &str) -> Option<(String, Option<String>)> {
        decode(data, false)
            .unwrap()
            .map(|d| (format!("{:?}", d.frame), d.span_id))
    }

    #[test]
    fn chunks_decode_into_the_crates_frames() {
        assert_eq!(
            decoded(r#"{"span_id": "s"}"#),
            Some((r#"SpanId("s")"#.into(), None))
        );
        // A span id beside a delta travels beside the frame.
        let both = decode(
            r#"{"span_id": "s", "delta": 1, "json_path": "response.n"}"#,
            false,
        );
        let both = both.unwrap().unwrap();
        assert_eq!(both.span_id(), Some("s"));
        assert!(matches!(
            both.frame,
            Frame::Delta { path: Some(p), value } if p == "response.n" && value == json!(1)
        ));
        // Text mode: a delta without a path, whatever its `chunk_type`.
        let text = decode(r#"{"delta": "Hi", "chunk_type": "text"}"#, false).unwrap();
        assert!(matches!(
            text.unwrap().frame,
            Frame::Delta { path: None, value } if value == json!("Hi")
        ));
        // Nothing to carry: no frame.
        for data in [
            r#"{}"#,
            r#"{"chunk_type": "json"}"#,
            r#"{"delta": null}"#,
            "[DONE]",
            "",
        ] {
            assert_eq!(decoded(data), None, "{data}");
        }
        assert!(matches!(
            decode(r#"{"chunk_type": "error", "error_message": "boom"}"#, false),
            Err(Error::StreamChunk { error_message: Some(m), .. }) if m == "boom"
        ));
        assert!(matches!(
            decode(r#"{"delta": "cut"#, true),
            Err(Error::Incomplete { .. })
        ));
    }

    /// What the fast path reads of `data` (`None`: it left it to serde).
    fn flat_chunk(data: &str) -> Option<StreamingChunk> {
        let mut chunk = StreamingChunk::default();
        read_flat(data, &mut chunk).map(|()| chunk)
    }

    /// What serde reads of `data`, next to what the fast path reads.
    fn both(data: &str) -> (Option<StreamingChunk>, Option<StreamingChunk>) {
        (serde_json::from_str(data).ok(), flat_chunk(data))
    }

    #[test]
    fn the_fast_path_reads_the_common_chunks_as_serde_does() {
        for data in [
            r#"{"delta": "Gra", "json_path": "response.items[12].name", "chunk_type": "json"}"#,
            r#"{"delta": 12, "json_path": "response.items[12].n", "chunk_type": "json"}"#,
            r#"{"delta": 0, "json_path": "a", "chunk_type": "json"}"#,
            r#"{"delta": true, "json_path": "a.b", "chunk_type": "json"}"#,
            r#"{"delta": false,"chunk_type":"text"}"#,
            "{\"delta\": \"h\u{e9}llo \u{1F600}\", \"chunk_type\": \"text\"}",
            r#"{"span_id": "abc"}"#,
            r#" { "span_id" : "abc" , "delta" : null } "#,
            "{\t\"delta\":\r\n\"x\"}",
            r#"{"chunk_type": "error", "error_type": "X", "error_message": "m"}"#,
            r#"{"chunk_type": "whatever", "json_path": null}"#,
            r#"{"delta": 9999999999999999999}"#,
            r#"{}"#,
            r#"{ }"#,
        ] {
            let (serde, fast) = both(data);
            assert!(fast.is_some(), "the fast path should read {data}");
            assert_eq!(fast, serde, "{data}");
        }
    }

    #[test]
    fn the_fast_path_leaves_everything_else_to_serde() {
        for data in [
            // Escapes, numbers that are not small non-negative integers, nesting.
            r#"{"delta": "a\"b"}"#,
            r#"{"delta": "a\nb"}"#,
            r#"{"delta": -1}"#,
            r#"{"delta": 1.5}"#,
            r#"{"delta": 1e3}"#,
            r#"{"delta": 10000000000000000000}"#,
            r#"{"delta": [1]}"#,
            r#"{"delta": {"a": 1}}"#,
            r#"{"delt\u0061": "x"}"#,
            // Unknown and repeated keys.
            r#"{"delta": "x", "new": 1}"#,
            r#"{"delta": "x", "delta": "y"}"#,
            r#"{"delta": null, "delta": "y"}"#,
            r#"{"json_path": "a", "json_path": "b"}"#,
            // Wrong types.
            r#"{"json_path": 1}"#,
            r#"{"chunk_type": true}"#,
            r#"{"span_id": false}"#,
            // Not JSON, or not quite.
            r#"{"delta": 01}"#,
            r#"{"delta": "x",}"#,
            r#"{"delta": "x"} x"#,
            r#"{"delta": "x""#,
            r#"{"delta" "x"}"#,
            r#"{"delta": tru}"#,
            r#"{"delta": truex}"#,
            "{\"delta\": \"a\tb\"}",
            "[1]",
            "\"x\"",
            "{",
            "",
        ] {
            assert_eq!(flat_chunk(data), None, "{data}");
        }
    }

    proptest::proptest! {
        /// Whatever the fast path reads, serde reads the same.
        #[test]
        fn the_fast_path_agrees_with_serde(
            pieces in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        r#""delta""#, r#""json_path""#, r#""span_id""#, r#""chunk_type""#,
                        r#""error_type""#, r#""error_message""#, r#""other""#,
                        r#""del\u0074a""#, "delta", "",
                    ]),
                    proptest::sample::select(vec![":", " : ", "", ",", "\t:\n"]),
                    proptest::sample::select(vec![
                        r#""x""#, r#""""#, r#""json""#, r#""text""#, r#""error""#, r#""a\"b""#,
                        "\"\u{e9}\"", "0", "7", "01", "-3", "1.5", "2e1", "18446744073709551615",
                        "18446744073709551616", "9999999999999999999", "true", "false", "null",
                        "nul", "[]", "{}", "\"x", "\"a\u{1}b\"",
                    ]),
                    proptest::sample::select(vec![", ", ",", " ", "", ",,", "}"]),
                ),
                0..5,
            ),
            open in proptest::sample::select(vec!["{", " {", "", "["]),
            close in proptest::sample::select(vec!["}", "} ", "", "}}", "]"]),
        ) {
            let mut data = String::from(open);
            for (i, (key, colon, value, comma)) in pieces.iter().enumerate() {
                if i > 0 {
                    data.push_str(comma);
                }
                data.push_str(key);
                data.push_str(colon);
                data.push_str(value);
            }
            data.push_str(close);
            let (serde, fast) = both(&data);
            if fast.is_some() {
                proptest::prop_assert_eq!(fast, serde, "{}", data);
            }
        }
    }

    proptest::proptest! {
        /// The word-at-a-time scan finds what a plain scan finds.
        #[test]
        fn string_end_is_a_plain_scan(
            bytes in proptest::collection::vec(
                proptest::sample::select(vec![
                    b'a', b'"', b'\\', 0x00, 0x01, 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80,
                    0xa2, 0xdc, 0xff,
                ]),
                0..40,
            ),
            plain in 0usize..40,
        ) {
            // Mostly plain text, with the bytes above after a run of it.
            let mut text = vec![b'x'; plain];
            text.extend(&bytes);
            let expected = text.iter().position(|b| matches!(b, b'"' | b'\\' | 0..=0x1f));
            proptest::prop_assert_eq!(string_end(&text), expected);
        }
    }

    #[test]
    fn chunks_parse_with_nulls_and_unknown_fields() {
        let chunk: StreamingChunk = serde_json::from_str(
            r#"{"delta": null, "json_path": "response.x", "chunk_type": "json", "new": 1}"#,
        )
        .unwrap();
        assert_eq!(chunk.delta, None);
        assert_eq!(chunk.chunk_type, Some(ChunkType::Json));
        let error: StreamingChunk = serde_json::from_str(
            r#"{"chunk_type": "error", "error_type": "X", "error_message": "m"}"#,
        )
        .unwrap();
        assert!(error.is_error());
    }
}
