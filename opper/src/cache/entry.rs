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
//! A stream's entry holds `"chunks": [...]` (its `StreamingChunk`s in order) instead of
//! `"response"`. The request is the body as sent: no header, so no API key, is ever written.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::key::{Endpoint, Key};
use crate::sse::StreamingChunk;

/// The version of the file format, written as `opper_cache`.
const FORMAT: u32 = 1;

/// What an entry answers.
#[derive(Debug)]
pub(crate) enum Answer {
    /// The body of a `/v2/call` response.
    Call(Box<RawValue>),
    /// The chunks of a `/v2/call/stream` response, in order.
    Stream(Vec<StreamingChunk>),
}

/// What is written: borrowed, so storing copies nothing.
#[derive(Serialize)]
struct Written<'a> {
    opper_cache: u32,
    endpoint: &'static str,
    request: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chunks: Option<&'a [StreamingChunk]>,
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

/// Reads the entry at `path`, which must answer `key` on `endpoint`.
///
/// `Ok(None)` when there is no file; `Err(reason)` when there is one that is not a valid entry
/// for this key (damaged, truncated, of another format or another request).
pub(crate) fn read(path: &Path, endpoint: Endpoint, key: Key) -> Result<Option<Answer>, String> {
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
    if stored.endpoint != endpoint.path() {
        return Err(format!(
            "it answers {}, not {}",
            stored.endpoint,
            endpoint.path()
        ));
    }
    if Key::of(endpoint, &stored.request) != key {
        return Err("its request is not the one asked for".into());
    }
    match (endpoint, stored.response, stored.chunks) {
        (Endpoint::Call, Some(response), None) => {
            if !response.get().starts_with('{') {
                return Err("its response is not a JSON object".into());
            }
            Ok(Some(Answer::Call(response)))
        }
        (Endpoint::Stream, None, Some(chunks)) => {
            if chunks.is_empty() {
                return Err("it holds no chunks".into());
            }
            if chunks.iter().any(StreamingChunk::is_error) {
                return Err("it holds an error chunk".into());
            }
            Ok(Some(Answer::Stream(chunks)))
        }
        (Endpoint::Call, ..) => Err("it holds no single `response`".into()),
        (Endpoint::Stream, ..) => Err("it holds no single `chunks` list".into()),
    }
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
    let (response, chunks) = match answer {
        AnswerRef::Response(response) => (Some(response), None),
        AnswerRef::Chunks(chunks) => (None, Some(chunks)),
    };
    let written = Written {
        opper_cache: FORMAT,
        endpoint: endpoint.path(),
        request,
        response,
        chunks,
    };
    let mut text = serde_json::to_vec_pretty(&written)?;
    text.push(b'\n');

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
