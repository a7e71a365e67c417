//! Output decoding: a `/v2/call` body into a typed [`Response`], naming where it stops fitting.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::response::RawResponse;
use crate::{Error, Response, Result};

/// Deserializes an output, naming the path where it stops fitting.
fn deserialize_output<T: DeserializeOwned>(json: Value) -> Result<T> {
    match serde_path_to_error::deserialize::<_, T>(&json) {
        Ok(output) => Ok(output),
        Err(error) => Err(Error::Output {
            path: error.path().to_string(),
            message: error.into_inner().to_string(),
            json,
        }),
    }
}

/// The typed response: `json_payload` when the service sent one, else the text `message`.
pub(crate) fn typed_response<T: DeserializeOwned>(raw: RawResponse) -> Result<Response<T>> {
    let payload = match raw.json_payload {
        Some(json) if !json.is_null() => json,
        _ => raw.message.map(Value::String).unwrap_or(Value::Null),
    };
    let output = deserialize_output(payload)?;
    Ok(Response {
        output,
        span_id: raw.span_id.unwrap_or_default(),
        usage: raw.usage.map(|usage| usage.into_usage()),
        cost: raw.cost,
        cached: raw.cached.unwrap_or(false),
        images: raw.images.unwrap_or_default(),
    })
}
