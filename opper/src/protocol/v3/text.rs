//! Reading the JSON text of a v3 stream as it arrives.
//!
//! On API v3 a stream with an output schema carries no `json_path`: its `content` deltas are
//! the model's JSON document, cut anywhere. [`TextReader`] reads that text in one pass and turns
//! it into the `(json_path, delta)` events of a v2 stream, so that
//! [`partial::Assembler`](crate::partial) applies them with all its rules unchanged:
//!
//! - paths in v2's form, always with the `response` prefix: `response.people[0].name`; a root
//!   scalar or string is `response`, a root array's items `response[0]`; a key that is empty or
//!   holds `.`, `[`, `]`, a quote or a backslash is written `["k\"ey"]` (`\` escapes `"` and
//!   `\`), which `partial::path` reads back to that key, so every key has a path;
//! - a string arrives as the unescaped pieces of each push (one event per string per push,
//!   never one per character); an empty string is one event `""`, so its field exists;
//! - a number is one `Value::Number` once its token ends, read by `serde_json` (the same
//!   value `serde_json` reads from the whole text); `true`, `false`, `null` are one event each;
//!   a number or literal is emitted at the byte after it (`,`, `]`, `}`, whitespace), so that
//!   neither `0` of `01` nor `true` of `truex` is ever emitted;
//! - an empty object or array is no event (the assembler completes it from the schema).
//!
//! # What the reader takes, and when it goes silent
//!
//! Before the document: whitespace and one Markdown fence (```` ``` ```` with an optional info
//! word such as `json`, then whitespace), in any cuts. Anything else there (a sentence) means
//! the text is not the document: the reader goes silent ([`Status::NotJson`]) and emits nothing
//! more for this stream; the `complete` event carries the output anyway. Text after the
//! document's end (a closing fence, a remark) is ignored. Invalid JSON inside the document
//! silences it too ([`Status::Invalid`]): what was emitted before was what the text said, and
//! nothing is emitted after.
//!
//! Decisions:
//!
//! - A lone surrogate escape (`\ud83d` not followed by a low-surrogate escape, or a lone
//!   `\ude00`) is invalid: `serde_json` refuses it when it reads a string, so it is
//!   [`Status::Invalid`]. A high surrogate waits (unemitted) for its pair across pushes.
//! - A key repeated in one object (`{"n": 1, "m": 2, "n": 3}`, at any depth, in any item of
//!   an array) silences the reader ([`Status::RepeatedKey`]) at the repeated key: its events
//!   would go to the same path again, joining two values into one the text never holds
//!   (`1` and `3` into `13`). What was emitted before it was what a prefix of the text said.
//!   Each open object remembers a 64-bit hash of each of its keys (8 bytes a key, dropped when
//!   the object closes); two keys of the same hash count as repeated, which silences the
//!   updates and never shows anything wrong.
//! - A root number or literal is emitted only once the text shows it is the document: at a
//!   closing fence after it, or by [`TextReader::finish`] when only whitespace followed it
//!   (`42`, `42\n`); `1 apple` is a sentence ([`Status::NotJson`]). A root string streams
//!   like any string, and what follows it is ignored like what follows an object.
//!
//! # Bounds
//!
//! One pass, constant work per byte: nothing read is read again, but for string runs (found
//! with `memchr`, checked for control characters, then copied whole) and the one byte after a
//! number or literal (looked at to end the token, then read in the state after it). Memory: the path (at most [`MAX_PATH_BYTES`]), one frame per open
//! container (at most [`MAX_DEPTH`]), the key being read (its path must fit in
//! [`MAX_PATH_BYTES`]), a number token (at most [`MAX_NUMBER_BYTES`]), and the piece of string
//! of the current push, and a hash of each key of each open object. Going over a bound is a [`ReadError`] and silences the reader
//! ([`Status::TooLarge`]).

use std::collections::HashSet;
use std::fmt::{self, Write as _};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

use serde_json::{Number, Value};

