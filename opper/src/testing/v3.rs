//! The v3 wire of the mock server (`/v3/functions/{name}/call|stream`, `/v3/call[/stream]`):
//! its routes, request checks, answers, stream frames and errors. Nothing else in the server
//! names a field of the v3 wire.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::reply::{Reply, StreamFault};
use super::schema::percent_decode;
use super::wire::{Answer, Exchange, Output, Protocol};
use crate::testing::chunker::{ChunkOptions, chunks_for, text_deltas};

/// The v3 API.
#[derive(Debug)]
pub(crate) struct V3;

/// A v3 route: whether it streams, and the task's name when the path carries it.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) stream: bool,
    pub(crate) name: Option<String>,
}

/// The v3 endpoint of `path`, if it is one: `/v3/call`, `/v3/call/stream`, or
/// `/v3/functions/{name}/call|stream` with a non-empty name segment, percent-decoded.
pub(crate) fn route(path: &str) -> Option<Route> {
    match path {
        "/v3/call" => {
            return Some(Route {
                stream: false,
                name: None,
            });
        }
        "/v3/call/stream" => {
            return Some(Route {
                stream: true,
                name: None,
            });
        }
        _ => {}
    }
    let rest = path.strip_prefix("/v3/functions/")?;
    let (segment, action) = rest.split_once('/')?;
    let stream = match action {
        "call" => false,
        "stream" => true,
        _ => return None,
    };
    if segment.is_empty() {
        return None;
    }
    Some(Route {
        stream,
        name: Some(percent_decode(segment)),
    })
}

/// Whether `path` is under `/v3`, so that its errors take the v3 shape.
pub(crate) fn is_v3(path: &str) -> bool {
    path == "/v3" || path.starts_with("/v3/")
}

/// The v3 error body: `{"error": {"code": ..., "message": ..., "details": ...}}`.
pub(crate) fn error(code: &str, message: &str, details: Value) -> Value {
    json!({"error": {"code": code, "message": message, "details": details}})
}

/// The `code` of a v3 error for an HTTP status.
pub(crate) fn code_for(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        409 => "conflict",
        413 => "payload_too_large",
        422 => "unprocessable_entity",
        429 => "rate_limited",
        500 => "internal_error",
        502 => "bad_gateway",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        _ => "error",
    }
}

/// Checks a v3 body (a RunRequest) and returns the task's name: the path's, else the body's
/// `name`, which `/v3/call` requires. On failure, the message and `details` of a 400.
pub(crate) fn validate(
    body: Option<&Value>,
    path_name: Option<&str>,
) -> Result<String, (&'static str, Value)> {
    let problem = |field: &str, kind: &str| json!({"field": field, "type": kind});
    let Some(body) = body else {
        return Err((
            "The body is not valid JSON",
            json!({"type": "json_invalid"}),
        ));
    };
    let Some(object) = body.as_object() else {
        return Err((
            "The body must be a JSON object",
            json!({"type": "object_type"}),
        ));
    };
    let name = match (path_name, object.get("name")) {
        (Some(name), _) => name.to_owned(),
        (None, Some(Value::String(name))) => name.clone(),
        (None, None | Some(Value::Null)) => {
            return Err(("Field required: name", problem("name", "missing")));
        }
        (None, Some(_)) => {
            return Err(("name must be a string", problem("name", "string_type")));
        }
    };
    if !object.contains_key("input") {
        return Err(("Field required: input", problem("input", "missing")));
    }
    for key in ["input_schema", "output_schema"] {
        if object
            .get(key)
            .is_some_and(|v| !v.is_null() && !v.is_object())
        {
            return Err(("A schema must be a JSON object", problem(key, "dict_type")));
        }
    }
    Ok(name)
}

/// What the answers' `meta` is made of besides the reply's own fields.
#[derive(Debug)]
pub(crate) struct MetaInput<'a> {
    pub(crate) name: &'a str,
    pub(crate) request: Option<&'a Value>,
    pub(crate) request_len: usize,
    pub(crate) output_len: usize,
    pub(crate) trace_uuid: String,
    pub(crate) execution_ms: u64,
}

/// The `meta` of a RunResponse: the service's fields, then the reply's
/// [`usage`](Reply::usage) and [`meta`](Reply::meta) over them.
pub(crate) fn meta(input: &MetaInput<'_>, reply: &Reply) -> Value {
    let input_tokens = u64::try_from(input.request_len / 4)
        .unwrap_or(u64::MAX)
        .max(1);
    let output_tokens = u64::try_from(input.output_len / 4)
        .unwrap_or(u64::MAX)
        .max(1);
    // Token counts are at most a few million here; f64 holds them exactly.
    let cost = (input_tokens as f64 * 0.15 + output_tokens as f64 * 0.6) / 1e6 * 1.1;
    let usage = reply
        .usage
        .clone()
        .unwrap_or_else(|| json!({"input_tokens": input_tokens, "output_tokens": output_tokens}));
    let mut meta = Map::new();
    meta.insert("function_name".into(), json!(input.name));
    meta.insert("script_cached".into(), json!(false));
    meta.insert("execution_ms".into(), json!(input.execution_ms));
    meta.insert("llm_calls".into(), json!(1));
    meta.insert("tts_calls".into(), json!(0));
    meta.insert("image_gen_calls".into(), json!(0));
    meta.insert("cost".into(), json!(cost));
    meta.insert("usage".into(), usage);
    meta.insert("trace_uuid".into(), json!(input.trace_uuid));
    meta.insert("models_used".into(), json!([model_name(input.request)]));
    merge(&mut meta, reply);
    Value::Object(meta)
}

