//! What the mock server answers: scripted replies and injected faults.

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use crate::StreamingChunk;
use crate::testing::chunker::ChunkOptions;

#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// Generated from the request's `output_schema` (or text when there is none).
    Generated,
    Json(Value),
    Text(String),
    /// A status with an optional raw body.
    Status {
        status: u16,
        body: Option<Bytes>,
        content_type: Option<String>,
    },
    /// Events framed as `data: {json}\n\n`, sent as given.
    Events(Vec<Value>),
    /// Raw bytes, each piece one write.
    Raw(Vec<Bytes>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StreamFault {
    Error {
        events: usize,
        error_type: String,
        message: String,
    },
    Drop(usize),
    Stall(usize),
}

/// One scripted answer of the [`MockServer`](super::MockServer): a body (JSON output, text, an
/// error status, raw SSE) plus optional faults (delays, `Retry-After`, an error chunk, a
/// dropped connection, a stall).
///
/// A reply serves both endpoints: on `/v2/call` a [`json`](Reply::json) reply is the
/// `json_payload` of the response; on `/v2/call/stream` the same value is streamed in chunks.
///
/// How many requests a reply answers depends on how it is installed: see
/// [`MockServer::reply`](super::MockServer::reply) (every request, sticky),
/// [`MockServer::enqueue`](super::MockServer::enqueue) (the next [`times`](Reply::times)
/// requests of one task) and [`MockServer::fault`](super::MockServer::fault) (the next
/// requests of any task).
///
/// # Counting events
/// `*_after(n)` faults count the events of a stream *including* the first
/// `{"span_id": ...}` event: `drop_after(0)` sends the headers and closes, `drop_after(1)`
/// sends only the span event, `drop_after(3)` the span event and two chunks.
///
/// ```
/// use std::time::Duration;
/// use opper::testing::Reply;
/// use serde_json::json;
///
/// let ok = Reply::json(json!({"sum": 9}));
/// let busy = Reply::status(503).body("busy").retry_after(1).times(2);
/// let broken = Reply::text("Hello there, world").error_after(2, "ServerError", "boom");
/// let slow = Reply::generated().delay(Duration::from_millis(50)).chunk_delay(Duration::from_millis(5));
/// # let _ = (ok, busy, broken, slow);
/// ```
#[derive(Debug, Clone)]
pub struct Reply {
    pub(crate) body: Body,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) delay: Option<Duration>,
    pub(crate) chunk_delay: Option<Duration>,
    pub(crate) stall: bool,
    pub(crate) fault: Option<StreamFault>,
    pub(crate) times: usize,
    pub(crate) chunking: ChunkOptions,
    pub(crate) span_id: Option<String>,
    pub(crate) cached: bool,
    pub(crate) usage: Option<Value>,
    pub(crate) cost: Option<Value>,
    pub(crate) drop_connection: bool,
}

impl Reply {
    fn with(body: Body) -> Self {
        Self {
            body,
            headers: Vec::new(),
            delay: None,
            chunk_delay: None,
            stall: false,
            fault: None,
            times: 1,
            chunking: ChunkOptions::new(),
            span_id: None,
            cached: false,
            usage: None,
            cost: None,
            drop_connection: false,
        }
    }

    /// Answers with this structured output: `json_payload` on `/call`, `chunk_type` `"json"`
    /// chunks on `/call/stream`.
    pub fn json(value: impl Into<Value>) -> Self {
        Self::with(Body::Json(value.into()))
    }

    /// Answers with this text: `message` on `/call` (`json_payload` null), `chunk_type`
    /// `"text"` chunks on `/call/stream`.
    pub fn text(text: impl Into<String>) -> Self {
        Self::with(Body::Text(text.into()))
    }

    /// Answers what the server answers when nothing is scripted: a value generated from the
    /// request's `output_schema`, or a few words of text when there is none. Useful with
    /// faults: `Reply::generated().delay(..)`.
    pub fn generated() -> Self {
        Self::with(Body::Generated)
    }

    /// Answers with this HTTP status and, unless [`body`](Reply::body) or
    /// [`json_body`](Reply::json_body) says otherwise, the API's error body for it
    /// (`{"type": ..., "message": ..., "detail": null}`), on either endpoint.
    pub fn status(status: u16) -> Self {
        Self::with(Body::Status {
            status,
            body: None,
            content_type: None,
        })
    }

    /// Answers with an error in the API's shape:
    /// `{"type": error_type, "message": message, "detail": null}`.
    ///
    /// ```
    /// let reply = opper::testing::Reply::api_error(429, "TooManyRequestsError", "slow down");
    /// # let _ = reply;
    /// ```
    pub fn api_error(status: u16, error_type: &str, message: &str) -> Self {
        Self::status(status).json_body(serde_json::json!({
            "type": error_type,
            "message": message,
            "detail": null,
        }))
    }

