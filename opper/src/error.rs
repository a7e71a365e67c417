//! The one error type of the crate.

use std::fmt::{self, Write as _};
use std::time::Duration;

use serde_json::Value;

use crate::api::Api;

/// `Result<T, opper::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error body returned by the Opper API, with its HTTP status.
///
/// The API answers errors as `{"type": "...", "message": "...", "detail": ...}`; any other body
/// (not JSON, or another shape) is kept verbatim in [`ApiError::body`]. At most
/// [`ApiError::MAX_BODY_BYTES`] of a body are read and kept: a longer one is cut there
/// ([`ApiError::truncated`]) and its connection dropped.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status code.
    pub status: u16,
    /// The error's `type`, such as `"BadRequestError"`, when the body had one.
    pub error_type: Option<String>,
    /// The error's `message`, when the body had one.
    pub message: Option<String>,
    /// The error's `detail`, when the body had one (for a 422: `loc`, `msg`, `type`, `input`).
    pub detail: Option<Value>,
    /// The response body, as text: the whole body, or its first
    /// [`MAX_BODY_BYTES`](Self::MAX_BODY_BYTES) when [`truncated`](Self::truncated).
    pub body: String,
    /// Whether the body was longer than [`MAX_BODY_BYTES`](Self::MAX_BODY_BYTES) and only its
    /// start is in [`body`](Self::body) (then `error_type`, `message` and `detail` are usually
    /// missing: a cut body is not JSON).
    pub truncated: bool,
    /// The wait the server asked for in `Retry-After`, if it sent one (delay-seconds or a date),
    /// at most [`MAX_RETRY_AFTER`](Self::MAX_RETRY_AFTER): a longer one, however large, reads
    /// as that cap. A negative or unreadable value counts as none.
    pub retry_after: Option<Duration>,
    /// How many times the request was sent, this answer's attempt included: 1 unless the
    /// [`RetryPolicy`](crate::RetryPolicy) retried it.
    pub attempts: u32,
}

impl ApiError {
    /// How much of an error body is read and kept: 8 KiB (or less, when
    /// [`OpperBuilder::max_response_bytes`](crate::OpperBuilder::max_response_bytes) is lower).
    pub const MAX_BODY_BYTES: usize = 8 * 1024;

    /// The longest [`retry_after`](Self::retry_after) kept: one day. A retry policy waits out
    /// a `Retry-After` only up to its own `max_delay`, so a wait this long returns the error.
    pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
}

/// The [`source`](std::error::Error::source) of the [`Error`] variants of an error status, boxed
/// as they hold it (`source.downcast_ref::<Box<ApiError>>()`); [`Error::api_error`] is the typed
/// way to it.
impl std::error::Error for ApiError {}

impl fmt::Display for ApiError {
    /// The status, the error's type and message (or the start of the body), with control
    /// characters escaped (see [`Error`]'s `Display`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let f = &mut Escaping(f);
        write!(f, "HTTP {}", self.status)?;
        if let Some(kind) = &self.error_type {
            write!(f, " {kind}")?;
        }
        match (&self.message, self.body.is_empty()) {
            (Some(message), _) => write!(f, ": {}", truncate(message, ApiError::MAX_BODY_BYTES))?,
            (None, false) => write!(f, ": {}", truncate(&self.body, 300))?,
            (None, true) => {}
        }
        if self.truncated {
            write!(f, " (body cut at {} bytes)", self.body.len())?;
        }
        Ok(())
    }
}

/// An operation the API is still working on, from a v3 `202 Accepted` answer
/// ([`Error::Pending`]); `GET /v3/artifacts/{id}/status` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingOperation {
    /// The operation's id.
    pub id: Option<String>,
    /// Where its status can be read.
    pub status_url: Option<String>,
    /// What it is (its `type`, such as `image`).
    pub kind: Option<String>,
}

impl PendingOperation {
    /// How many pending operations an [`Error::Pending`] keeps: the first 64.
    pub const MAX_KEPT: usize = 64;
    /// How much of each field is kept: 2 KiB.
    pub const MAX_FIELD_BYTES: usize = 2 * 1024;
}

