//! What every version's wire decodes into, in the crate's own terms: which endpoint a request
//! goes to, and the frames of a stream (no version's wire struct travels above `protocol`).

use serde_json::Value;

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

/// One step of a stream, whatever the version.
#[derive(Debug, Clone)]
pub(crate) enum Frame {
    /// The call's span id, sent alone (v2's first chunk, usually).
    SpanId(String),
    /// A piece of the output at a `json_path` (v2 structured output, such as
    /// `response.people[0].name`), or with none a piece of the text output (v2 text mode).
    Delta {
        /// Where the value belongs; `None` in text mode.
        path: Option<String>,
        /// The increment: text, a number or a boolean.
        value: Value,
    },
    /// A piece of the model's text (v3 `content`): the JSON document with an output schema,
    /// else the text output.
    Text(String),
    /// A tool call's start or arguments (v3 `tool_call_start`, `tool_call_delta`), the event
    /// as sent: for the raw chunk stream only; a typed stream skips it.
    ToolCall(Value),
    /// The final answer (v3 `complete`): the output, as the JSON text it arrived in (the
    /// event's data, moved, not copied), and its metadata.
    Complete(Box<Response<OutputText>>),
    /// The end of the stream (v3 `[DONE]`): nothing after it is read.
    Done,
}

/// A decoded event: its frame, and the span id it carried beside it.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) frame: Frame,
    /// The call's span id, when the event carried one beside its frame (a v2 chunk with both a
    /// span id and a delta). A span id sent alone is [`Frame::SpanId`].
    pub(crate) span_id: Option<String>,
}

impl Decoded {
    /// An event that carries only `frame`.
    pub(crate) fn frame(frame: Frame) -> Self {
        Self {
            frame,
            span_id: None,
        }
    }

    /// The call's span id the event carried, alone or beside its frame.
    pub(crate) fn span_id(&self) -> Option<&str> {
        match &self.frame {
            Frame::SpanId(id) => Some(id),
            _ => self.span_id.as_deref(),
        }
    }
}

/// Whether an event's `data` carries anything (keep-alives and `[DONE]` do not): the idle
/// timeout counts only those that do. The same for every version.
pub(crate) fn carries_data(data: &str) -> bool {
    // The common case, without trimming.
    if data.starts_with('{') {
        return true;
    }
    let data = data.trim();
    !data.is_empty() && data != "[DONE]"
}