    /// Streams these events, each framed as `data: {json}\n\n`, and nothing else (no span
    /// event is added). On `/call` too.
    pub fn events<I>(events: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Value>,
    {
        Self::with(Body::Events(events.into_iter().map(Into::into).collect()))
    }

    /// Streams these chunks, each framed as `data: {json}\n\n`, in the service's key order,
    /// and nothing else (no span event is added).
    pub fn chunks(chunks: impl IntoIterator<Item = StreamingChunk>) -> Self {
        let raw = chunks
            .into_iter()
            .map(|chunk| Bytes::from(chunk.to_sse()))
            .collect();
        Self::with(Body::Raw(raw))
    }

    /// Sends these bytes verbatim as a `text/event-stream` body, each piece in its own write
    /// (with [`chunk_delay`](Reply::chunk_delay) between pieces to keep them apart on the
    /// wire): for framing tests with CRLF, comments, `id:`/`event:`/`retry:` lines or events
    /// split across writes.
    ///
    /// ```
    /// use opper::testing::Reply;
    /// let reply = Reply::raw_sse([
    ///     ": a comment\r\n",
    ///     "event: message\r\nid: 1\r\nretry: 10\r\ndata: {\"span_id\": \"s\"}\r\n\r\n",
    ///     "data: {\"delta\": \"Hel",
    ///     "lo\", \"chunk_type\": \"text\"}\n\n",
    /// ]);
    /// # let _ = reply;
    /// ```
    pub fn raw_sse<I>(pieces: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Bytes>,
    {
        Self::with(Body::Raw(pieces.into_iter().map(Into::into).collect()))
    }

    /// Sets the raw body of a [`status`](Reply::status) reply (sent as `text/plain` unless it
    /// parses as JSON). On other replies this turns them into a status-200 reply with this body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        let body: Bytes = body.into();
        let content_type = if serde_json::from_slice::<Value>(&body).is_ok() {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        };
        self.body = Body::Status {
            status: self.status_code().unwrap_or(200),
            body: Some(body),
            content_type: Some(content_type.to_owned()),
        };
        self
    }

    /// Sets a JSON body for a [`status`](Reply::status) reply.
    pub fn json_body(mut self, body: Value) -> Self {
        self.body = Body::Status {
            status: self.status_code().unwrap_or(200),
            body: Some(Bytes::from(body.to_string())),
            content_type: Some("application/json".to_owned()),
        };
        self
    }

    fn status_code(&self) -> Option<u16> {
        match &self.body {
            Body::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Adds a `Retry-After: <seconds>` header.
    pub fn retry_after(self, seconds: u64) -> Self {
        self.header("retry-after", seconds.to_string())
    }

    /// Adds a response header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Waits this long before sending the response headers.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Waits this long before each stream event (or raw piece) after the first.
    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = Some(delay);
        self
    }

    /// Never answers: the request hangs (after any [`delay`](Reply::delay)) until the client
    /// gives up or the server stops. For timeout tests.
    pub fn stall(mut self) -> Self {
        self.stall = true;
        self
    }

    /// On a stream: sends `events` events (counting the span event), then hangs with the
    /// connection open until the client gives up. On `/call`: the same as [`stall`](Reply::stall).
    pub fn stall_after(mut self, events: usize) -> Self {
        self.fault = Some(StreamFault::Stall(events));
        self
    }

    /// On a stream: sends `events` events (counting the span event), then an error chunk
    /// `{"chunk_type": "error", "error_type": ..., "error_message": ...}`, then ends the
    /// stream. On `/call`: answers 500 with the API's error body.
    pub fn error_after(mut self, events: usize, error_type: &str, message: &str) -> Self {
        self.fault = Some(StreamFault::Error {
            events,
            error_type: error_type.to_owned(),
            message: message.to_owned(),
        });
        self
    }

    /// On a stream: sends `events` events (counting the span event), then closes the
    /// connection abruptly, without ending the chunked body. On `/call`: closes the connection
    /// without any response.
    pub fn drop_after(mut self, events: usize) -> Self {
        self.fault = Some(StreamFault::Drop(events));
        self
    }

    /// Closes the connection without sending any response (after any
    /// [`delay`](Reply::delay)), on either endpoint.
    pub fn drop_connection(mut self) -> Self {
        self.drop_connection = true;
        self
    }

    /// How many requests a queued reply answers before it is used up (default 1). Ignored by
    /// [`MockServer::reply`](super::MockServer::reply), whose replies never run out.
    pub fn times(mut self, times: usize) -> Self {
        self.times = times;
        self
    }

    /// How the value is split into stream chunks (default [`ChunkOptions::new`]).
    pub fn chunking(mut self, options: ChunkOptions) -> Self {
        self.chunking = options;
        self
    }

    /// The `span_id` of the response (default: a fresh UUID-like id per request).
    pub fn span_id(mut self, span_id: impl Into<String>) -> Self {
        self.span_id = Some(span_id.into());
        self
    }

    /// The `cached` flag of a `/call` response (default `false`).
    pub fn cached(mut self, cached: bool) -> Self {
        self.cached = cached;
        self
    }

    /// The `usage` object of a `/call` response (default: token counts estimated from the
    /// sizes of the request and the output).
    pub fn usage(mut self, usage: Value) -> Self {
        self.usage = Some(usage);
        self
    }

    /// The `cost` object of a `/call` response (default: derived from the usage).
    pub fn cost(mut self, cost: Value) -> Self {
        self.cost = Some(cost);
        self
    }
}
