//! An entry: one pretty-printed JSON file per key, written atomically.
//!
//! ```json
//! {
//!   "opper_cache": 1,
//!   "endpoint": "/v2/call",
//!   "request": { "name": "add_numbers", "input": { "x": 4, "y": 5 }, ... },
//!   "response": { "span_id": "...", "json_payload": { "sum": 9 }, ... }
//! }
//! ```
//! A stream's entry holds `"chunks": [...]` instead of `"response"`: its events as they arrived,
//! one per line, on every version (an entry of a v3 stream written before holds the same items
//! as `"frames"`). The request is the body as sent, but for the values of the model's extra
//! headers, hashed (`key::redact_headers`): no header value, and no API key, is ever written.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::frames::{self, StreamAnswer};
use super::key::{Key, Route};
use super::seen::{self, Identity, Span, Spans};
use crate::jsontext::span::span_in;
use crate::protocol::Endpoint;

/// The version of the file format, written as `opper_cache`.
const FORMAT: u32 = 1;

/// What an entry can answer with: a call's response or a stream's events.
pub(crate) trait Answer: Sized {
    /// The endpoint that answers with it.
    const ENDPOINT: Endpoint;

    /// The answer at `spans` of a checked entry's `text` (see [`check`]).
    fn take(text: String, spans: Spans) -> Result<Self, String>;
}

/// The body of a call's response, as stored.
#[derive(Debug)]
pub(crate) struct CallAnswer(pub(crate) Box<RawValue>);

impl Answer for CallAnswer {
    const ENDPOINT: Endpoint = Endpoint::Call;

    fn take(text: String, spans: Spans) -> Result<Self, String> {
        let raw = spans
            .first()
            .and_then(|span| text.get(span.data.clone()))
            .unwrap_or_default();
        serde_json::from_str(raw)
            .map(Self)
            .map_err(|e| format!("its response could not be read again: {e}"))
    }
}

impl Answer for StreamAnswer {
    const ENDPOINT: Endpoint = Endpoint::Stream;

    fn take(text: String, spans: Spans) -> Result<Self, String> {
        Ok(StreamAnswer::new(text, spans))
    }
}

/// What is read back. Unknown fields are ignored, for entries of a later minor format. The
/// answer is kept as its text: a response, or a stream's events (`chunks`, or `frames` as v3
/// streams were written before; an entry with both is not one).
#[derive(Deserialize)]
struct OnDisk<'a> {
    opper_cache: u32,
    endpoint: String,
    request: Value,
    #[serde(default, borrow)]
    response: Option<&'a RawValue>,
    #[serde(default, borrow, rename = "chunks", alias = "frames")]
    frames: Option<Vec<&'a RawValue>>,
}

/// The largest entry read or written: 64 MiB. A larger file is a miss (logged); a larger
/// answer is not stored.
pub(crate) const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

/// The largest entry read where the call runs rather than on a blocking thread: 64 KiB (a
/// call's answer, a short stream). A regular file that small, opened without following a link
/// and without blocking, reads from the page cache in microseconds, and at worst in one read
/// from the disk.
pub(crate) const INLINE_BYTES: u64 = 64 * 1024;

/// What [`read`] found.
#[derive(Debug)]
pub(crate) enum Found<A> {
    /// A valid entry for the key.
    Answer(A),
    /// No file.
    Nothing,
    /// A file that is not a valid entry for this key, and why.
    Damaged(String),
    /// A file larger than the `limit` it was read with (but within [`MAX_ENTRY_BYTES`]): read
    /// it with a higher one.
    Larger,
}