use crate::jsontext::limits::{MAX_DEPTH, MAX_PATH_BYTES};
use crate::jsontext::number::Num;

/// The longest number token read, in bytes (a longer one is a [`ReadError`]): far above the
/// 17 significant digits an `f64` keeps and the 20 digits of a `u64`.
pub(crate) const MAX_NUMBER_BYTES: usize = 256;

/// The longest piece of string copied out of the reader's buffer (a longer one is moved).
const MAX_COPIED_PIECE: usize = 64;

/// The longest info word after an opening fence (```` ```json ````).
const MAX_FENCE_INFO: u8 = 32;

/// The path of the document's root.
const ROOT: &str = "response";

/// Where a reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Before the document: nothing, whitespace or an opening fence so far.
    Waiting,
    /// Inside the document.
    Reading,
    /// The document ended; the text after it is ignored.
    Complete,
    /// Silent: the text before the document was not whitespace or a fence (a sentence).
    NotJson,
    /// Silent: the document is not valid JSON.
    Invalid,
    /// Silent: the document went over a bound (the [`ReadError`] said which).
    TooLarge,
    /// Silent: an object repeats a key (its value would join the first one's).
    RepeatedKey,
}

/// A document over one of the reader's bounds. The reader is silent after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// Containers nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A path (with its key) longer than [`MAX_PATH_BYTES`].
    PathTooLong,
    /// A number token longer than [`MAX_NUMBER_BYTES`].
    NumberTooLong,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooDeep => write!(
                f,
                "the JSON text nests more than {MAX_DEPTH} arrays and objects"
            ),
            Self::PathTooLong => write!(
                f,
                "the JSON text has a value whose json_path is longer than {MAX_PATH_BYTES} bytes"
            ),
            Self::NumberTooLong => write!(
                f,
                "the JSON text has a number longer than {MAX_NUMBER_BYTES} bytes"
            ),
        }
    }
}

impl std::error::Error for ReadError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Before the document: whitespace so far.
    Start,
    /// One or two backticks of an opening fence.
    Ticks(u8),
    /// After ```` ``` ````: the info word, this many bytes of it so far.
    FenceInfo(u8),
    /// Whitespace after the fence's info word.
    FenceSpace,
    /// A value is expected (after `:`, or after `,` in an array).
    Value,
    /// After `[`: a value or `]`.
    FirstItem,
    /// After `{`: a key or `}`.
    FirstKey,
    /// After `,` in an object: a key.
    Key,
    /// After a key: `:`.
    Colon,
    /// After a value in a container: `,` or the container's end.
    Next,
    /// A string's body.
    Str,
    /// After `\` in a string.
    Escape,
    /// In `\uXXXX`: this many hex digits read.
    Hex(u8),
    /// A number token.
    Number(Num),
    /// `true`, `false` or `null`: this many bytes of the word read (all of them: waiting for
    /// the byte that ends it).
    Literal(&'static [u8], usize),
    /// After a root number or literal: whitespace so far (0), or this many backticks of a
    /// closing fence.
    Trailer(u8),
    /// After the document.
    Done,
    /// Not reading any more.
    Silent(Status),
}

/// An open array or object.
#[derive(Debug, Clone, Copy)]
struct Frame {
    /// The length of the path of the container itself.
    base: usize,
    /// The index of the current item, for an array.
    index: Option<usize>,
}

/// Reads the JSON text of a stream, delta by delta, into `(json_path, delta)` events (see the
/// [module docs](self)).
#[derive(Debug)]
pub(crate) struct TextReader {
    mode: Mode,
    path: String,
    frames: Vec<Frame>,
    /// Whether the string being read is a key.
    in_key: bool,
    /// Whether the value string being read has had an event.
    started: bool,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
    /// The `\uXXXX` being read.
    hex: u16,
    /// The key being read, unescaped.
    key: String,
    /// The piece of the value string read in this push, unescaped.
    piece: String,
    /// The number token being read.
    number: String,
    /// A root number or literal, held until the text after it shows it is the document.
    root_scalar: Option<Value>,
    /// The hashes of the keys of each open object, outermost first: `keys[..objects]` are in
    /// use, the rest kept for their buffers.
    keys: Vec<Keys>,
    /// How many objects are open.
    objects: usize,
    /// Hashes the keys (seeded per reader).
    hasher: RandomState,
}

