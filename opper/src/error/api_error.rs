//! [`ApiError`]: an error body the API answered, with its status.

use std::fmt::{self, Write as _};
use std::time::Duration;

use serde_json::Value;

use super::text::{Escaping, truncate};

/// An error body returned by the Opper API, with its HTTP status.
///
/// API v2 answers errors as `{"type": "...", "message": "...", "detail": ...}`, v3 as
/// `{"error": {"code": "...", "message": "...", "details": ...}}` (its `code` is
/// [`error_type`](Self::error_type), its `details` [`detail`](Self::detail)); any other body
/// (not JSON, or another shape) is kept verbatim in [`ApiError::body`]. At most
/// [`ApiError::MAX_BODY_BYTES`] of a body are read and kept: a longer one is cut there
/// ([`ApiError::truncated`]) and its connection dropped.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status code.
    pub status: u16,
    /// The error's `type` (v3: `code`), such as `"BadRequestError"`, when the body had one.
    pub error_type: Option<String>,
    /// The error's `message`, when the body had one.
    pub message: Option<String>,
    /// The error's `detail` (v3: `details`), when the body had one (for a v2 422: `loc`, `msg`,
    /// `type`, `input`).
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

/// The [`source`](std::error::Error::source) of the [`Error`](crate::Error) variants of an error
/// status, boxed as they hold it (`source.downcast_ref::<Box<ApiError>>()`);
/// [`Error::api_error`](crate::Error::api_error) is the typed way to it.
impl std::error::Error for ApiError {}

impl fmt::Display for ApiError {
    /// The status, the error's type and message (or the start of the body), with control
    /// characters escaped (see [`Error`](crate::Error)'s `Display`).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_in_an_api_error_is_escaped() {
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
