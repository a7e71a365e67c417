//! The v2 wire of the mock server (`/v2/call[/stream]`, and `/call[/stream]` before it): its
//! routes, request checks (FastAPI's 422s), answers, stream chunks and errors. Nothing else in
//! the server names a field of the v2 wire.

use std::borrow::Cow;

use bytes::Bytes;
use serde_json::{Value, json};

use super::reply::{Reply, StreamFault};
use super::wire::{Answer, Exchange, Output, Protocol};
use crate::protocol::v2::chunk::StreamingChunk;
use crate::testing::chunker::{chunks_for, python_json};

/// How much of a bad body a 422 quotes.
const QUOTE_LIMIT: usize = 1024;

/// The v2 API.
#[derive(Debug)]
pub(crate) struct V2;

/// Whether `path` is a v2 endpoint, and if so whether it streams.
pub(crate) fn route(path: &str) -> Option<bool> {
    match path {
        "/v2/call" | "/call" => Some(false),
        "/v2/call/stream" | "/call/stream" => Some(true),
        _ => None,
    }
}

/// The API's error body: `{"type": ..., "message": ..., "detail": ...}`.
pub(crate) fn api_error(error_type: &str, message: &str, detail: Value) -> Value {
    json!({"type": error_type, "message": message, "detail": detail})
}

/// The error `type` the API sends with an HTTP status.
pub(crate) fn error_type_for(status: u16) -> &'static str {
    match status {
        400 => "BadRequestError",
        401 => "UnauthorizedError",
        403 => "ForbiddenError",
        404 => "NotFoundError",
        405 => "MethodNotAllowedError",
        408 => "RequestTimeoutError",
        409 => "ConflictError",
        413 => "PayloadTooLargeError",
        422 => "RequestValidationError",
        429 => "TooManyRequestsError",
        500 => "InternalServerError",
        502 => "BadGatewayError",
        503 => "ServiceUnavailableError",
        504 => "GatewayTimeoutError",
        _ => "Error",
    }
}

/// A 422 in FastAPI's shape; `input` is what it quotes (see [`quote`]).
fn validation_error(loc: Value, msg: &str, kind: &str, input: Value) -> Answer {
    Answer::json(
        422,
        &api_error(
            "RequestValidationError",
            "Request validation failed",
            json!({"loc": loc, "msg": msg, "type": kind, "input": input}),
        ),
    )
}

/// `input` as a 422 quotes it: whole when its JSON is at most `QUOTE_LIMIT` bytes, else the
/// start of its JSON (or text) as a string that says how long the whole was.
fn quote(input: &Value) -> Value {
    let text = match input {
        Value::String(text) if text.len() <= QUOTE_LIMIT => return input.clone(),
        Value::String(text) => Cow::Borrowed(text.as_str()),
        other => {
            let json = other.to_string();
            if json.len() <= QUOTE_LIMIT {
                return input.clone();
            }
            Cow::Owned(json)
        }
    };
    // The last character boundary at or before the limit (0 is one).
    let end = (0..=QUOTE_LIMIT)
        .rev()
        .find(|&end| text.is_char_boundary(end))
        .unwrap_or(0);
    cut(text.get(..end).unwrap_or(""), text.len())
}

/// A body that is not JSON as a 422 quotes it: its text, at most `QUOTE_LIMIT` bytes of it.
fn quote_bytes(raw: &[u8]) -> Value {
    let Some((start, _)) = raw
        .split_at_checked(QUOTE_LIMIT)
        .filter(|(_, rest)| !rest.is_empty())
    else {
        return Value::String(String::from_utf8_lossy(raw).into_owned());
    };
    let start = String::from_utf8_lossy(start);
    // A character cut in two at the end is left out rather than shown as U+FFFD.
    cut(
        start.trim_end_matches(char::REPLACEMENT_CHARACTER),
        raw.len(),
    )
}

fn cut(start: &str, total: usize) -> Value {
    Value::String(format!("{start}... ({total} bytes in all)"))
}

