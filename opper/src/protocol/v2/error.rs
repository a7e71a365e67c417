//! The body of a v2 error answer.

use std::time::Duration;

use serde_json::Value;

use crate::error::ApiError;

/// An error answer: `{"type": "...", "message": "...", "detail": ...}`, or any other body, kept
/// as text.
pub(crate) fn api_error(
    status: u16,
    body: String,
    truncated: bool,
    retry_after: Option<Duration>,
) -> ApiError {
    let parsed: Option<serde_json::Map<String, Value>> = serde_json::from_str(&body).ok();
    let text = |key: &str| {
        parsed
            .as_ref()
            .and_then(|map| map.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let detail = parsed
        .as_ref()
        .and_then(|map| map.get("detail"))
        .filter(|detail| !detail.is_null())
        .cloned();
    ApiError {
        status,
        error_type: text("type"),
        message: text("message"),
        detail,
        body,
        truncated,
        retry_after,
        attempts: 1,
    }
}