/// The hashes of the keys of an object.
type Keys = HashSet<u64, BuildHasherDefault<Hashed>>;

/// Hashes a key's hash (already made, by the reader's seeded hasher) as itself.
#[derive(Debug, Default)]
struct Hashed(u64);

impl Hasher for Hashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64`s are hashed (`write_u64`); any other bytes are folded in all the same.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

/// The largest set of key hashes kept for reuse once its object closed.
const MAX_REUSED_KEYS: usize = 1024;

impl Default for TextReader {
    fn default() -> Self {
        Self::new()
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl TextReader {
    /// A reader at the start of a stream's text.
    pub(crate) fn new() -> Self {
        Self {
            mode: Mode::Start,
            path: String::from(ROOT),
            frames: Vec::new(),
            in_key: false,
            started: false,
            high: None,
            hex: 0,
            key: String::new(),
            piece: String::new(),
            number: String::new(),
            root_scalar: None,
            keys: Vec::new(),
            objects: 0,
            hasher: RandomState::new(),
        }
    }

    /// Where the reader is.
    pub(crate) fn status(&self) -> Status {
        match self.mode {
            Mode::Start | Mode::Ticks(_) | Mode::FenceInfo(_) | Mode::FenceSpace => Status::Waiting,
            Mode::Done => Status::Complete,
            Mode::Silent(status) => status,
            _ => Status::Reading,
        }
    }

    /// Reads the next delta of text, calling `event(json_path, delta)` for each event it
    /// completes, in order. A silent reader emits nothing and returns `Ok`; the push that goes
    /// over a bound returns the [`ReadError`] (and the reader is silent from then on).
    pub(crate) fn push<F: FnMut(&str, Value)>(
        &mut self,
        text: &str,
        mut event: F,
    ) -> Result<(), ReadError> {
        let result = self.read(text, &mut event);
        if let Err(error) = result {
            self.silence(Status::TooLarge);
            return Err(error);
        }
        if matches!(self.mode, Mode::Str | Mode::Escape | Mode::Hex(_))
            && !self.in_key
            && !self.piece.is_empty()
        {
            self.started = true;
            event(&self.path, Value::String(take_piece(&mut self.piece)));
        }
        Ok(())
    }

    /// Ends the text: emits a root number or literal that was the whole document (`42`), and
    /// says whether a whole document was read (`false` for a cut, silent or empty text).
    pub(crate) fn finish<F: FnMut(&str, Value)>(&mut self, mut event: F) -> bool {
        if self.frames.is_empty() {
            match self.mode {
                Mode::Number(num) if num.whole() => self.end_number(&mut event, true),
                Mode::Literal(word, at) if at == word.len() => {
                    self.end_literal(word, &mut event, true);
                }
                Mode::Number(_) | Mode::Literal(..) => self.silence(Status::Invalid),
                Mode::Trailer(0) => self.end_root_scalar(&mut event),
                Mode::Trailer(_) => self.silence(Status::NotJson),
                _ => {}
            }
        }
        self.mode == Mode::Done
    }

    fn silence(&mut self, status: Status) {
        self.mode = Mode::Silent(status);
        self.piece = String::new();
        self.key = String::new();
        self.number = String::new();
        self.high = None;
        self.root_scalar = None;
        self.keys = Vec::new();
        self.objects = 0;
    }

    fn read<F: FnMut(&str, Value)>(&mut self, text: &str, event: &mut F) -> Result<(), ReadError> {
        let bytes = text.as_bytes();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            match self.mode {
                Mode::Done | Mode::Silent(_) => return Ok(()),
                Mode::Str if self.high.is_none() => {
                    // A run without `"` or `\`, copied whole.
                    let rest = bytes.get(i..).unwrap_or_default();
                    let run = memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len());
                    let end = i.saturating_add(run);
                    if run > 0 {
                        let body = bytes.get(i..end).unwrap_or_default();
                        if body.iter().any(|&c| c < 0x20) {
                            self.silence(Status::Invalid);
                            return Ok(());
                        }
                        // `i` and `end` are at ASCII bytes or the ends: char boundaries.
                        self.push_text(text.get(i..end).unwrap_or_default())?;
                    }
                    i = end;
                    if let Some(&stop) = bytes.get(i) {
                        self.byte(stop, event)?;
                        i = i.saturating_add(1);
                    }
                }
                _ => {
                    self.byte(b, event)?;
                    i = i.saturating_add(1);
                }
            }
        }
        Ok(())
    }

    /// Reads one byte outside a string body's runs.
    fn byte<F: FnMut(&str, Value)>(&mut self, b: u8, event: &mut F) -> Result<(), ReadError> {
        match self.mode {
            Mode::Start => {
                if b == b'`' {
                    self.mode = Mode::Ticks(1);
                } else if !is_space(b) {
                    self.root(b)?;
                }
            }
            Mode::Ticks(n) => match (b, n) {
                (b'`', 2) => self.mode = Mode::FenceInfo(0),
                (b'`', _) => self.mode = Mode::Ticks(2),
                _ => self.silence(Status::NotJson),
            },
            Mode::FenceInfo(n) => {
                if is_space(b) {
                    self.mode = Mode::FenceSpace;
                } else if (b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'.'))
                    && n < MAX_FENCE_INFO
                {
                    self.mode = Mode::FenceInfo(n.saturating_add(1));
                } else if n == 0 && matches!(b, b'{' | b'[') {
                    self.root(b)?;
                } else {
                    self.silence(Status::NotJson);
                }
            }
            Mode::FenceSpace => {
                if !is_space(b) {
                    self.root(b)?;
                }
            }
            Mode::Value => {
                if !is_space(b) && !self.value(b)? {
                    self.silence(Status::Invalid);
                }
            }
            Mode::FirstItem => {
                if b == b']' {
                    self.close();
                } else if !is_space(b) && !self.value(b)? {
                    self.silence(Status::Invalid);
                }
            }
            Mode::FirstKey | Mode::Key => match b {
                b'"' => {
                    self.in_key = true;
                    self.mode = Mode::Str;
                }
                b'}' if self.mode == Mode::FirstKey => self.close(),
                _ if is_space(b) => {}
                _ => self.silence(Status::Invalid),
            },
            Mode::Colon => match b {
                b':' => self.mode = Mode::Value,
                _ if is_space(b) => {}
                _ => self.silence(Status::Invalid),
            },
            Mode::Next => {
                let top = self.frames.last_mut().map(|frame| &mut frame.index);
                match (b, top) {
                    (b',', Some(Some(index))) => {
                        // Never reached in practice: the index is the count of items read.
                        *index = index.checked_add(1).ok_or(ReadError::PathTooLong)?;
                        self.mode = Mode::Value;
                    }
                    (b',', Some(None)) => self.mode = Mode::Key,
                    (b']', Some(Some(_))) | (b'}', Some(None)) => self.close(),
                    _ if is_space(b) => {}
                    _ => self.silence(Status::Invalid),
                }
            }
            Mode::Str => match b {
                // Only with a high surrogate waiting: its pair must follow.
                b'\\' => self.mode = Mode::Escape,
                b'"' if self.high.is_none() => self.end_string(event)?,
                _ => self.silence(Status::Invalid),
            },
            Mode::Escape => {
                let c = match b {
                    b'u' => {
                        self.hex = 0;
                        self.mode = Mode::Hex(0);
                        return Ok(());
                    }
                    _ if self.high.is_some() => {
                        self.silence(Status::Invalid);
                        return Ok(());
                    }
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    _ => {
                        self.silence(Status::Invalid);
                        return Ok(());
                    }
                };
                self.mode = Mode::Str;
                self.push_char(c)?;
            }
            Mode::Hex(n) => {
                let Some(digit) = char::from(b).to_digit(16) else {
                    self.silence(Status::Invalid);
                    return Ok(());
                };
                // Four digits: at most 0xFFFF, no overflow.
                self.hex = self.hex.wrapping_shl(4) | u16::try_from(digit).unwrap_or_default();
                if n < 3 {
                    self.mode = Mode::Hex(n.saturating_add(1));
                } else {
                    self.mode = Mode::Str;
                    self.unicode()?;
                }
            }
            Mode::Number(num) => match num.next(b) {
                Some(next) => {
                    if self.number.len() >= MAX_NUMBER_BYTES {
                        return Err(ReadError::NumberTooLong);
                    }
                    self.number.push(char::from(b));
                    self.mode = Mode::Number(next);
                }
                None if num.whole() && self.ends_scalar(b) => {
                    self.end_number(event, false);
                    // The byte after the number is read in the state after it (once: that
                    // state is not a number).
                    self.byte(b, event)?;
                }
                None => self.silence(Status::Invalid),
            },
            Mode::Literal(word, at) => {
                if word.get(at) == Some(&b) {
                    self.mode = Mode::Literal(word, at.saturating_add(1));
                } else if at == word.len() && self.ends_scalar(b) {
                    self.end_literal(word, event, false);
                    // As after a number.
                    self.byte(b, event)?;
                } else {
                    self.silence(Status::Invalid);
                }
            }
            Mode::Trailer(n) => match b {
                b'`' if n == 2 => self.end_root_scalar(event),
                b'`' => self.mode = Mode::Trailer(n.saturating_add(1)),
                _ if is_space(b) && n == 0 => {}
                // `1 apple`: the number was the start of a sentence.
                _ => self.silence(Status::NotJson),
            },
            Mode::Done | Mode::Silent(_) => {}
        }
        Ok(())
    }

    /// The first byte of the document.
    fn root(&mut self, b: u8) -> Result<(), ReadError> {
        if !self.value(b)? {
            self.silence(Status::NotJson);
        }
        Ok(())
    }

    /// Starts the value whose first byte is `b`; `false` if no value starts so.
    fn value(&mut self, b: u8) -> Result<bool, ReadError> {
        if !matches!(
            b,
            b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'
        ) {
            return Ok(false);
        }
        if let Some(&Frame {
            base,
            index: Some(index),
        }) = self.frames.last()
        {
            self.path.truncate(base);
            let _ = write!(self.path, "[{index}]");
            if self.path.len() > MAX_PATH_BYTES {
                return Err(ReadError::PathTooLong);
            }
        }
        self.mode = match b {
            b'{' | b'[' => {
                if self.frames.len() >= MAX_DEPTH {
                    return Err(ReadError::TooDeep);
                }
                let array = b == b'[';
                self.frames.push(Frame {
                    base: self.path.len(),
                    index: array.then_some(0),
                });
                if !array {
                    match self.keys.get_mut(self.objects) {
                        Some(keys) if keys.capacity() <= MAX_REUSED_KEYS => keys.clear(),
                        Some(keys) => *keys = Keys::default(),
                        None => self.keys.push(Keys::default()),
                    }
                    // At most `MAX_DEPTH` frames are open.
                    self.objects = self.objects.saturating_add(1);
                }
                if array {
                    Mode::FirstItem
                } else {
                    Mode::FirstKey
                }
            }
            b'"' => {
                self.in_key = false;
                self.started = false;
                Mode::Str
            }
            b't' => Mode::Literal(b"true", 1),
            b'f' => Mode::Literal(b"false", 1),
            b'n' => Mode::Literal(b"null", 1),
            _ => match Num::Start.next(b) {
                Some(num) => {
                    self.number.clear();
                    self.number.push(char::from(b));
                    Mode::Number(num)
                }
                // The check above lets only `-` and digits come here.
                None => return Ok(false),
            },
        };
        Ok(true)
    }

    /// A value ended: the container's next, or the end of the document.
    fn after_value(&mut self) {
        self.mode = if self.frames.is_empty() {
            Mode::Done
        } else {
            Mode::Next
        };
    }

    /// The current container ended.
    fn close(&mut self) {
        if let Some(frame) = self.frames.pop() {
            self.path.truncate(frame.base);
            if frame.index.is_none() {
                self.objects = self.objects.saturating_sub(1);
            }
        }
        self.after_value();
    }

    /// Whether `b` may follow a number or a literal: whitespace, or in a container `,` or a
    /// closing bracket (whether the right one is checked next), or at the root the backtick of
    /// a closing fence. Anything else (`01`, `1x`, `truex`) makes the token invalid, so no
    /// prefix of a longer token is ever emitted.
    fn ends_scalar(&self, b: u8) -> bool {
        is_space(b)
            || if self.frames.is_empty() {
                b == b'`'
            } else {
                matches!(b, b',' | b']' | b'}')
            }
    }

    fn end_literal<F: FnMut(&str, Value)>(&mut self, word: &[u8], event: &mut F, at_end: bool) {
        let value = match word {
            b"true" => Value::Bool(true),
            b"false" => Value::Bool(false),
            _ => Value::Null,
        };
        self.end_scalar(value, event, at_end);
    }

    fn end_number<F: FnMut(&str, Value)>(&mut self, event: &mut F, at_end: bool) {
        match self.number.parse::<Number>() {
            Ok(number) => {
                self.number.clear();
                self.end_scalar(Value::Number(number), event, at_end);
            }
            // Out of `f64`'s range (`1e400`): `serde_json` refuses the document too.
            Err(_) => self.silence(Status::Invalid),
        }
    }

    /// A whole number or literal: emitted, unless it is the root and the text goes on (then
    /// held until the text after it is whitespace to the end or a closing fence).
    fn end_scalar<F: FnMut(&str, Value)>(&mut self, value: Value, event: &mut F, at_end: bool) {
        if self.frames.is_empty() && !at_end {
            self.root_scalar = Some(value);
            self.mode = Mode::Trailer(0);
        } else {
            event(&self.path, value);
            self.after_value();
        }
    }

    /// The root number or literal is the document.
    fn end_root_scalar<F: FnMut(&str, Value)>(&mut self, event: &mut F) {
        if let Some(value) = self.root_scalar.take() {
            event(&self.path, value);
        }
        self.mode = Mode::Done;
    }

    fn end_string<F: FnMut(&str, Value)>(&mut self, event: &mut F) -> Result<(), ReadError> {
        if self.in_key {
            self.in_key = false;
            let hash = self.hasher.hash_one(&self.key);
            let repeated = self
                .objects
                .checked_sub(1)
                .and_then(|top| self.keys.get_mut(top))
                .is_some_and(|keys| !keys.insert(hash));
            if repeated {
                self.silence(Status::RepeatedKey);
                return Ok(());
            }
            let base = self.frames.last().map_or(ROOT.len(), |frame| frame.base);
            self.path.truncate(base);
            let plain = !self.key.is_empty()
                && !self
                    .key
                    .bytes()
                    .any(|c| matches!(c, b'.' | b'[' | b']' | b'"' | b'\'' | b'\\'));
            if plain {
                self.path.push('.');
                self.path.push_str(&self.key);
            } else {
                self.path.push_str("[\"");
                for c in self.key.chars() {
                    if matches!(c, '"' | '\\') {
                        self.path.push('\\');
                    }
                    self.path.push(c);
                }
                self.path.push_str("\"]");
            }
            self.key.clear();
            if self.path.len() > MAX_PATH_BYTES {
                return Err(ReadError::PathTooLong);
            }
            self.mode = Mode::Colon;
        } else {
            if !self.piece.is_empty() || !self.started {
                event(&self.path, Value::String(take_piece(&mut self.piece)));
            }
            self.after_value();
        }
        Ok(())
    }

    /// A whole `\uXXXX` was read.
    fn unicode(&mut self) -> Result<(), ReadError> {
        let unit = u32::from(self.hex);
        let code = match (self.high.take(), unit) {
            // Both halves are in their ranges (matched here and where `high` was kept), so
            // neither subtraction wraps and the sum is at most 0x10FFFF.
            #[allow(clippy::arithmetic_side_effects)]
            (Some(high), 0xDC00..=0xDFFF) => {
                0x1_0000 + ((u32::from(high) - 0xD800) << 10) + (unit - 0xDC00)
            }
            (None, 0xD800..=0xDBFF) => {
                self.high = Some(self.hex);
                return Ok(());
            }
            (Some(_), _) | (None, 0xDC00..=0xDFFF) => {
                self.silence(Status::Invalid);
                return Ok(());
            }
            (None, unit) => unit,
        };
        match char::from_u32(code) {
            Some(c) => self.push_char(c),
            None => {
                self.silence(Status::Invalid);
                Ok(())
            }
        }
    }

    fn push_char(&mut self, c: char) -> Result<(), ReadError> {
        let mut buf = [0; 4];
        self.push_text(c.encode_utf8(&mut buf))
    }

    /// Appends unescaped string text to the key or the piece being read.
    fn push_text(&mut self, text: &str) -> Result<(), ReadError> {
        if self.in_key {
            let base = self.frames.last().map_or(ROOT.len(), |frame| frame.base);
            // `.` + key at least: a key that cannot fit its path is refused as it grows.
            if base
                .saturating_add(1)
                .saturating_add(self.key.len())
                .saturating_add(text.len())
                > MAX_PATH_BYTES
            {
                return Err(ReadError::PathTooLong);
            }
            self.key.push_str(text);
        } else {
            self.piece.push_str(text);
        }
        Ok(())
    }
}

