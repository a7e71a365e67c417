//! Output decoding: a `/v2/call` body into a [`Response`] of its output's JSON, and JSON into
//! a typed output, naming where it stops fitting.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::response::RawResponse;
use crate::{Error, Response, Result};

/// Deserializes an output, naming the path where it stops fitting.
pub(crate) fn deserialize_output<T: DeserializeOwned>(json: Value) -> Result<T> {
    match serde_path_to_error::deserialize::<_, T>(&json) {
        Ok(output) => Ok(output),
        Err(error) => Err(Error::Output {
            path: error.path().to_string(),
            message: error.into_inner().to_string(),
            json,
        }),
    }
}

/// The response with its output as JSON: `json_payload` when the service sent one, else the
/// text `message`. Typed by [`deserialize_output`] once judged (see `reask.rs`).
pub(crate) fn json_response(raw: RawResponse) -> Response<Value> {
    let output = match raw.json_payload {
        Some(json) if !json.is_null() => json,
        _ => raw.message.map(Value::String).unwrap_or(Value::Null),
    };
    Response {
        output,
        span_id: raw.span_id.unwrap_or_default(),
        usage: raw.usage.map(|usage| usage.into_usage()),
        cost: raw.cost,
        cached: raw.cached.unwrap_or(false),
        images: raw.images.unwrap_or_default(),
        reasks: 0,
    }
}
