//! Server-Sent Events: a decoder that follows the HTML spec's framing.
//!
//! The decoder takes bytes split anywhere (inside a line, a CRLF pair or a UTF-8 character),
//! accepts LF, CRLF and lone CR line ends, a leading byte-order mark, comments and the `id`,
//! `event` and `retry` fields, and bounds the memory an event may take.

use std::collections::VecDeque;
use std::sync::Arc;

/// The largest line buffer kept for the next line once its line is read.
const MAX_KEPT_LINE: usize = 64 * 1024;

/// The default limit on one event's size: 16 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// The `event` field (empty when none was sent; SSE's default type is "message").
    pub event: String,
    /// The `data` lines, joined by `\n`.
    pub data: String,
    /// The last `id` seen, if any. Shared by every event that follows it (SSE's last event
    /// id), so a long id is held once, not once per event.
    pub id: Option<Arc<str>>,
    /// The last valid `retry` seen, in milliseconds, if any.
    pub retry: Option<u64>,
    /// Whether this event was completed by the end of the stream rather than a blank line (the
    /// stream may have been cut inside it).
    pub at_eof: bool,
}

/// Why the decoder gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// An event grew past the limit.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A line was not valid UTF-8.
    InvalidUtf8 {
        /// The line, lossily decoded and shortened.
        line: String,
    },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::TooLarge { limit } => write!(f, "event larger than {limit} bytes"),
            DecodeError::InvalidUtf8 { line } => write!(f, "invalid UTF-8 in line {line:?}"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl DecodeError {
    /// [`DecodeError::InvalidUtf8`] for `line`, lossily decoded and shortened.
    fn invalid_utf8(line: &[u8]) -> Self {
        DecodeError::InvalidUtf8 {
            line: crate::error::truncate(&String::from_utf8_lossy(line), 200).to_owned(),
        }
    }
}

/// An incremental SSE decoder.
///
/// Memory: the event being built (its `data` and `event` fields and the line being read) is at
/// most the limit given to [`with_limit`](Self::with_limit), and so is an `id` line; the last
/// `id` is kept once and shared by the events that carry it.
#[derive(Debug)]
pub struct Decoder {
    line: Vec<u8>,
    data: String,
    has_data: bool,
    event: String,
    id: Option<Arc<str>>,
    retry: Option<u64>,
    after_cr: bool,
    at_start: bool,
    max_event_bytes: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder with the default event size limit.
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_MAX_EVENT_BYTES)
    }

    /// A decoder that rejects events larger than `max_event_bytes`.
    pub fn with_limit(max_event_bytes: usize) -> Self {
        Self {
            line: Vec::new(),
            data: String::new(),
            has_data: false,
            event: String::new(),
            id: None,
            retry: None,
            after_cr: false,
            at_start: true,
            max_event_bytes,
        }
    }

    /// Decodes the next bytes, pushing each completed event to `out`.
    pub fn feed(
        &mut self,
        mut bytes: &[u8],
        out: &mut impl Extend<Event>,
    ) -> Result<(), DecodeError> {
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while !bytes.is_empty() {
            // The line up to the first `\n` or `\r`, that byte, and what follows it.
            let split =
                memchr::memchr2(b'\n', b'\r', bytes).and_then(|end| bytes.split_at_checked(end));
            match split {
                Some((head, [terminator, rest @ ..])) => {
                    if self.line.is_empty() {
                        self.check_size(head.len())?;
                        self.line_done(head, out)?;
                    } else {
                        self.check_size(self.line.len().saturating_add(head.len()))?;
                        self.grow_line(head.len());
                        self.line.extend_from_slice(head);
                        let line = std::mem::take(&mut self.line);
                        self.long_line_done(line, out)?;
                    }
                    bytes = rest;
                    if *terminator == b'\r' {
                        match bytes.strip_prefix(b"\n") {
                            Some(rest) => bytes = rest,
                            None if bytes.is_empty() => self.after_cr = true,
                            None => {}
                        }
                    }
                }
                // No line end yet (memchr's index is always inside `bytes`, so this is the
                // only other case).
                _ => {
                    self.check_size(self.line.len().saturating_add(bytes.len()))?;
                    self.grow_line(bytes.len());
                    self.line.extend_from_slice(bytes);
                    break;
                }
            }
        }
        Ok(())
    }

    /// Ends the input: an unterminated last line is taken as a line, and an event that was
    /// not closed by a blank line is returned with [`Event::at_eof`] set.
    pub fn finish(&mut self) -> Result<Option<Event>, DecodeError> {
        let mut out = Vec::new();
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, &mut out)?;
        }
        if self.has_data {
            let mut event = self.take_event();
            event.at_eof = true;
            out.push(event);
        }
        Ok(out.pop())
    }

    /// Makes room for `more` bytes of the line: by doubling while it is short, then by an
    /// eighth, so a long line (a large final answer) is held in about its own size, not in a
    /// buffer up to twice as large, and growing it never needs three times its size.
    fn grow_line(&mut self, more: usize) {
        let (len, capacity) = (self.line.len(), self.line.capacity());
        if len.saturating_add(more) <= capacity || capacity < MAX_KEPT_LINE {
            return;
        }
        self.line.reserve_exact(more.max(capacity / 8));
    }

    /// A line that came in several pieces (so possibly long). An event's first `data` line
    /// becomes its data without a copy (its buffer is the data's); after any other line, a
    /// buffer grown past [`MAX_KEPT_LINE`] is let go, so a long event is not held twice.
    fn long_line_done(
        &mut self,
        mut line: Vec<u8>,
        out: &mut impl Extend<Event>,
    ) -> Result<(), DecodeError> {
        let first_data = !self.at_start && !self.has_data && self.data.is_empty();
        if first_data && let Some(rest) = line.strip_prefix(b"data:") {
            let skip = b"data:"
                .len()
                .saturating_add(usize::from(rest.first() == Some(&b' ')));
            line.drain(..skip.min(line.len()));
            match String::from_utf8(line) {
                Ok(data) => {
                    self.data = data;
                    self.has_data = true;
                    return Ok(());
                }
                Err(error) => return Err(DecodeError::invalid_utf8(error.as_bytes())),
            }
        }
        let result = self.line_done(&line, out);
        if line.capacity() <= MAX_KEPT_LINE {
            line.clear();
            self.line = line;
        }
        result
    }

    fn check_size(&self, line_len: usize) -> Result<(), DecodeError> {
        let size = self
            .data
            .len()
            .saturating_add(self.event.len())
            .saturating_add(line_len);
        if size > self.max_event_bytes {
            return Err(DecodeError::TooLarge {
                limit: self.max_event_bytes,
            });
        }
        Ok(())
    }

    fn line_done(
        &mut self,
        mut line: &[u8],
        out: &mut impl Extend<Event>,
    ) -> Result<(), DecodeError> {
        if self.at_start {
            self.at_start = false;
            if let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF") {
                line = rest;
            }
        }
        if line.is_empty() {
            if self.has_data {
                out.extend(Some(self.take_event()));
            } else {
                self.event.clear();
            }
            return Ok(());
        }
        if line.starts_with(b":") {
            return Ok(());
        }
        // The field name up to the first colon, the value after it (less one leading space).
        let colon = memchr::memchr(b':', line).and_then(|colon| line.split_at_checked(colon));
        let (field, value) = match colon {
            Some((field, [_colon, value @ ..])) => {
                (field, value.strip_prefix(b" ").unwrap_or(value))
            }
            _ => (line, &b""[..]),
        };
        fn text<'b>(bytes: &'b [u8], line: &[u8]) -> Result<&'b str, DecodeError> {
            std::str::from_utf8(bytes).map_err(|_| DecodeError::invalid_utf8(line))
        }
        match field {
            b"data" => {
                let value = text(value, line)?;
                if self.has_data {
                    self.data.push('\n');
                    self.data.push_str(value);
                } else if self.data.is_empty() {
                    // An event's first line (most often its only one): allocated to its size.
                    self.data = value.to_owned();
                } else {
                    self.data.push_str(value);
                }
                self.has_data = true;
            }
            b"event" => {
                self.event.clear();
                self.event.push_str(text(value, line)?);
            }
            b"id" if !value.contains(&0) => {
                self.id = Some(Arc::from(text(value, line)?));
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                self.retry = text(value, line)?.parse().ok();
            }
            _ => {}
        }
        Ok(())
    }

    fn take_event(&mut self) -> Event {
        self.has_data = false;
        Event {
            event: std::mem::take(&mut self.event),
            data: std::mem::take(&mut self.data),
            id: self.id.as_ref().map(Arc::clone),
            retry: self.retry,
            at_eof: false,
        }
    }
}