/// A hash of a stream of bytes, the same however the stream was cut into writes: the bytes
/// are mixed in eight at a time (those of a word may come from several writes), and the length
/// last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fold {
    hash: u64,
    /// The bytes written since the last word was mixed in, the first in the lowest byte.
    tail: u64,
    /// How many bytes `tail` holds: 0 to 7.
    tail_len: u32,
    /// How many bytes were written.
    len: u64,
}

impl Default for Fold {
    fn default() -> Self {
        Self::new()
    }
}

impl Fold {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    /// Odd: multiplying by it loses nothing (each step maps states one to one).
    const PRIME: u64 = 0x9e37_79b9_7f4a_7c15;

    /// The hash of no byte.
    pub(crate) fn new() -> Self {
        Self {
            hash: Self::OFFSET,
            tail: 0,
            tail_len: 0,
            len: 0,
        }
    }

    /// The hash of `bytes`.
    pub(crate) fn of(bytes: &[u8]) -> u64 {
        let mut fold = Self::new();
        fold.write(bytes);
        fold.value()
    }

    fn mix(hash: u64, word: u64) -> u64 {
        let hash = (hash ^ word).wrapping_mul(Self::PRIME);
        hash ^ (hash >> 29)
    }

    /// Adds `bytes` to the stream.
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        self.len = self
            .len
            .wrapping_add(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
        let mut rest = bytes;
        if self.tail_len > 0 {
            // Fills the tail to a word first: `tail_len` is 1 to 7.
            let room = 8_usize.saturating_sub(self.tail_len as usize);
            let (head, after) = rest.split_at(room.min(rest.len()));
            self.tail |= word(head).wrapping_shl(self.tail_len.wrapping_mul(8));
            self.tail_len = self
                .tail_len
                .wrapping_add(u32::try_from(head.len()).unwrap_or_default());
            rest = after;
            if self.tail_len < 8 {
                return;
            }
            self.hash = Self::mix(self.hash, self.tail);
        }
        let mut words = rest.chunks_exact(8);
        for whole in &mut words {
            self.hash = Self::mix(self.hash, word(whole));
        }
        let remainder = words.remainder();
        self.tail = word(remainder);
        self.tail_len = u32::try_from(remainder.len()).unwrap_or_default();
    }