/// The `meta` of a 202 PendingResponse.
pub(crate) fn pending_meta(input: &MetaInput<'_>, id: &str, kind: &str, reply: &Reply) -> Value {
    let mut meta = Map::new();
    meta.insert("function_name".into(), json!(input.name));
    meta.insert("status".into(), json!("pending"));
    meta.insert("execution_ms".into(), json!(input.execution_ms));
    meta.insert(
        "pending_operations".into(),
        json!([{"id": id, "status_url": format!("/v3/artifacts/{id}/status"), "type": kind}]),
    );
    merge(&mut meta, reply);
    Value::Object(meta)
}

fn merge(meta: &mut Map<String, Value>, reply: &Reply) {
    if let Some(Value::Object(fields)) = &reply.meta {
        for (key, value) in fields {
            meta.insert(key.clone(), value.clone());
        }
    }
}

/// The first model the request names (`"a/b"`, `{"name": "a/b"}` or a list of either), or
/// `"mock/default"`.
fn model_name(request: Option<&Value>) -> String {
    let mut model = request.and_then(|r| r.get("model"));
    if let Some(Value::Array(models)) = model {
        model = models.first();
    }
    match model {
        Some(Value::String(name)) => name.clone(),
        Some(Value::Object(object)) => object
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("mock/default")
            .to_owned(),
        _ => "mock/default".to_owned(),
    }
}

/// A RunResponse or PendingResponse body: `{"data": ..., "meta": ...}`.
pub(crate) fn response(data: &Value, meta: &Value) -> String {
    format!("{{\"data\":{data},\"meta\":{meta}}}")
}

/// The frames of a v3 stream of `data`, one event each: `content` deltas of its text (the
/// JSON text cut at awkward places, or a text output split as `chunking` says), `done` with the
/// usage, `event: complete` with `{data, meta}`, and `[DONE]`.
pub(crate) fn stream_frames(
    data: &Value,
    text: bool,
    chunking: &ChunkOptions,
    seed: u64,
    meta: &Value,
) -> Vec<Bytes> {
    let deltas: Vec<String> = if text {
        chunks_for(data, &chunking.clone().text_mode(true))
            .into_iter()
            .filter_map(|chunk| match chunk.delta {
                Some(Value::String(delta)) => Some(delta),
                _ => None,
            })
            .collect()
    } else {
        text_deltas(data, seed)
    };
    let mut frames: Vec<Bytes> = deltas
        .into_iter()
        .map(|delta| {
            Bytes::from(format!(
                "data: {{\"type\":\"content\",\"delta\":{}}}\n\n",
                Value::String(delta)
            ))
        })
        .collect();
    let done = match meta.get("usage") {
        Some(usage) => format!("data: {{\"type\":\"done\",\"usage\":{usage}}}\n\n"),
        None => "data: {\"type\":\"done\"}\n\n".to_owned(),
    };
    frames.push(Bytes::from(done));
    frames.push(Bytes::from(format!(
        "event: complete\ndata: {}\n\n",
        response(data, meta)
    )));
    frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
    frames
}

/// An error frame, `{"type":"error","error":"..."}`: the stream ends with it.
pub(crate) fn error_frame(message: &str) -> Bytes {
    Bytes::from(format!(
        "data: {{\"type\":\"error\",\"error\":{}}}\n\n",
        Value::String(message.to_owned())
    ))
}

/// A scripted event framed as `data: {json}\n\n` (compact, as the v3 service writes).
fn event_frame(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

impl Protocol for V3 {
    fn error(&self, status: u16, _error_type: &str, message: &str, detail: Value) -> Value {
        error(code_for(status), message, detail)
    }

    fn validate(
        &self,
        _raw: &[u8],
        body: Option<&Value>,
        path_name: Option<&str>,
    ) -> Result<String, Answer> {
        validate(body, path_name)
            .map_err(|(message, details)| Answer::json(400, &self.error(400, "", message, details)))
    }

    fn too_much(&self, message: &str) -> Answer {
        let details = json!({"field": "output_schema", "type": "value_error"});
        Answer::json(400, &self.error(400, "", message, details))
    }

    fn event(&self, event: &Value) -> Bytes {
        event_frame(event)
    }

    fn error_frame(&self, _error_type: &str, message: &str) -> Bytes {
        error_frame(message)
    }

    fn answer(&self, output: Output, exchange: &Exchange<'_>, stream: bool) -> Answer {
        let reply = exchange.reply;
        let (data, text) = match output {
            Output::Json(value) => (value, false),
            Output::Text(text) => (Value::String(text), true),
        };
        let output_len = match &data {
            Value::String(text) => text.len(),
            other => other.to_string().len(),
        };
        let meta = meta(
            &MetaInput {
                name: exchange.name,
                request: exchange.request,
                request_len: exchange.request_len,
                output_len,
                trace_uuid: exchange.fresh_id.to_owned(),
                execution_ms: exchange.execution_ms,
            },
            reply,
        );
        if stream {
            return Answer::Stream(stream_frames(
                &data,
                text,
                &reply.chunking,
                exchange.task_seed,
                &meta,
            ));
        }
        if let Some(StreamFault::Error {
            error_type,
            message,
            ..
        }) = &reply.fault
        {
            return Answer::json(500, &error(error_type, message, Value::Null));
        }
        Answer::Json(200, Bytes::from(response(&data, &meta)))
    }
}
