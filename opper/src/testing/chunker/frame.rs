//! Building the events of a `/call/stream` response and framing them as the service does.

use std::io;

use serde::Serialize;
use serde_json::Value;

use crate::protocol::v2::chunk::ChunkType;
use crate::protocol::v2::chunk::StreamingChunk;

/// Constructors and framing for tests and offline runs (crate feature `testing`): what
/// [`MockServer`](crate::testing::MockServer) sends, and what
/// [`Reply::chunks`](crate::testing::Reply::chunks) takes.
///
/// ```
/// use opper::testing::StreamingChunk;
/// use serde_json::json;
///
/// let chunk = StreamingChunk::json("response.name", json!("Ann"));
/// assert_eq!(
///     chunk.to_sse(),
///     "data: {\"delta\": \"Ann\", \"json_path\": \"response.name\", \"chunk_type\": \"json\"}\n\n"
/// );
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
impl StreamingChunk {
    /// The first event of a stream: `{"span_id": "..."}`.
    pub fn span(span_id: impl Into<String>) -> Self {
        Self {
            span_id: Some(span_id.into()),
            ..Self::default()
        }
    }

    /// A structured-mode chunk: `{"delta": ..., "json_path": ..., "chunk_type": "json"}`.
    pub fn json(json_path: impl Into<String>, delta: impl Into<Value>) -> Self {
        Self {
            delta: Some(delta.into()),
            json_path: Some(json_path.into()),
            chunk_type: Some(ChunkType::Json),
            ..Self::default()
        }
    }

    /// A text-mode chunk: `{"delta": "...", "chunk_type": "text"}`.
    pub fn text(delta: impl Into<String>) -> Self {
        Self {
            delta: Some(Value::String(delta.into())),
            chunk_type: Some(ChunkType::Text),
            ..Self::default()
        }
    }

    /// An error chunk: `{"chunk_type": "error", "error_type": ..., "error_message": ...}`.
    pub fn error(error_type: impl Into<String>, error_message: impl Into<String>) -> Self {
        Self {
            chunk_type: Some(ChunkType::Error),
            error_type: Some(error_type.into()),
            error_message: Some(error_message.into()),
            ..Self::default()
        }
    }

    /// The chunk framed as one Server-Sent Event, `data: {json}\n\n`: fields that are `None`
    /// left out, keys in the service's order (`span_id`, `delta`, `json_path`, `chunk_type`,
    /// `error_type`, `error_message`), separated as Python's `json.dumps` does (`", "`, `": "`).
    pub fn to_sse(&self) -> String {
        format!("data: {}\n\n", python_json(self))
    }
}

/// Serializes like Python's `json.dumps` with its default separators (`", "` and `": "`), keys
/// in the order the value gives them.
pub(crate) fn python_json(value: &impl Serialize) -> String {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonStyle);
    // Chunks and `Value`s always serialize; should one not, the event is left empty.
    if value.serialize(&mut serializer).is_err() {
        out.clear();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// serde_json's compact output with Python's separators.
struct PythonStyle;

/// `, ` before every item but the first.
fn comma<W: ?Sized + io::Write>(writer: &mut W, first: bool) -> io::Result<()> {
    if first {
        Ok(())
    } else {
        writer.write_all(b", ")
    }
}

impl serde_json::ser::Formatter for PythonStyle {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        comma(writer, first)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        comma(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }
}
