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
//! A stream's entry holds `"chunks": [...]` (v2) or `"frames": [...]` (v3) instead of
//! `"response"`: what the wire sent, in order, one per line. The request is the body as sent, but for the values of the model's extra
//! headers, hashed (`key::redact_headers`): no header value, and no API key, is ever written.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::key::{Key, Route};
use super::seen::{self, Identity, Spans};
use crate::protocol::Endpoint;
use crate::protocol::v2::chunk;

/// The version of the file format, written as `opper_cache`.
const FORMAT: u32 = 1;

/// What an entry can answer with: a `/v2/call` response or a stream's chunks.
pub(crate) trait Answer: Sized {
    /// The endpoint that answers with it.
    const ENDPOINT: Endpoint;

    /// Takes the answer out of an entry read back, or says why the entry holds none.
    fn take(stored: Stored) -> Result<Self, String>;
}

/// What an entry holds besides its request: one of these is the answer.
pub(crate) struct Stored {
    response: Option<Box<RawValue>>,
    chunks: Option<StoredChunks>,
    frames: Option<Vec<Value>>,
}

/// The body of a `/v2/call` response, as stored.
#[derive(Debug)]
pub(crate) struct CallAnswer(pub(crate) Box<RawValue>);

impl Answer for CallAnswer {
    const ENDPOINT: Endpoint = Endpoint::Call;

    fn take(stored: Stored) -> Result<Self, String> {
        let streamed = stored.chunks.is_some() || stored.frames.is_some();
        match (stored.response, streamed) {
            (Some(response), false) if response.get().starts_with('{') => Ok(Self(response)),
            (Some(_), false) => Err("its response is not a JSON object".into()),
            _ => Err("it holds no single `response`".into()),
        }
    }
}

/// A stream's answer, in order, as stored: v2's chunks, or v3's frames as they came (each
/// `content` frame's data, then `{"event": "complete", "data": ...}`), replayed through the
/// same decoding as a live stream.
#[derive(Debug)]
pub(crate) enum StreamAnswer {
    /// v2: `"chunks"`, as recorded (each chunk's JSON).
    Chunks(Vec<Value>),
    /// v2: `"chunks"`, as read back from an entry: each decoded as it is replayed.
    Stored(StoredChunks),
    /// v3: `"frames"`.
    Frames(Vec<Value>),
}

impl StreamAnswer {
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Self::Chunks(chunks) => chunks.is_empty(),
            Self::Stored(chunks) => chunks.spans.is_empty(),
            Self::Frames(frames) => frames.is_empty(),
        }
    }

    pub(crate) fn has_error(&self) -> bool {
        match self {
            Self::Chunks(chunks) => chunks.iter().any(chunk::is_error),
            Self::Stored(chunks) => chunks.has_error,
            Self::Frames(_) => false,
        }
    }
}

impl Answer for StreamAnswer {
    const ENDPOINT: Endpoint = Endpoint::Stream;

    fn take(stored: Stored) -> Result<Self, String> {
        let answer = match (stored.response, stored.chunks, stored.frames) {
            (None, Some(chunks), None) => Self::Stored(chunks),
            (None, None, Some(frames)) => Self::Frames(frames),
            _ => return Err("it holds no single `chunks` or `frames` list".into()),
        };
        if answer.is_empty() {
            return Err("it holds no chunks".into());
        }
        if answer.has_error() {
            return Err("it holds an error chunk".into());
        }
        Ok(answer)
    }
}

/// A v2 stream's chunks read back from an entry: the entry's text and where each chunk is in
/// it. Each chunk was checked when the entry was read, as a v2 chunk is read but
/// without building it ([`chunk::check`]); it is built only as it is replayed, as a live stream
/// builds each chunk as it arrives. So opening a long stream's entry reads and checks it once,
/// and builds nothing (and the same text read again in this process is not checked again:
/// `seen`).
pub(crate) struct StoredChunks {
    text: String,
    spans: Spans,
    /// Whether a chunk is an error chunk.
    has_error: bool,
}

