//! What the mock server answers: scripted replies and injected faults.

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use crate::protocol::v2::chunk::StreamingChunk;
use crate::testing::chunker::ChunkOptions;

#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// Generated from the request's `output_schema` (or text when there is none).
    Generated,
    Json(Value),
    Text(String),
    /// A status with an optional raw body; without one, the error body of the request's API
    /// version, with this error type and message when given.
    Status {
        status: u16,
        body: Option<Bytes>,
        content_type: Option<String>,
        error: Option<(String, String)>,
    },
    /// A v3 202 PendingResponse with one pending operation.
    Pending {
        id: String,
        kind: String,
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
/// A reply serves every endpoint of both API versions: a [`json`](Reply::json) reply is the
/// `json_payload` of a `/v2/call` response and is streamed in `json_path` chunks on
/// `/v2/call/stream`; on v3 it is the `data` of a `/v3/functions/{name}/call` response and, on
/// `/stream`, its JSON text in small `content` deltas, then `done`, `complete` and `[DONE]`.
/// Status and error replies answer in each version's error shape. A few parts are one
/// version's only: [`span_id`](Reply::span_id), [`cached`](Reply::cached),
/// [`cost`](Reply::cost) and [`chunks`](Reply::chunks) are v2's, [`meta`](Reply::meta) and
/// [`pending`](Reply::pending) v3's.
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
/// sends only the span event, `drop_after(3)` the span event and two chunks. A v3 stream has
/// no span event: there `drop_after(2)` sends two `content` deltas, and `done`, `complete`
/// and `[DONE]` are one event each.
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
    pub(crate) meta: Option<Value>,
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
            meta: None,
        }
    }

    /// Answers with this structured output: `json_payload` on `/call`, `chunk_type` `"json"`
    /// chunks on `/call/stream`; on v3, `data`, and its JSON text in `content` deltas.
    pub fn json(value: impl Into<Value>) -> Self {
        Self::with(Body::Json(value.into()))
    }

    /// Answers with this text: `message` on `/call` (`json_payload` null), `chunk_type`
    /// `"text"` chunks on `/call/stream`; on v3, `data` is the string, streamed in small
    /// `content` deltas.
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
    /// [`json_body`](Reply::json_body) says otherwise, the API's error body for it on any
    /// endpoint: v2's `{"type": ..., "message": ..., "detail": null}`, v3's
    /// `{"error": {"code": ..., "message": ..., "details": null}}` (`code` such as
    /// `"rate_limited"` for 429, `"internal_error"` for 500).
    pub fn status(status: u16) -> Self {
        Self::with(Body::Status {
            status,
            body: None,
            content_type: None,
            error: None,
        })
    }

    /// Answers with an error in the API's shape: on v2
    /// `{"type": error_type, "message": message, "detail": null}`, on v3
    /// `{"error": {"code": <the status's code>, "message": message, "details": null}}`.
    ///
    /// ```
    /// let reply = opper::testing::Reply::api_error(429, "TooManyRequestsError", "slow down");
    /// # let _ = reply;
    /// ```
    pub fn api_error(status: u16, error_type: &str, message: &str) -> Self {
        Self::with(Body::Status {
            status,
            body: None,
            content_type: None,
            error: Some((error_type.to_owned(), message.to_owned())),
        })
    }

    /// Streams these events, each framed as `data: {json}\n\n`, and nothing else (no span
    /// event, no `complete` or `[DONE]` is added). On `/call` too, and on v3.
    pub fn events<I>(events: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Value>,
    {
        Self::with(Body::Events(events.into_iter().map(Into::into).collect()))
    }

    /// Streams these v2 chunks, each framed as `data: {json}\n\n`, in the service's key order,
    /// and nothing else (no span event is added), on every endpoint.
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
    /// split across writes. On v3 endpoints too: this is how to script raw v3 frames (an
    /// `event: complete` line, a stream without `[DONE]`, unknown `type`s).
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
            error: None,
        };
        self
    }

    /// Sets a JSON body for a [`status`](Reply::status) reply.
    pub fn json_body(mut self, body: Value) -> Self {
        self.body = Body::Status {
            status: self.status_code().unwrap_or(200),
            body: Some(Bytes::from(body.to_string())),
            content_type: Some("application/json".to_owned()),
            error: None,
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
    /// stream; on v3 the chunk is `{"type": "error", "error": message}` and nothing follows
    /// it. On `/call`: answers 500 with the API's error body (on v3 with `error_type` as its
    /// `code`).
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

    /// The `span_id` of a v2 response (default: a fresh UUID-like id per request). v3 has no
    /// span id: set `trace_uuid` with [`meta`](Reply::meta).
    pub fn span_id(mut self, span_id: impl Into<String>) -> Self {
        self.span_id = Some(span_id.into());
        self
    }

    /// The `cached` flag of a `/call` response (default `false`).
    pub fn cached(mut self, cached: bool) -> Self {
        self.cached = cached;
        self
    }

    /// The `usage` object of a `/call` response, and on v3 of `meta` and the stream's `done`
    /// chunk (default: token counts estimated from the sizes of the request and the output).
    pub fn usage(mut self, usage: Value) -> Self {
        self.usage = Some(usage);
        self
    }

    /// The `cost` object of a v2 `/call` response (default: derived from the usage). On v3,
    /// `cost` is a number in `meta`: set it with [`meta`](Reply::meta).
    pub fn cost(mut self, cost: Value) -> Self {
        self.cost = Some(cost);
        self
    }

    /// v3 only: fields set over the default `meta` of the answer (of `/call`, of the stream's
    /// `complete` event, of a [`pending`](Reply::pending) answer), such as `trace_uuid`,
    /// `cost`, `usage`, `models_used`, `script_cached`; a field set to `null` is sent as
    /// `null`. The stream's `done` chunk carries the resulting `usage`. A value that is not an
    /// object changes nothing.
    ///
    /// The default `meta`: `function_name`, `script_cached: false`, `execution_ms`,
    /// `llm_calls: 1`, `tts_calls: 0`, `image_gen_calls: 0`, `cost` (a number),
    /// `usage: {input_tokens, output_tokens}`, `trace_uuid` (a fresh UUID per request) and
    /// `models_used` (the request's first model, else `"mock/default"`).
    ///
    /// ```
    /// use opper::testing::Reply;
    /// use serde_json::json;
    ///
    /// let reply = Reply::json(json!({"sum": 9})).meta(json!({
    ///     "trace_uuid": "123e4567-e89b-12d3-a456-426614174000",
    ///     "cost": 0.25,
    ///     "usage": {"input_tokens": 10, "output_tokens": 3},
    /// }));
    /// # let _ = reply;
    /// ```
    pub fn meta(mut self, fields: Value) -> Self {
        self.meta = Some(fields);
        self
    }

    /// v3's `202 Accepted` PendingResponse, the answer of work that is not done (media
    /// generation): `{"data": null, "meta": {"function_name", "status": "pending",
    /// "execution_ms", "pending_operations": [{"id": id, "status_url":
    /// "/v3/artifacts/{id}/status", "type": kind}]}}`, on every endpoint (v2 has no such answer;
    /// it gets the same body). [`meta`](Reply::meta) changes its `meta`.
    ///
    /// ```
    /// let reply = opper::testing::Reply::pending("art_123", "image");
    /// # let _ = reply;
    /// ```
    pub fn pending(id: impl Into<String>, kind: impl Into<String>) -> Self {
        Self::with(Body::Pending {
            id: id.into(),
            kind: kind.into(),
        })
    }
}
