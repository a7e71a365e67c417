//! What both versions' wires decode into: which endpoint a request goes to, and the frames of a
//! stream.

use std::ops::Range;

use serde_json::Value;

use crate::Response;
use crate::protocol::v2::StreamingChunk;

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
    /// The final answer (v3 `complete`): the output, as the JSON text it arrived in, and its
    /// metadata.
    Complete(Box<Final>),
    /// The end of the stream (v3 `[DONE]`): nothing after it is read.
    Done,
}

/// A stream's final answer (v3 `complete`). Its output is held once, as the text it arrived
/// in (the event's data, moved, not copied): decoded only where it is used, straight into the
/// output type.
#[derive(Debug, Clone)]
pub(crate) struct Final {
    /// The event's data, as received (or with a non-finite number of `meta` made a string:
    /// see `v3::frame`).
    text: String,
    /// Where the output is in `text`.
    output: Range<usize>,
    /// The metadata: usage, cost, trace, `meta` (its `output` is unused).
    pub(crate) answer: Response<()>,
}

impl Final {
    /// A final answer whose output is `text[output]`.
    pub(crate) fn new(text: String, output: Range<usize>, answer: Response<()>) -> Self {
        Self {
            text,
            output,
            answer,
        }
    }

    /// The output's JSON text.
    pub(crate) fn output(&self) -> &str {
        self.text.get(self.output.clone()).unwrap_or("null")
    }

    /// The event's data (for a recording).
    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

/// A decoded event: its frame, and (v3) the form it is recorded in for the cache.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) frame: Frame,
    pub(crate) record: Option<Value>,
}