impl std::fmt::Debug for StoredChunks {
    /// The counts, not the text (a long stream's is megabytes).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredChunks")
            .field("chunks", &self.spans.len())
            .field("bytes", &self.text.len())
            .field("has_error", &self.has_error)
            .finish()
    }
}

impl StoredChunks {
    /// The first chunk's text.
    pub(crate) fn first(&self) -> Option<&str> {
        let span = self.spans.first()?.clone();
        self.text.get(span)
    }

    /// The text of the chunk at `span`, decoded by the stream as a live event's data is.
    fn text_at(&self, span: Range<usize>) -> String {
        self.text.get(span).unwrap_or_default().to_owned()
    }
}

impl IntoIterator for StoredChunks {
    type Item = String;
    type IntoIter = Replaying;

    fn into_iter(self) -> Replaying {
        Replaying {
            chunks: self,
            next: 0,
        }
    }
}

/// The chunks of a [`StoredChunks`], one by one, as text.
#[derive(Debug)]
pub(crate) struct Replaying {
    chunks: StoredChunks,
    next: usize,
}

impl Iterator for Replaying {
    type Item = String;

    fn next(&mut self) -> Option<Self::Item> {
        let span = self.chunks.spans.get(self.next)?.clone();
        self.next = self.next.saturating_add(1);
        Some(self.chunks.text_at(span))
    }
}

/// What is read back. Unknown fields are ignored, for entries of a later minor format. A
/// stream's chunks are kept as their text, each checked ([`chunk::check`]).
#[derive(Deserialize)]
struct OnDisk<'a> {
    opper_cache: u32,
    endpoint: String,
    request: Value,
    #[serde(default, borrow)]
    response: Option<&'a RawValue>,
    #[serde(default, borrow)]
    chunks: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    frames: Option<Vec<Value>>,
}