/// A failure of the transport: connecting, sending, reading, or a timeout. Its message says
/// what failed; the HTTP client's error, when there is one, is its [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error("{message}{}", after(*.attempts))]
pub struct TransportError {
    kind: TransportKind,
    message: String,
    /// How many times the request was sent (1 unless it was retried).
    attempts: u32,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransportKind {
    Connect,
    ConnectTimeout,
    Timeout,
    Other,
}

impl TransportError {
    pub(crate) fn from_reqwest(error: reqwest::Error) -> Self {
        let kind = if error.is_connect() && error.is_timeout() {
            TransportKind::ConnectTimeout
        } else if error.is_timeout() {
            TransportKind::Timeout
        } else if error.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Other
        };
        // reqwest's error is the source (its Display names the URL, never headers, and the URL
        // is dropped); the message is this layer's only.
        let error = error.without_url();
        let message = match kind {
            TransportKind::ConnectTimeout => "timed out while connecting",
            TransportKind::Timeout => "timed out",
            TransportKind::Connect => "could not connect",
            TransportKind::Other => "the request failed",
        }
        .to_owned();
        Self {
            kind,
            message,
            attempts: 1,
            source: Some(Box::new(error)),
        }
    }

    pub(crate) fn timeout(message: impl Into<String>) -> Self {
        Self {
            kind: TransportKind::Timeout,
            message: format!("timed out: {}", message.into()),
            attempts: 1,
            source: None,
        }
    }

    pub(crate) fn closed(message: impl Into<String>) -> Self {
        Self {
            kind: TransportKind::Other,
            message: message.into(),
            attempts: 1,
            source: None,
        }
    }

    /// How many times the request was sent: 1 unless it was retried.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether this was a timeout (connect, request or read).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.kind,
            TransportKind::Timeout | TransportKind::ConnectTimeout
        )
    }

    /// Whether the connection could not be established.
    pub fn is_connect(&self) -> bool {
        matches!(
            self.kind,
            TransportKind::Connect | TransportKind::ConnectTimeout
        )
    }
}

/// One output that a task rejected: it did not fit the output type, or its validator said why
/// it is wrong. Kept, in order, by [`Error::Rejected`].
///
/// What it keeps is bounded, however large the rejected output: an output whose compact JSON
/// is longer than [`MAX_OUTPUT_BYTES`](Self::MAX_OUTPUT_BYTES) is kept as a JSON string holding
/// the start of that JSON ([`cut`](Self::cut) says so), and a reason is cut at
/// [`MAX_REASON_BYTES`](Self::MAX_REASON_BYTES).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Rejection {
    /// The rejected output as JSON (a JSON string in text mode). When [`cut`](Self::cut): a
    /// JSON string holding the first [`MAX_OUTPUT_BYTES`](Self::MAX_OUTPUT_BYTES) (or a few
    /// less, at a character boundary) of the output's compact JSON.
    pub output: Value,
    /// Why it was rejected: the validator's message, or where and why it did not fit the type;
    /// at most [`MAX_REASON_BYTES`](Self::MAX_REASON_BYTES).
    pub reason: String,
    /// Whether the output was longer than [`MAX_OUTPUT_BYTES`](Self::MAX_OUTPUT_BYTES) and
    /// [`output`](Self::output) holds only the start of its JSON.
    pub cut: bool,
}

impl Rejection {
    /// How much of a rejected output is kept: 64 KiB of its compact JSON.
    pub const MAX_OUTPUT_BYTES: usize = 64 * 1024;
    /// How much of a reason is kept: 4 KiB.
    pub const MAX_REASON_BYTES: usize = 4 * 1024;

    /// A rejected output and the reason, each kept within its bound. The output is serialized
    /// into a bounded buffer, so a large one is never copied whole.
    pub fn new(output: Value, reason: impl Into<String>) -> Self {
        let mut reason = reason.into();
        reason = cut(reason, Self::MAX_REASON_BYTES);
        match bounded_json(&output, Self::MAX_OUTPUT_BYTES) {
            Ok(_) => Self {
                output,
                reason,
                cut: false,
            },
            Err(start) => Self {
                output: Value::String(start),
                reason,
                cut: true,
            },
        }
    }
}

