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
//! order, one per line. The request is the body as sent: no header, so no API key, is ever written.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::key::{Endpoint, Key};
use crate::wire::StreamingChunk;

/// The version of the file format, written as `opper_cache`.
const FORMAT: u32 = 1;

/// What an entry can answer with: a `/v2/call` response or a stream's chunks.
pub(crate) trait Answer: Sized {
    /// The endpoint that answers with it.
    const ENDPOINT: Endpoint;

    /// Takes the answer out of an entry read back, or says why the entry holds none.
    fn take(
        response: Option<Box<RawValue>>,
        chunks: Option<Vec<StreamingChunk>>,
    ) -> Result<Self, String>;
}

/// The body of a `/v2/call` response, as stored.
#[derive(Debug)]
pub(crate) struct CallAnswer(pub(crate) Box<RawValue>);

impl Answer for CallAnswer {
    const ENDPOINT: Endpoint = Endpoint::Call;

    fn take(
        response: Option<Box<RawValue>>,
        chunks: Option<Vec<StreamingChunk>>,
    ) -> Result<Self, String> {
        match (response, chunks) {
            (Some(response), None) if response.get().starts_with('{') => Ok(Self(response)),
            (Some(_), None) => Err("its response is not a JSON object".into()),
            _ => Err("it holds no single `response`".into()),
        }
    }
}

/// The chunks of a `/v2/call/stream` response, in order, as stored.
#[derive(Debug)]
pub(crate) struct StreamAnswer(pub(crate) Vec<StreamingChunk>);

impl Answer for StreamAnswer {
    const ENDPOINT: Endpoint = Endpoint::Stream;

    fn take(
        response: Option<Box<RawValue>>,
        chunks: Option<Vec<StreamingChunk>>,
    ) -> Result<Self, String> {
        match (response, chunks) {
            (None, Some(chunks)) if chunks.is_empty() => Err("it holds no chunks".into()),
            (None, Some(chunks)) if chunks.iter().any(StreamingChunk::is_error) => {
                Err("it holds an error chunk".into())
            }
            (None, Some(chunks)) => Ok(Self(chunks)),
            _ => Err("it holds no single `chunks` list".into()),
        }
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
}

/// What is stored: a `/call` response body (parsed), or a stream's chunks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AnswerRef<'a> {
    /// A `/v2/call` response body.
    Response(&'a Value),
    /// A stream's chunks, in order.
    Chunks(&'a [StreamingChunk]),
}

/// Reads the entry at `path`, which must answer `key` with an `A`.
///
/// `Ok(None)` when there is no file; `Err(reason)` when there is one that is not a valid entry
/// for this key (damaged, truncated, of another format or another request).
pub(crate) fn read<A: Answer>(path: &Path, key: Key) -> Result<Option<A>, String> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("it could not be read: {error}")),
    };
    let stored: OnDisk =
        serde_json::from_slice(&bytes).map_err(|e| format!("it is not a cache entry: {e}"))?;
    if stored.opper_cache != FORMAT {
        return Err(format!(
            "its format is {}, not {FORMAT}",
            stored.opper_cache
        ));
    }
    let endpoint = A::ENDPOINT.path();
    if stored.endpoint != endpoint {
        return Err(format!("it answers {}, not {endpoint}", stored.endpoint));
    }
    if Key::of(A::ENDPOINT, &stored.request) != key {
        return Err("its request is not the one asked for".into());
    }
    A::take(stored.response, stored.chunks).map(Some)
}

/// Writes an entry at `path`: into a new temporary file beside it, flushed to disk, then
/// renamed over `path`. Readers see the old entry or the new one, never a part; of concurrent
/// writers of one key, the last rename wins and every one leaves a whole entry.
pub(crate) fn write(
    path: &Path,
    endpoint: Endpoint,
    request: &Value,
    answer: AnswerRef<'_>,
) -> io::Result<()> {
    let text = render(endpoint, request, answer)?;
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
fn render(endpoint: Endpoint, request: &Value, answer: AnswerRef<'_>) -> io::Result<Vec<u8>> {
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
        "{{\n  \"opper_cache\": {FORMAT},\n  \"endpoint\": \"{}\",\n  \"request\": ",
        endpoint.path()
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
