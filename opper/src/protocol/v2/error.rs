//! The body of a v2 error answer.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::ApiError;

/// An error answer: `{"type": "...", "message": "...", "detail": ...}`, or any other body, kept
/// as text.
pub(crate) fn api_error(
    status: u16,
    body: String,
    truncated: bool,
    retry_after: Option<Duration>,
) -> ApiError {
    let parsed: Option<Map<String, Value>> = serde_json::from_str(&body).ok();
    let fields = Fields {
        error_type: "type",
        message: "message",
        detail: "detail",
    };
    fields.read(parsed.as_ref(), status, body, truncated, retry_after)
}

/// The keys of an error object that hold [`ApiError::error_type`], [`ApiError::message`] (both
/// read when they are strings) and [`ApiError::detail`] (when not `null`): each version names
/// them its own way.
pub(crate) struct Fields {
    pub(crate) error_type: &'static str,
    pub(crate) message: &'static str,
    pub(crate) detail: &'static str,
}

impl Fields {
    /// The error of an answer of `status` whose `body` holds the error `object` (none: a body
    /// read as text only).
    pub(crate) fn read(
        &self,
        object: Option<&Map<String, Value>>,
        status: u16,
        body: String,
        truncated: bool,
        retry_after: Option<Duration>,
    ) -> ApiError {
        let field = |key: &str| object.and_then(|map| map.get(key));
        let text = |key: &str| field(key).and_then(Value::as_str).map(str::to_owned);
        ApiError {
            status,
            error_type: text(self.error_type),
            message: text(self.message),
            detail: field(self.detail)
                .filter(|detail| !detail.is_null())
                .cloned(),
            body,
            truncated,
            retry_after,
            attempts: 1,
        }
    }
}