/// Reads the entry at `path`, which must answer `key` with an `A`, if it is at most `limit`
/// bytes (at most [`MAX_ENTRY_BYTES`]).
///
/// [`Found::Damaged`] when there is a file that is not a valid entry for this key (damaged,
/// truncated, of another format or another request), or that is not a regular file of at most
/// [`MAX_ENTRY_BYTES`] (a link, a FIFO, a device, a directory).
pub(crate) fn read<A: Answer>(path: &Path, route: &Route, key: Key, limit: u64) -> Found<A> {
    match read_regular(path, limit.min(MAX_ENTRY_BYTES)) {
        Ok(Some(bytes)) => match parse(bytes, route, key, path) {
            Ok(answer) => Found::Answer(answer),
            Err(reason) => Found::Damaged(reason),
        },
        Ok(None) => Found::Nothing,
        Err(Unread::Larger) => Found::Larger,
        Err(Unread::Damaged(reason)) => Found::Damaged(reason),
    }
}

/// The answer in an entry's bytes (read at `path`), checked against its key.
fn parse<A: Answer>(bytes: Vec<u8>, route: &Route, key: Key, path: &Path) -> Result<A, String> {
    let text = String::from_utf8(bytes).map_err(|e| format!("it is not UTF-8: {e}"))?;
    // This text was checked here before: where its answer is is known.
    let identity = Identity::of(&text);
    if let Some(spans) = seen::spans(path, identity, key) {
        return A::take(text, spans);
    }
    let spans = check(&text, route, key, A::ENDPOINT)?;
    let answer = A::take(text, std::sync::Arc::clone(&spans))?;
    // An answer accepted (a response alone, or events alone, none an error): this text need
    // not be checked again.
    seen::remember(path, identity, key, spans);
    Ok(answer)
}

/// Where the answer of the entry `text` is, checked: an entry of this format for `route` and
/// `key`, holding a response that is a JSON object (a call) or events that replay as they were
/// recorded (a stream, each checked by the route's version), and nothing else.
pub(crate) fn check(
    text: &str,
    route: &Route,
    key: Key,
    endpoint: Endpoint,
) -> Result<Spans, String> {
    let stored: OnDisk<'_> =
        serde_json::from_str(text).map_err(|e| format!("it is not a cache entry: {e}"))?;
    if stored.opper_cache != FORMAT {
        return Err(format!(
            "its format is {}, not {FORMAT}",
            stored.opper_cache
        ));
    }
    let path = &route.path;
    if stored.endpoint != *path {
        return Err(format!("it answers {}, not {path}", stored.endpoint));
    }
    if Key::of(route, &stored.request) != key {
        return Err("its request is not the one asked for".into());
    }
    match (endpoint, stored.response, stored.frames) {
        (Endpoint::Call, Some(response), None) if response.get().starts_with('{') => {
            let span = span_in(text.as_bytes(), response.get().as_bytes())
                .ok_or("its response is not in it")?;
            Ok(Spans::from([Span::data(span)]))
        }
        (Endpoint::Call, Some(_), None) => Err("its response is not a JSON object".into()),
        (Endpoint::Call, _, _) => Err("it holds no single `response`".into()),
        (Endpoint::Stream, None, Some(items)) => frames::check(route.api, text, &items),
        (Endpoint::Stream, _, _) => Err("it holds no single `chunks` list".into()),
    }
}

/// Why an entry was not read.
enum Unread {
    /// It is larger than the limit it was read with, but may be read with a higher one.
    Larger,
    /// It is not a regular file of at most [`MAX_ENTRY_BYTES`], or could not be read.
    Damaged(String),
}

impl From<String> for Unread {
    fn from(reason: String) -> Self {
        Unread::Damaged(reason)
    }
}

/// The bytes of the regular file at `path`, at most `limit` of them: `None` when there is no
/// file. A link is not followed (a committed directory could hold one to anything), and
/// nothing but a regular file is read: a FIFO would block, a device never end. A file of more
/// than `limit` bytes is [`Unread::Larger`] below [`MAX_ENTRY_BYTES`], and damaged above.
fn read_regular(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, Unread> {
    let unreadable = |error: io::Error| format!("it could not be read: {error}");
    let found = match fs::symlink_metadata(path) {
        Ok(found) => found,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(unreadable(error).into()),
    };
    check_regular(&found, limit)?;
    let file = match open_no_follow(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(unreadable(error).into()),
    };
    // What was opened, in case the entry was replaced since it was looked at.
    let opened = file.metadata().map_err(unreadable)?;
    check_regular(&opened, limit)?;
    let mut bytes = Vec::with_capacity(usize::try_from(opened.len()).unwrap_or(0));
    // One byte past the limit tells a file that grew since from one that fits.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if u64::try_from(bytes.len()).map_or(true, |len| len > limit) {
        return Err(match limit < MAX_ENTRY_BYTES {
            true => Unread::Larger,
            false => Unread::Damaged(format!("it is larger than {limit} bytes")),
        });
    }
    Ok(Some(bytes))
}

