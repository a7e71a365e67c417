//! The one error type of the crate, [`Error`], and the public types its variants hold, one
//! file each: [`ApiError`] (`api_error`), [`PendingOperation`] (`pending`), [`TransportError`]
//! (`transport`), [`Rejection`] (`rejection`); `text` shows server text in a message (cut,
//! escaped, bounded).

// The parts of the error, leaves first.
mod text;
mod api_error;
mod pending;
mod transport;
mod rejection;

use std::time::Duration;

use serde_json::Value;

use crate::api::Api;

pub use api_error::ApiError;
pub use pending::PendingOperation;
pub use rejection::Rejection;
use text::{after, shown};
pub(crate) use text::{bounded_json, cut, escape, truncate};
pub use transport::TransportError;

/// `Result<T, opper::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

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
    /// A call's response body, or the whole body of a stream (either version), longer than
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
        tool_calls: Vec<crate::tool::ToolCall>,
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
    }
}
