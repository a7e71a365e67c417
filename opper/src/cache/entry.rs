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
//! A stream's entry holds `"chunks": [...]` instead of `"response"`: its `StreamingChunk`s in
//! order, one per line. The request is the body as sent, but for the values of the model's extra
//! headers, hashed (`key::redact_headers`): no header value, and no API key, is ever written.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::key::{Key, Route};
use crate::protocol::Endpoint;
use crate::protocol::v2::StreamingChunk;

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
    chunks: Option<Vec<StreamingChunk>>,
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
    /// v2: `"chunks"`.
    Chunks(Vec<StreamingChunk>),
    /// v3: `"frames"`.
    Frames(Vec<Value>),
}

impl StreamAnswer {
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Self::Chunks(chunks) => chunks.is_empty(),
            Self::Frames(frames) => frames.is_empty(),
        }
    }

    pub(crate) fn has_error(&self) -> bool {
        match self {
            Self::Chunks(chunks) => chunks.iter().any(StreamingChunk::is_error),
            Self::Frames(_) => false,
        }
    }
}

impl Answer for StreamAnswer {
    const ENDPOINT: Endpoint = Endpoint::Stream;

    fn take(stored: Stored) -> Result<Self, String> {
        let answer = match (stored.response, stored.chunks, stored.frames) {
            (None, Some(chunks), None) => Self::Chunks(chunks),
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

/// What is read back. Unknown fields are ignored, for entries of a later minor format.
#[derive(Deserialize)]
struct OnDisk {
    opper_cache: u32,
    endpoint: String,
    request: Value,
    #[serde(default)]
    response: Option<Box<RawValue>>,
    #[serde(default)]
    chunks: Option<Vec<StreamingChunk>>,
    #[serde(default)]
    frames: Option<Vec<Value>>,
}

/// What is stored: a `/call` response body (parsed), or a stream's chunks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AnswerRef<'a> {
    /// A `/v2/call` response body.
    Response(&'a Value),
    /// A stream's chunks, in order.
    Chunks(&'a [StreamingChunk]),
    /// A v3 stream's frames, in order.
    Frames(&'a [Value]),
}

/// The largest entry read or written: 64 MiB. A larger file is a miss (logged); a larger
/// answer is not stored.
pub(crate) const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

/// Reads the entry at `path`, which must answer `key` with an `A`.
///
/// `Ok(None)` when there is no file; `Err(reason)` when there is one that is not a valid entry
/// for this key (damaged, truncated, of another format or another request), or that is not a
/// regular file of at most [`MAX_ENTRY_BYTES`] (a link, a FIFO, a device, a directory).
pub(crate) fn read<A: Answer>(path: &Path, route: &Route, key: Key) -> Result<Option<A>, String> {
    let Some(bytes) = read_regular(path, MAX_ENTRY_BYTES)? else {
        return Ok(None);
    };
    let stored: OnDisk =
        serde_json::from_slice(&bytes).map_err(|e| format!("it is not a cache entry: {e}"))?;
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
    A::take(Stored {
        response: stored.response,
        chunks: stored.chunks,
        frames: stored.frames,
    })
    .map(Some)
}

/// The bytes of the regular file at `path`, at most `limit` of them: `None` when there is no
/// file. A link is not followed (a committed directory could hold one to anything), and
/// nothing but a regular file is read: a FIFO would block, a device never end.
fn read_regular(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, String> {
    let unreadable = |error: io::Error| format!("it could not be read: {error}");
    let found = match fs::symlink_metadata(path) {
        Ok(found) => found,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(unreadable(error)),
    };
    check_regular(&found, limit)?;
    let file = match open_no_follow(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(unreadable(error)),
    };
    // What was opened, in case the entry was replaced since it was looked at.
    check_regular(&file.metadata().map_err(unreadable)?, limit)?;
    let mut bytes = Vec::new();
    // One byte past the limit tells a file that grew since from one that fits.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if u64::try_from(bytes.len()).map_or(true, |len| len > limit) {
        return Err(format!("it is larger than {limit} bytes"));
    }
    Ok(Some(bytes))
}

/// A regular file of at most `limit` bytes, else why not.
fn check_regular(metadata: &fs::Metadata, limit: u64) -> Result<(), String> {
    let kind = metadata.file_type();
    if kind.is_symlink() {
        return Err("it is a symbolic link, which is not followed".into());
    }
    if !kind.is_file() {
        return Err("it is not a regular file".into());
    }
    if metadata.len() > limit {
        return Err(format!(
            "it is {} bytes, more than the {limit} an entry may have",
            metadata.len()
        ));
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
