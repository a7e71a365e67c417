//! What both versions' wires decode into: which endpoint a request goes to, and the frames of a
//! stream.

use crate::protocol::v2::StreamingChunk;
use crate::reask::output::OutputText;
use crate::response::Response;

/// Which endpoint of a version a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// A call, answered with one JSON body.
    Call,
    /// A stream, answered with server-sent events.
    Stream,
}

/// One step of a stream, in either version's terms.
#[derive(Debug, Clone)]
pub(crate) enum Frame {
    /// A v2 chunk: a span id, a delta at a `json_path`, or text.
    Chunk(StreamingChunk),
    /// A piece of the model's text (v3 `content`): the JSON document with an output schema,
    /// else the text output.
    Text(String),
    /// A tool call's start or arguments (v3 `tool_call_start`, `tool_call_delta`): for the raw
    /// chunk stream only; a typed stream skips it.
    ToolCall(StreamingChunk),
    /// The final answer (v3 `complete`): the output, as the JSON text it arrived in (the
    /// event's data, moved, not copied), and its metadata.
    Complete(Box<Response<OutputText>>),
    /// The end of the stream (v3 `[DONE]`): nothing after it is read.
    Done,
}
