//! What the raw [`ChunkStream`](crate::ChunkStream) yields: a stream's frames in the crate's
//! terms, the same type for every API version.

use serde_json::Value;

use crate::protocol::Frame;

/// One chunk of a raw [`ChunkStream`](crate::ChunkStream), whatever the API version.
///
/// On [`Api::V2`](crate::Api::V2) a stream is [`SpanId`](Self::SpanId) (usually first), then
/// [`Delta`](Self::Delta)s; on [`Api::V3`](crate::Api::V3) it is [`Text`](Self::Text) (the
/// model's text) and [`ToolCall`](Self::ToolCall)s, and its final output is
/// [`ChunkStream::output`](crate::ChunkStream::output).
///
/// ```
/// # #[cfg(feature = "testing")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> opper::Result<()> {
/// use futures::StreamExt;
/// use opper::Chunk;
/// use opper::testing::{MockServer, Reply};
/// use serde_json::json;
///
/// let server = MockServer::start().await;
/// server.reply("greet", Reply::events([
///     json!({"json_path": "response.greeting", "delta": "Hel"}),
///     json!({"json_path": "response.greeting", "delta": "lo"}),
/// ]));
/// let mut chunks = server.client().call("greet").stream_raw().await?;
/// let mut greeting = String::new();
/// while let Some(chunk) = chunks.next().await {
///     match chunk? {
///         Chunk::SpanId(id) => assert_eq!(chunks.span_id(), Some(id.as_str())),
///         Chunk::Delta { json_path, delta } => {
///             assert_eq!(json_path.as_deref(), Some("response.greeting"));
///             greeting.push_str(delta.as_str().unwrap_or_default());
///         }
///         Chunk::Text(text) => greeting.push_str(&text),
///         other => println!("{other:?}"),
///     }
/// }
/// assert_eq!(greeting, "Hello");
/// # Ok(()) }
/// # #[cfg(not(feature = "testing"))]
/// # fn main() {}
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Chunk {
    /// The call's span id, sent alone (v2's first chunk, usually); also
    /// [`ChunkStream::span_id`](crate::ChunkStream::span_id) from then on.
    SpanId(String),
    /// A piece of the output (v2).
    Delta {
        /// Which field `delta` belongs to, such as `response.people[0].name`; `None` in text
        /// mode (no output schema), where `delta` is a piece of the text.
        json_path: Option<String>,
        /// The increment: text, a number or a boolean.
        delta: Value,
    },
    /// A piece of the model's text (v3 `content`): with an output schema, a piece of the
    /// JSON document the output is; without, a piece of the text output.
    Text(String),
    /// A tool call's start or arguments (v3 `tool_call_start`, `tool_call_delta`): the event
    /// as sent (`type`, `tool_call_index`, `tool_call_id`, `tool_call_name`,
    /// `tool_call_args`).
    ToolCall(Value),
}

impl Chunk {
    /// The chunk a frame is, if any (the final answer and the end are not chunks).
    pub(crate) fn of(frame: Frame) -> Option<Self> {
        Some(match frame {
            Frame::SpanId(id) => Self::SpanId(id),
            Frame::Delta { path, value } => Self::Delta {
                json_path: path,
                delta: value,
            },
            Frame::Text(text) => Self::Text(text),
            Frame::ToolCall(event) => Self::ToolCall(event),
            Frame::Complete(_) | Frame::Done => return None,
        })
    }
}