/// A writer keeping at most `limit` bytes: a write past it keeps what fits and fails, which
/// stops a serializer there.
struct Bounded {
    bytes: Vec<u8>,
    limit: usize,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.limit.saturating_sub(self.bytes.len());
        if room == 0 && !buf.is_empty() {
            return Err(std::io::Error::other("the limit is reached"));
        }
        let take = buf.len().min(room);
        self.bytes
            .extend_from_slice(buf.get(..take).unwrap_or_default());
        Ok(take)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `value`'s compact JSON, serialized into a buffer of at most `limit` bytes: `Ok` with the
/// whole JSON when it fits, else `Err` with its start (cut at a character boundary). Never
/// holds more than `limit` bytes of it.
pub(crate) fn bounded_json(value: &Value, limit: usize) -> Result<String, String> {
    let mut out = Bounded {
        bytes: Vec::new(),
        limit,
    };
    let whole = serde_json::to_writer(&mut out, value).is_ok();
    let mut bytes = out.bytes;
    // serde_json writes UTF-8; a cut may fall inside a character.
    let valid = match std::str::from_utf8(&bytes) {
        Ok(_) => bytes.len(),
        Err(error) => error.valid_up_to(),
    };
    bytes.truncate(valid);
    let text = String::from_utf8(bytes).unwrap_or_default();
    if whole { Ok(text) } else { Err(text) }
}

/// Everything that can go wrong when calling an Opper task.
///
/// Errors that end a stream keep what had arrived: [`Error::partial`] returns the JSON (or text)
/// assembled before the failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No API key: neither `OPPER_API_KEY` nor `OPPER_HTTP_BEARER` is set, and none was given.
    #[error(
        "no Opper API key: set OPPER_API_KEY (or OPPER_HTTP_BEARER), or pass one to Opper::builder().api_key(..)"
    )]
    MissingApiKey,
    /// The client's configuration is not usable (a bad base URL, header, environment variable,
    /// or an API key that would be sent over plain HTTP to a remote host).
    #[error("invalid Opper client configuration: {}", escape(.message))]
    Config {
        /// What is wrong, in this layer's words.
        message: String,
        /// The error that made it so (the URL parser's, the HTTP client's), if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The task's input could not be serialized to JSON (a NaN or an infinity among them: JSON
    /// cannot carry those), reported before any request.
    #[error("the task's input could not be serialized to JSON")]
    Input(#[source] serde_json::Error),
    /// The task could not be built: its output or input schema, or one of its examples, could
    /// not be serialized. Reported on each call of the task, before any request.
    #[error("task `{}` could not be built: {}", escape(.task), escape(.reason))]
    InvalidTask {
        /// The task's name.
        task: String,
        /// What could not be built, and why.
        reason: String,
    },
    /// 400: the API rejected the request. The [`ApiError`] is its
    /// [`source`](std::error::Error::source), as for every status below.
    #[error("bad request{}", after(.0.attempts))]
    BadRequest(#[source] Box<ApiError>),
    /// 401: the API key is missing or wrong.
    #[error("unauthorized{}", after(.0.attempts))]
    Unauthorized(#[source] Box<ApiError>),
    /// 404: the API does not know what was asked for.
    #[error("not found{}", after(.0.attempts))]
    NotFound(#[source] Box<ApiError>),
    /// 422: the request did not validate; [`ApiError::detail`] says where.
    #[error("request validation failed{}{}", detail(.0), after(.0.attempts))]
    RequestValidation(#[source] Box<ApiError>),
    /// 429: too many requests (retried by default, honouring `Retry-After`).
    #[error("rate limited{}", after(.0.attempts))]
    RateLimited(#[source] Box<ApiError>),
    /// Any other non-success status, with its body kept.
    #[error("the Opper API failed{}", after(.0.attempts))]
    Api(#[source] Box<ApiError>),
    /// The request timed out before a response (for a stream: its first event) arrived: the
    /// connect timeout, the read timeout, the request timeout or the stream idle timeout; its
    /// message says which.
    #[error(transparent)]
    Timeout(TransportError),
    /// The connection failed or broke before a response arrived.
    #[error(transparent)]
    Transport(TransportError),
    /// The service sent an `error` chunk on the stream.
    #[error("the stream reported an error: {}: {}", shown(.error_type.as_deref().unwrap_or("error"), ApiError::MAX_BODY_BYTES), shown(.error_message.as_deref().unwrap_or("(no message)"), ApiError::MAX_BODY_BYTES))]
    StreamChunk {
        /// The chunk's `error_type`, cut at [`ApiError::MAX_BODY_BYTES`].
        error_type: Option<String>,
        /// The chunk's `error_message`, cut at [`ApiError::MAX_BODY_BYTES`].
        error_message: Option<String>,
        /// What the stream had assembled before the error.
        partial: Value,
    },
    /// A stream event that is not a valid JSON chunk, or a `json_path` that does not exist in
    /// the output type.
    #[error("invalid stream event ({}): {}", escape(.reason), escape(.data))]
    InvalidChunk {
        /// The event's `data` (shortened when long).
        data: String,
        /// Why it was rejected.
        reason: String,
        /// What the stream had assembled before it.
        partial: Value,
    },
    /// A stream event larger than the configured limit.
    #[error("a stream event exceeded the limit of {limit} bytes")]
    EventTooLarge {
        /// The limit in bytes.
        limit: usize,
        /// What the stream had assembled before it.
        partial: Value,
    },
    /// The stream ended (closed, broke, or timed out) before a complete output was formed.
    #[error("the stream ended before the output was complete: {}", escape(.reason))]
    Incomplete {
        /// Why the stream ended.
        reason: String,
        /// The transport failure, if one ended the stream.
        #[source]
        source: Option<TransportError>,
        /// What the stream had assembled before it ended.
        partial: Value,
    },
    /// The service's output does not fit the output type.
    #[error("{}", escape(&Error::output_reason(.path, .message)))]
    Output {
        /// The JSON that was received.
        json: Value,
        /// The path in that JSON where it stopped fitting, such as `people[0].name`.
        path: String,
        /// What did not fit.
        message: String,
    },
    /// Every attempt's output was rejected (by the task's validator, or because it did not fit
    /// the output type) and no re-ask was left. Holds each attempt's output and reason, in
    /// order: `1 + reasks` of them.
    #[error("the output was rejected after {}: {}", count_attempts(.attempts.len()), shown(.attempts.last().map_or("", |last| last.reason.as_str()), Rejection::MAX_REASON_BYTES))]
    Rejected {
        /// Each rejected output with its reason, the first attempt first.
        attempts: Vec<Rejection>,
    },
    /// A `/v2/call` response body, or the whole body of a `/v2/call/stream` stream, longer than
    /// [`OpperBuilder::max_response_bytes`](crate::OpperBuilder::max_response_bytes): reading
    /// stopped at the limit and the connection was dropped. Not retried.
    #[error(
        "the response body exceeded the limit of {limit} bytes (OpperBuilder::max_response_bytes)"
    )]
    ResponseTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The API answered with a redirect (a 3xx status). The API never redirects, so it is not
    /// followed: nothing is sent to the `Location`, and it is not retried.
    #[error("the API answered HTTP {status}, a redirect{}; redirects are not followed", location.as_deref().map(|to| format!(" to {}", escape(to))).unwrap_or_default())]
    Redirect {
        /// The HTTP status code.
        status: u16,
        /// The `Location` header, if the server sent one (shortened when long).
        location: Option<String>,
    },
    /// A successful response whose body is not the documented JSON.
    #[error("invalid response ({}): {}", escape(.reason), shown(.body, 300))]
    InvalidResponse {
        /// The body as text (shortened when long).
        body: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A replay-only [`Cache`](crate::Cache) served an answer that the task rejected (its
    /// validator, or the output type) while it had re-asks left. A re-ask would be a request,
    /// which replay-only mode never makes: record the entry again with a read-write cache.
    #[error("the replay-only cache's answer for task `{}` was rejected: {}; asking again would need a request, which a replay-only cache never makes (record the entry again with a read-write cache)", escape(.task), escape(&.rejection.reason))]
    ReplayRejected {
        /// The task's name.
        task: String,
        /// The replayed output and why it was rejected.
        rejection: Rejection,
    },
    /// The task sets a field that the client's API version does not have (on v3: `examples`,
    /// which v3 keeps on the function, server-side). Reported before any request.
    #[error("the task `{}` sets `{field}`, which Opper API {api} does not have; remove it or use another API version", escape(.task))]
    Unsupported {
        /// The task's name.
        task: String,
        /// The request field, such as `examples`.
        field: &'static str,
        /// The client's API version.
        api: Api,
    },
    /// The API accepted the call but its work is not done (v3's `202 Accepted`, for media
    /// generation): there is no output yet, only the operations still pending.
    #[error("the API accepted the call but its work is not done yet (HTTP 202, {}){}", count(.operations.len(), "pending operation"), pending(.operations))]
    Pending {
        /// The pending operations, as the API listed them: at most
        /// [`PendingOperation::MAX_KEPT`], each field cut at
        /// [`PendingOperation::MAX_FIELD_BYTES`].
        operations: Vec<PendingOperation>,
    },
    /// A replay-only [`Cache`](crate::Cache) has no valid entry for the call; no request was
    /// made.
    #[error("the replay-only cache has no answer for task `{}`: {} is missing or damaged (record it with a read-write cache)", escape(.task), escape(&.path.display().to_string()))]
    CacheMiss {
        /// The task's name.
        task: String,
        /// The entry that was looked for.
        path: std::path::PathBuf,
    },
    /// An agent used its last iteration (and the recovery turn after it) still calling tools,
    /// without a final answer.
    #[error("the agent reached its limit of {iterations} iterations without a final answer")]
    MaxIterations {
        /// The agent's limit (`max_iterations`).
        iterations: u32,
        /// Every tool call of the run, in order.
        tool_calls: Vec<crate::ToolCall>,
    },
}

impl Error {
    /// The HTTP status, for errors the API answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Redirect { status, .. } => Some(*status),
            _ => self.api_error().map(|error| error.status),
        }
    }

    /// How many times the request was sent before this error, for an error of the request
    /// itself (a status the API answered, a transport failure or a timeout): 1 unless the
    /// [`RetryPolicy`](crate::RetryPolicy) retried it. Its `Display` ends in `(after N
    /// attempts)` when it was. `None` for other errors (a stream cut once open, an output that
    /// does not fit, a cache miss, ...).
    ///
    /// ```
    /// # async fn run(opper: opper::Opper) {
    /// if let Err(error) = opper.call("task").send::<String>().await {
    ///     eprintln!("{error}"); // rate limited (after 3 attempts)
    ///     eprintln!("{:?} attempts, Retry-After {:?}", error.attempts(), error.retry_after());
    /// }
    /// # }
    /// ```
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Error::Timeout(e) | Error::Transport(e) => Some(e.attempts),
            _ => self.api_error().map(|e| e.attempts),
        }
    }

    /// The wait the server asked for in `Retry-After` (a 429's or a 503's), as
    /// [`ApiError::retry_after`] keeps it.
    pub fn retry_after(&self) -> Option<Duration> {
        self.api_error().and_then(|e| e.retry_after)
    }

    /// Records how many times the request was sent (see [`attempts`](Self::attempts)).
    pub(crate) fn set_attempts(&mut self, attempts: u32) {
        match self {
            Error::Timeout(e) | Error::Transport(e) => e.attempts = attempts,
            Error::BadRequest(e)
            | Error::Unauthorized(e)
            | Error::NotFound(e)
            | Error::RequestValidation(e)
            | Error::RateLimited(e)
            | Error::Api(e) => e.attempts = attempts,
            _ => {}
        }
    }

    /// The API's error body, for errors the API answered with a status.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::BadRequest(e)
            | Error::Unauthorized(e)
            | Error::NotFound(e)
            | Error::RequestValidation(e)
            | Error::RateLimited(e)
            | Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// What a stream had assembled before it failed: the JSON of the output so far in
    /// structured mode, a JSON string in text mode. For [`Error::Output`] the output that did
    /// not fit, for [`Error::Rejected`] the last rejected output, for [`Error::ReplayRejected`]
    /// the replayed one.
    pub fn partial(&self) -> Option<&Value> {
        match self {
            Error::StreamChunk { partial, .. }
            | Error::InvalidChunk { partial, .. }
            | Error::EventTooLarge { partial, .. }
            | Error::Incomplete { partial, .. } => Some(partial),
            Error::Output { json, .. } => Some(json),
            Error::Rejected { attempts } => attempts.last().map(|last| &last.output),
            Error::ReplayRejected { rejection, .. } => Some(&rejection.output),
            _ => None,
        }
    }

    /// The message of [`Error::Output`], also the reason a re-ask gives for it; the path and
    /// the message (which may quote the output) cut at [`ApiError::MAX_BODY_BYTES`].
    pub(crate) fn output_reason(path: &str, message: &str) -> String {
        let path = truncate(path, ApiError::MAX_BODY_BYTES);
        let message = truncate(message, ApiError::MAX_BODY_BYTES);
        format!("the output does not fit the expected type at `{path}`: {message}")
    }

    /// Whether a timeout caused this error.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Timeout(_) => true,
            Error::Incomplete {
                source: Some(source),
                ..
            } => source.is_timeout(),
            _ => false,
        }
    }

    /// Whether a retry of the same request could succeed: 429, 500, 502, 503, 504, or a
    /// connection that failed or broke before a response. A timeout once connected is not
    /// retried: the service may still be working on the request.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited(_) | Error::Transport(_) => true,
            Error::Timeout(e) => e.is_connect(),
            Error::Api(e) => matches!(e.status, 500 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// [`Error::Config`] saying `message`.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            source: None,
        }
    }

    /// [`Error::Config`] saying `message`, caused by `source`.
    pub(crate) fn config_caused(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Config {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// An `error` chunk or frame of a stream, its type and message cut at
    /// [`ApiError::MAX_BODY_BYTES`] as they are kept.
    pub(crate) fn stream_chunk(error_type: Option<String>, error_message: Option<String>) -> Self {
        let cut = |text: Option<String>| text.map(|text| cut(text, ApiError::MAX_BODY_BYTES));
        Error::StreamChunk {
            error_type: cut(error_type),
            error_message: cut(error_message),
            partial: Value::Null,
        }
    }

    /// A stream whose body ended inside an event: the last event is cut, not invalid.
    pub(crate) fn cut_inside_an_event() -> Self {
        Error::Incomplete {
            reason: "the stream was cut inside an event".into(),
            source: None,
            partial: Value::Null,
        }
    }

    /// The variant of an error answer's status.
    pub(crate) fn from_api(error: ApiError) -> Self {
        let status = error.status;
        let error = Box::new(error);
        match status {
            400 => Error::BadRequest(error),
            401 => Error::Unauthorized(error),
            404 => Error::NotFound(error),
            422 => Error::RequestValidation(error),
            429 => Error::RateLimited(error),
            _ => Error::Api(error),
        }
    }

    pub(crate) fn from_reqwest(error: reqwest::Error) -> Self {
        let error = TransportError::from_reqwest(error);
        if error.is_timeout() {
            Error::Timeout(error)
        } else {
            Error::Transport(error)
        }
    }
}

/// `(detail: ...)` after a 422's message, when its body had a `detail`.
fn detail(error: &ApiError) -> String {
    error.detail.as_ref().map_or_else(String::new, |detail| {
        format!(" (detail: {})", shown(&detail.to_string(), 300))
    })
}

/// ` (after 3 attempts)` after an error of a request that was retried; nothing otherwise.
fn after(attempts: u32) -> String {
    match attempts {
        0 | 1 => String::new(),
        n => format!(" (after {n} attempts)"),
    }
}

/// `1 attempt`, `3 attempts`.
fn count_attempts(n: usize) -> String {
    count(n, "attempt")
}

/// `1 thing`, `3 things`.
fn count(n: usize, thing: &str) -> String {
    match n {
        1 => format!("1 {thing}"),
        n => format!("{n} {thing}s"),
    }
}

/// `; id (kind) at url` for each of the first three pending operations.
fn pending(operations: &[PendingOperation]) -> String {
    operations
        .iter()
        .take(3)
        .map(|operation| {
            format!(
                "; {} ({}) at {}",
                shown(operation.id.as_deref().unwrap_or("?"), 200),
                shown(operation.kind.as_deref().unwrap_or("?"), 100),
                shown(operation.status_url.as_deref().unwrap_or("?"), 500)
            )
        })
        .collect()
}

/// `text` cut at `max` bytes and escaped (see [`escape`]).
fn shown(text: &str, max: usize) -> Escaped<'_> {
    escape(truncate(text, max))
}

/// `text` cut at `max` bytes, at a character boundary, in place.
pub(crate) fn cut(mut text: String, max: usize) -> String {
    text.truncate(truncate(&text, max).len());
    text
}

pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    // The first character boundary at or below `max` (0 is one): at most 3 steps back.
    let end = (0..=max)
        .rev()
        .find(|&end| text.is_char_boundary(end))
        .unwrap_or_default();
    text.get(..end).unwrap_or_default()
}