/// A regular file of at most `limit` bytes, else why not.
fn check_regular(metadata: &fs::Metadata, limit: u64) -> Result<(), Unread> {
    let kind = metadata.file_type();
    if kind.is_symlink() {
        return Err(Unread::Damaged(
            "it is a symbolic link, which is not followed".into(),
        ));
    }
    if !kind.is_file() {
        return Err(Unread::Damaged("it is not a regular file".into()));
    }
    if metadata.len() > limit {
        if limit < MAX_ENTRY_BYTES && metadata.len() <= MAX_ENTRY_BYTES {
            return Err(Unread::Larger);
        }
        return Err(Unread::Damaged(format!(
            "it is {} bytes, more than the {MAX_ENTRY_BYTES} an entry may have",
            metadata.len()
        )));
    }
    Ok(())
}

/// Opens `path` to read, failing on a link rather than following it, and never blocking (a
/// FIFO put there after it was looked at opens at once; it is then refused as not a regular
/// file).
#[cfg(unix)]
fn open_no_follow(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// Opens `path` to read; the metadata of what was opened is checked after.
#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> io::Result<fs::File> {
    OpenOptions::new().read(true).open(path)
}

/// Writes the entry `text` at `path`: into a new temporary file beside it, flushed to disk,
/// then renamed over `path`. Readers see the old entry or the new one, never a part; of
/// concurrent writers of one key, the last rename wins and every one leaves a whole entry.
pub(crate) fn write(path: &Path, text: &[u8]) -> io::Result<()> {
    if u64::try_from(text.len()).map_or(true, |len| len > MAX_ENTRY_BYTES) {
        return Err(io::Error::other(format!(
            "the entry would be {} bytes, more than the {MAX_ENTRY_BYTES} an entry may have",
            text.len()
        )));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let temp = temp_path(path);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(text)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// The text of a call's entry: pretty-printed.
pub(crate) fn render_call(route: &Route, request: &Value, response: &Value) -> String {
    let mut out = head(route, request);
    out.push_str(",\n  \"response\": ");
    nested(&mut out, response);
    out.push_str("\n}\n");
    out
}

/// The text of a stream's entry: pretty-printed, its events (`list`, as recorded) one a line.
pub(crate) fn render_stream(route: &Route, request: &Value, list: &str) -> String {
    let mut out = head(route, request);
    out.reserve(list.len().saturating_add(32));
    frames::render(&mut out, list);
    out
}

/// The entry's text up to its answer.
fn head(route: &Route, request: &Value) -> String {
    let mut out = format!(
        "{{\n  \"opper_cache\": {FORMAT},\n  \"endpoint\": {},\n  \"request\": ",
        Value::from(route.path.as_ref())
    );
    nested(&mut out, request);
    out
}

/// Pretty JSON one level in: JSON text holds no raw newline but between tokens.
fn nested(out: &mut String, value: &Value) {
    // `Value`'s pretty `Display` writes into a string and cannot fail.
    for line in format!("{value:#}").split('\n').enumerate() {
        if line.0 > 0 {
            out.push_str("\n  ");
        }
        out.push_str(line.1);
    }
}

/// A fresh name beside `path`: hidden, unique to this process and write, ending in `.tmp`.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(
        ".{name}.{}-{:016x}.tmp",
        std::process::id(),
        fastrand::u64(..)
    ))
}