/// What is stored: a `/call` response body (parsed), or a stream's chunks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AnswerRef<'a> {
    /// A `/v2/call` response body.
    Response(&'a Value),
    /// A stream's chunks, in order.
    Chunks(&'a [Value]),
    /// A v3 stream's frames, in order.
    Frames(&'a [Value]),
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
    let not_an_entry = |e: serde_json::Error| format!("it is not a cache entry: {e}");
    let text = String::from_utf8(bytes).map_err(|e| format!("it is not UTF-8: {e}"))?;
    // This text was checked here before: where its answer is is known.
    let identity = Identity::of(&text);
    if let Some(spans) = seen::spans(path, identity, key) {
        return A::take(match A::ENDPOINT {
            Endpoint::Call => Stored {
                response: Some(raw_at(&text, spans.first().cloned())?),
                chunks: None,
                frames: None,
            },
            Endpoint::Stream => Stored {
                response: None,
                chunks: Some(StoredChunks {
                    text,
                    spans,
                    has_error: false,
                }),
                frames: None,
            },
        });
    }
    let stored: OnDisk<'_> = serde_json::from_str(&text).map_err(not_an_entry)?;
    if stored.opper_cache != FORMAT {
        return Err(format!(
            "its format is {}, not {FORMAT}",
            stored.opper_cache
        ));
    }
    let endpoint = &route.path;
    if stored.endpoint != *endpoint {
        return Err(format!("it answers {}, not {endpoint}", stored.endpoint));
    }
    if Key::of(route, &stored.request) != key {
        return Err("its request is not the one asked for".into());
    }
    let chunks = match &stored.chunks {
        None => None,
        Some(raw) => Some(check_chunks(&text, raw)?),
    };
    // What is remembered once the answer is taken: where the chunks are, or the response.
    let checked = match (&chunks, stored.response) {
        (Some((spans, _)), _) => Some(Arc::clone(spans)),
        (None, Some(response)) => span_in(&text, response.get()).map(|span| Spans::from([span])),
        (None, None) => None,
    };
    let OnDisk {
        response, frames, ..
    } = stored;
    let response = response.map(RawValue::to_owned);
    let answer = A::take(Stored {
        response,
        chunks: chunks.map(|(spans, has_error)| StoredChunks {
            text,
            spans,
            has_error,
        }),
        frames,
    })?;
    // An answer `take` accepted (a response alone, or chunks alone, none an error): this text
    // need not be checked again.
    if let Some(spans) = checked {
        seen::remember(path, identity, key, spans);
    }
    Ok(answer)
}

/// The response at `span` of `text`, as it was checked.
fn raw_at(text: &str, span: Option<Range<usize>>) -> Result<Box<RawValue>, String> {
    let raw = span.and_then(|span| text.get(span)).unwrap_or_default();
    serde_json::from_str(raw).map_err(|e| format!("its response could not be read again: {e}"))
}

/// Where each chunk is in `text`, each checked as a v2 chunk is read, and whether
/// one is an error chunk.
fn check_chunks(text: &str, raw: &[&RawValue]) -> Result<(Spans, bool), String> {
    let mut spans = Vec::with_capacity(raw.len());
    let mut has_error = false;
    for chunk in raw {
        has_error |= chunk::check(chunk.get())
            .map_err(|e| format!("it is not a cache entry: a chunk is not one: {e}"))?;
        let span = span_in(text, chunk.get()).ok_or("a chunk is not in the entry's text")?;
        spans.push(span);
    }
    Ok((spans.into(), has_error))
}

/// Where `part`, a slice of `whole`, is in it.
fn span_in(whole: &str, part: &str) -> Option<Range<usize>> {
    let start = part.as_ptr().addr().checked_sub(whole.as_ptr().addr())?;
    let end = start.checked_add(part.len())?;
    whole.get(start..end).map(|_| start..end)
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

/// Writes an entry at `path`: into a new temporary file beside it, flushed to disk, then
/// renamed over `path`. Readers see the old entry or the new one, never a part; of concurrent
/// writers of one key, the last rename wins and every one leaves a whole entry.
pub(crate) fn write(
    path: &Path,
    route: &Route,
    request: &Value,
    answer: AnswerRef<'_>,
) -> io::Result<()> {
    let text = render(route, request, answer)?;
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
        file.write_all(&text)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// The entry's text: pretty-printed, except that each chunk of a stream is one line.
fn render(route: &Route, request: &Value, answer: AnswerRef<'_>) -> io::Result<Vec<u8>> {
    /// Pretty JSON one level in: JSON text holds no raw newline but between tokens.
    fn nested(out: &mut Vec<u8>, value: &Value) -> io::Result<()> {
        for byte in serde_json::to_vec_pretty(value)? {
            out.push(byte);
            if byte == b'\n' {
                out.extend_from_slice(b"  ");
            }
        }
        Ok(())
    }
    let mut out = format!(
        "{{\n  \"opper_cache\": {FORMAT},\n  \"endpoint\": {},\n  \"request\": ",
        Value::from(route.path.as_ref())
    )
    .into_bytes();
    nested(&mut out, request)?;
    match answer {
        AnswerRef::Response(response) => {
            out.extend_from_slice(b",\n  \"response\": ");
            nested(&mut out, response)?;
            out.extend_from_slice(b"\n}\n");
        }
        AnswerRef::Chunks(chunks) => {
            out.extend_from_slice(b",\n  \"chunks\": [");
            for (i, chunk) in chunks.iter().enumerate() {
                out.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
                serde_json::to_writer(&mut out, chunk)?;
            }
            out.extend_from_slice(b"\n  ]\n}\n");
        }
        AnswerRef::Frames(frames) => {
            out.extend_from_slice(b",\n  \"frames\": [");
            for (i, frame) in frames.iter().enumerate() {
                out.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
                serde_json::to_writer(&mut out, frame)?;
            }
            out.extend_from_slice(b"\n  ]\n}\n");
        }
    }
    Ok(out)
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