/// Checks the body the way the API does and returns the task's name.
fn validate(raw: &[u8], body: Option<&Value>) -> Result<String, Answer> {
    let Some(body) = body else {
        let position = serde_json::from_slice::<Value>(raw)
            .err()
            .map_or(0, |error| error.column());
        return Err(validation_error(
            json!(["body", position]),
            "JSON decode error",
            "json_invalid",
            quote_bytes(raw),
        ));
    };
    let Some(object) = body.as_object() else {
        return Err(validation_error(
            json!(["body"]),
            "Input should be a valid dictionary or object to extract fields from",
            "model_attributes_type",
            quote(body),
        ));
    };
    let name = match object.get("name") {
        Some(Value::String(name)) => name.clone(),
        None | Some(Value::Null) => {
            return Err(validation_error(
                json!(["body", "name"]),
                "Field required",
                "missing",
                quote(body),
            ));
        }
        Some(other) => {
            return Err(validation_error(
                json!(["body", "name"]),
                "Input should be a valid string",
                "string_type",
                quote(other),
            ));
        }
    };
    for key in ["input_schema", "output_schema"] {
        if let Some(schema) = object.get(key).filter(|v| !v.is_null() && !v.is_object()) {
            return Err(validation_error(
                json!(["body", key]),
                "Input should be a valid dictionary",
                "dict_type",
                quote(schema),
            ));
        }
    }
    Ok(name)
}

/// A call's body: `span_id`, `message` or `json_payload`, `cached`, `usage` and `cost`.
fn call_body(output: &Output, reply: &Reply, span_id: &str, request_len: usize) -> String {
    let (message, payload, output_len) = match output {
        Output::Json(value) => {
            let text = value.to_string();
            let len = text.len();
            ("null".to_owned(), text, len)
        }
        Output::Text(text) => (
            Value::String(text.clone()).to_string(),
            "null".to_owned(),
            text.len(),
        ),
    };
    let input_tokens = (request_len / 4).max(1) as u64;
    let output_tokens = (output_len / 4).max(1) as u64;
    let usage = reply.usage.clone().unwrap_or_else(|| {
        json!({
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens.saturating_add(output_tokens),
        })
    });
    let cost = reply.cost.clone().unwrap_or_else(|| {
        let generation = (input_tokens as f64 * 0.15 + output_tokens as f64 * 0.6) / 1e6;
        let platform = generation * 0.1;
        json!({"generation": generation, "platform": platform, "total": generation + platform})
    });
    format!(
        "{{\"span_id\":{},\"message\":{message},\"json_payload\":{payload},\"cached\":{},\"usage\":{usage},\"cost\":{cost}}}",
        Value::String(span_id.to_owned()),
        reply.cached,
    )
}

impl Protocol for V2 {
    fn error(&self, _status: u16, error_type: &str, message: &str, detail: Value) -> Value {
        api_error(error_type, message, detail)
    }

    fn validate(
        &self,
        raw: &[u8],
        body: Option<&Value>,
        _path_name: Option<&str>,
    ) -> Result<String, Answer> {
        validate(raw, body)
    }

    fn too_much(&self, message: &str) -> Answer {
        validation_error(
            json!(["body", "output_schema"]),
            message,
            "value_error",
            Value::Null,
        )
    }

    fn event(&self, event: &Value) -> Bytes {
        Bytes::from(format!("data: {}\n\n", python_json(event)))
    }

    fn error_frame(&self, error_type: &str, message: &str) -> Bytes {
        Bytes::from(StreamingChunk::error(error_type, message).to_sse())
    }

    fn answer(&self, output: Output, exchange: &Exchange<'_>, stream: bool) -> Answer {
        let reply = exchange.reply;
        if stream {
            let mut pieces = vec![Bytes::from(
                StreamingChunk::span(exchange.span_id.to_owned()).to_sse(),
            )];
            let chunks = match &output {
                Output::Json(value) => chunks_for(value, &reply.chunking),
                Output::Text(text) => chunks_for(
                    &Value::String(text.clone()),
                    &reply.chunking.clone().text_mode(true),
                ),
            };
            pieces.extend(chunks.iter().map(|chunk| Bytes::from(chunk.to_sse())));
            return Answer::Stream(pieces);
        }
        if let Some(StreamFault::Error {
            error_type,
            message,
            ..
        }) = &reply.fault
        {
            return Answer::json(500, &api_error(error_type, message, Value::Null));
        }
        let text = call_body(&output, reply, exchange.span_id, exchange.request_len);
        Answer::Json(200, Bytes::from(text))
    }
}