    /// The hash of the bytes so far.
    pub(crate) fn value(&self) -> u64 {
        let hash = Self::mix(self.hash, self.tail);
        Self::mix(Self::mix(hash, u64::from(self.tail_len)), self.len)
    }
}

/// The piece of string read, handed out: a short one is copied, so that the piece keeps its
/// buffer for the next (a long one is moved, and not kept).
fn take_piece(piece: &mut String) -> String {
    if piece.len() > MAX_COPIED_PIECE {
        return std::mem::take(piece);
    }
    let short = piece.as_str().to_owned();
    piece.clear();
    short
}

/// At most eight bytes as a word, the first in the lowest byte.
fn word(bytes: &[u8]) -> u64 {
    let mut word = [0; 8];
    if let Some(start) = word.get_mut(..bytes.len()) {
        start.copy_from_slice(bytes);
    }
    u64::from_le_bytes(word)
}

/// A digest of the events of a text, the same however the text was cut: a string's pieces
/// count as the string they make up. Two texts whose events have the same digest say the same
/// values at the same paths (but for a 64-bit collision). A [`Fold`] of each event's path and
/// value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Digest {
    bytes: Fold,
    /// The path of the last event, when it was a string (its next piece continues it).
    string_at: Option<String>,
}

impl Default for Digest {
    fn default() -> Self {
        Self::new()
    }
}