/// Whether `c` is escaped where server text reaches a message or a log line: C0 and C1 control
/// characters (newline, carriage return, escape, ...), DEL, and the Unicode line and paragraph
/// separators.
fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// Writes `text` with every character [`needs_escape`] picks escaped as Rust does (`\n`,
/// `\r`, `\t`, `\u{1b}`), so the text stays on one line and cannot forge another.
fn write_escaped(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    let mut rest = text;
    while let Some(at) = rest.find(needs_escape) {
        let (plain, tail) = rest.split_at(at);
        out.write_str(plain)?;
        let mut chars = tail.chars();
        if let Some(c) = chars.next() {
            for e in c.escape_default() {
                out.write_char(e)?;
            }
        }
        rest = chars.as_str();
    }
    out.write_str(rest)
}

/// `text` to show in a message or a log line: control characters escaped (see
/// [`needs_escape`]).
pub(crate) fn escape(text: &str) -> Escaped<'_> {
    Escaped(text)
}

/// See [`escape`].
pub(crate) struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0)
    }
}

/// A formatter that escapes what is written through it (see [`escape`]).
struct Escaping<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        write_escaped(self.0, text)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use serde_json::json;

    use super::*;

    #[test]
    fn errors_are_send_sync_and_static() {
        fn assert<T: Send + Sync + 'static>() {}
        assert::<Error>();
        assert::<ApiError>();
        assert::<TransportError>();
    }

    /// Every message down the chain, as `anyhow`'s `{:#}` shows them.
    fn chain(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
        let mut messages = vec![error.to_string()];
        let mut source = error.source();
        while let Some(error) = source {
            messages.push(error.to_string());
            source = error.source();
        }
        messages
    }

    #[test]
    fn a_message_never_repeats_its_source() {
        let serde = serde_json::from_str::<u8>("x").unwrap_err();
        let input = Error::Input(serde);
        let timeout = Error::Timeout(TransportError::timeout("no response before 5s"));
        let cut = Error::Incomplete {
            reason: "the connection broke".into(),
            source: Some(TransportError::closed("closed by the server")),
            partial: Value::Null,
        };
        let status = Error::from_api(api_error(422, Some(json!([{"loc": ["body", "x"]}]))));
        for error in [input, timeout, cut, status] {
            let messages = chain(&error);
            for (i, message) in messages.iter().enumerate() {
                for later in messages.iter().skip(i + 1) {
                    assert!(
                        !message.contains(later.as_str()),
                        "{message:?} repeats {later:?}"
                    );
                }
            }
        }
    }

    fn api_error(status: u16, detail: Option<Value>) -> ApiError {
        ApiError {
            status,
            error_type: Some("SomeError".into()),
            message: Some("the server's reason".into()),
            detail,
            body: r#"{"type": "SomeError", "message": "the server's reason"}"#.into(),
            truncated: false,
            retry_after: None,
            attempts: 1,
        }
    }

    #[test]
    fn an_error_status_has_its_api_error_as_source() {
        for (status, words) in [
            (400, "bad request"),
            (401, "unauthorized"),
            (404, "not found"),
            (422, "request validation failed (detail: [{\"loc\":\"b\"}])"),
            (429, "rate limited"),
            (500, "the Opper API failed"),
            (503, "the Opper API failed"),
        ] {
            let api = api_error(status, (status == 422).then(|| json!([{"loc": "b"}])));
            let error = Error::from_api(api.clone());
            assert_eq!(error.to_string(), words);
            assert_eq!(error.api_error(), Some(&api));
            let source = error.source().expect("the ApiError is the source");
            assert_eq!(
                source.downcast_ref::<Box<ApiError>>().map(|boxed| &**boxed),
                Some(&api)
            );
            assert!(source.source().is_none());
            assert_eq!(
                chain(&error),
                [
                    words.to_owned(),
                    format!("HTTP {status} SomeError: the server's reason")
                ]
            );
        }
    }

    #[test]
    fn unsupported_names_the_api_version() {
        let error = Error::Unsupported {
            task: "t".into(),
            field: "examples",
            api: Api::V3,
        };
        assert!(matches!(error, Error::Unsupported { api: Api::V3, .. }));
        assert_eq!(
            error.to_string(),
            "the task `t` sets `examples`, which Opper API v3 does not have; remove it or use another API version"
        );
    }

    #[test]
    fn a_task_that_could_not_be_built_has_its_own_variant() {
        let error = Error::InvalidTask {
            task: "t".into(),
            reason: "an example could not be serialized: NaN".into(),
        };
        assert_eq!(
            error.to_string(),
            "task `t` could not be built: an example could not be serialized: NaN"
        );
        assert!(error.source().is_none());
    }

    #[test]
    fn escape_keeps_text_on_one_line() {
        let text = "a\nb\rc\u{1b}[31md\u{7f}e\u{85}f\u{2028}g\u{2029}h\ti é";
        assert_eq!(
            escape(text).to_string(),
            "a\\nb\\rc\\u{1b}[31md\\u{7f}e\\u{85}f\\u{2028}g\\u{2029}h\\ti é"
        );
        assert_eq!(escape("plain").to_string(), "plain");
    }

    #[test]
    fn bounded_json_stops_at_the_limit_on_a_character_boundary() {
        assert_eq!(
            bounded_json(&json!({"a": 1}), 7),
            Ok("{\"a\":1}".to_owned())
        );
        assert_eq!(
            bounded_json(&json!({"a": 1}), 6),
            Err("{\"a\":1".to_owned())
        );
        // `"é` is 3 bytes: a limit of 2 falls inside the `é`.
        assert_eq!(bounded_json(&json!("é"), 2), Err("\"".to_owned()));
    }

    #[test]
    fn a_rejection_keeps_bounded_copies() {
        let big = json!({ "text": "x".repeat(Rejection::MAX_OUTPUT_BYTES) });
        let rejection = Rejection::new(big, "r".repeat(2 * Rejection::MAX_REASON_BYTES));
        assert!(rejection.cut);
        let kept = rejection.output.as_str().map(str::len);
        assert_eq!(kept, Some(Rejection::MAX_OUTPUT_BYTES));
        assert_eq!(rejection.reason.len(), Rejection::MAX_REASON_BYTES);
        let small = Rejection::new(json!({"a": 1}), "why");
        assert_eq!((small.output, small.cut), (json!({"a": 1}), false));
    }

    #[test]
    fn server_text_in_a_message_is_cut_and_escaped() {
        let error = Error::StreamChunk {
            error_type: Some("Bad\nType".into()),
            error_message: Some("line\n".repeat(ApiError::MAX_BODY_BYTES)),
            partial: Value::Null,
        };
        let shown = error.to_string();
        assert!(shown.starts_with("the stream reported an error: Bad\\nType: line\\nline"));
        assert!(!shown.contains('\n'));
        assert!(
            shown.len() < 2 * ApiError::MAX_BODY_BYTES,
            "{}",
            shown.len()
        );
        let api = ApiError {
            status: 400,
            error_type: None,
            message: Some("a\nb\u{1b}".into()),
            detail: None,
            body: String::new(),
            truncated: false,
            retry_after: None,
            attempts: 1,
        };
        assert_eq!(api.to_string(), "HTTP 400: a\\nb\\u{1b}");
    }
}