/// A queue of decoded events (what [`Decoder::feed`] fills in the client).
pub(crate) type EventQueue = VecDeque<Event>;

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], split: usize) -> Vec<Event> {
        let mut decoder = Decoder::new();
        let mut out = Vec::new();
        for part in input.chunks(split.max(1)) {
            decoder.feed(part, &mut out).unwrap();
        }
        out.extend(decoder.finish().unwrap());
        out
    }

    #[test]
    fn every_line_end_and_every_split_gives_the_same_events() {
        let stream = "\u{FEFF}: hi\r\nid: 7\nevent: message\rdata: {\"delta\": \"h\u{e9}llo \u{1F600}\"}\r\n\r\ndata:a\ndata: b\n\nretry: 10\ndata: c\r\r";
        let expected = decode_all(stream.as_bytes(), usize::MAX);
        assert_eq!(expected.len(), 3);
        assert_eq!(expected[0].data, "{\"delta\": \"h\u{e9}llo \u{1F600}\"}");
        assert_eq!(expected[0].event, "message");
        assert_eq!(expected[0].id.as_deref(), Some("7"));
        assert_eq!(expected[1].data, "a\nb");
        assert_eq!(expected[1].event, "");
        assert_eq!(expected[2].retry, Some(10));
        for split in 1..stream.len() {
            assert_eq!(
                decode_all(stream.as_bytes(), split),
                expected,
                "split {split}"
            );
        }
    }

    #[test]
    fn an_unterminated_event_is_returned_at_eof() {
        let events = decode_all(b"data: {\"a\":1}\n\ndata: {\"b\"", 3);
        assert_eq!(events.len(), 2);
        assert!(!events[0].at_eof);
        assert!(events[1].at_eof);
        assert_eq!(events[1].data, "{\"b\"");
    }

    #[test]
    fn events_without_data_are_not_dispatched() {
        assert!(decode_all(b"event: ping\n\nid: 1\n\n:comment\n\n", 2).is_empty());
    }

    #[test]
    fn the_size_limit_bounds_one_event() {
        let mut decoder = Decoder::with_limit(16);
        let mut out = Vec::new();
        decoder.feed(b"data: 0123456789\n\n", &mut out).unwrap();
        let err = decoder.feed(b"data: 0123456789ab", &mut out).unwrap_err();
        assert_eq!(err, DecodeError::TooLarge { limit: 16 });
        let mut decoder = Decoder::with_limit(16);
        let err = decoder
            .feed(b"data: 0123456\ndata: 0123456789\n", &mut out)
            .unwrap_err();
        assert_eq!(err, DecodeError::TooLarge { limit: 16 });
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let mut decoder = Decoder::new();
        let err = decoder
            .feed(b"data: \xff\xfe\n\n", &mut Vec::new())
            .unwrap_err();
        assert!(matches!(err, DecodeError::InvalidUtf8 { .. }));
    }
}
