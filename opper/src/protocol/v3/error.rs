//! The body of a v3 error answer.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::protocol::v2;

/// An error answer: `{"error": {"code": "...", "message": "...", "details": ...}}`; `code`
/// becomes [`ApiError::error_type`], `details` [`ApiError::detail`]. Any other body is read as
/// v2 reads it (a FastAPI `detail`, or text).
pub(crate) fn api_error(
    status: u16,
    body: String,
    truncated: bool,
    retry_after: Option<Duration>,
) -> ApiError {
    let error = serde_json::from_str::<Map<String, Value>>(&body)
        .ok()
        .and_then(|mut map| match map.remove("error") {
            Some(Value::Object(error)) => Some(error),
            _ => None,
        });
    let Some(error) = error else {
        return v2::error::api_error(status, body, truncated, retry_after);
    };
    let fields = v2::error::Fields {
        error_type: "code",
        message: "message",
        detail: "details",
    };
    fields.read(Some(&error), status, body, truncated, retry_after)
}