impl Digest {
    /// The digest of no event.
    pub(crate) fn new() -> Self {
        Self {
            bytes: Fold::new(),
            string_at: None,
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        self.bytes.write(bytes);
    }

    /// Adds an event of a [`TextReader`].
    pub(crate) fn event(&mut self, path: &str, value: &Value) {
        if let Value::String(piece) = value
            && self.string_at.as_deref() == Some(path)
        {
            self.write(piece.as_bytes());
            return;
        }
        // A byte that JSON text never holds separates the parts.
        self.write(&[0xFF]);
        self.write(path.as_bytes());
        self.write(&[0xFF]);
        match value {
            Value::String(piece) => {
                self.write(b"\"");
                self.write(piece.as_bytes());
                let at = self.string_at.get_or_insert_with(String::new);
                at.clear();
                at.push_str(path);
            }
            other => {
                // Written as JSON, straight into the digest.
                struct Hashing<'a>(&'a mut Digest);
                impl std::io::Write for Hashing<'_> {
                    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                        self.0.write(bytes);
                        Ok(bytes.len())
                    }
                    fn flush(&mut self) -> std::io::Result<()> {
                        Ok(())
                    }
                }
                // A number, a boolean or `null`: writing it does not fail.
                let _ = serde_json::to_writer(Hashing(self), other);
                self.string_at = None;
            }
        }
    }

    /// The digest of the events of the whole `text`, read at once; `None` unless the reader
    /// read a whole document.
    pub(crate) fn of_text(text: &str) -> Option<u64> {
        let mut digest = Self::new();
        let mut reader = TextReader::new();
        reader
            .push(text, |path, value| digest.event(path, &value))
            .ok()?;
        let whole = reader.finish(|path, value| digest.event(path, &value));
        whole.then(|| digest.value())
    }

    /// The digest so far.
    pub(crate) fn value(&self) -> u64 {
        self.bytes.value()
    }
}

// The tests cut their texts with the testing server's writer (`testing::chunker`).
#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used)]
mod tests;
