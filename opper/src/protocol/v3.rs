//! The v3 wire (`/v3/functions/{name}/call` and `/stream`, the "Task API"): the request body,
//! the `{data, meta}` answer, the `202` pending answer, the stream's frames and the error body,
//! as the official v3 clients (Python `opperai` 2.1.1) send and read them.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::api::Api;
use crate::error::{PendingOperation, cut};
use crate::protocol::frame::{Decoded, Endpoint, Frame};
use crate::protocol::json;
use crate::protocol::v2::{ChunkType, StreamingChunk};
use crate::task::schema::Schema;
use crate::trace::once::OncePerName;
use crate::{ApiError, Cost, Error, Model, Response, Result, Task, Usage};

/// The version's prefix, which a base URL may already end in.
pub(crate) const PREFIX: &str = "/v3";
/// Top-level fields of the body that change from run to run: not part of a cache key.
pub(crate) const UNKEYED: [&str; 1] = ["parent_span_id"];
/// Where a model's extra headers are in the body: `model.extra_headers` (also in each model
/// of a fallback chain).
pub(crate) const MODEL: &str = "model";
pub(crate) const EXTRA_HEADERS: &str = "extra_headers";

/// `/v3/functions/{name}/call` or `/stream`, the name percent-encoded as one path segment
/// (as Python's `quote(name, safe="")`: letters, digits and `-._~` are kept).
pub(crate) fn path(endpoint: Endpoint, name: &str) -> String {
    let mut path = String::with_capacity(name.len().saturating_add(24));
    path.push_str("/v3/functions/");
    push_segment(&mut path, name);
    path.push_str(match endpoint {
        Endpoint::Call => "/call",
        Endpoint::Stream => "/stream",
    });
    path
}

/// Appends `segment` to `path` percent-encoded as one path segment (as Python's
/// `quote(segment, safe="")`: letters, digits and `-._~` are kept).
pub(crate) fn push_segment(path: &mut String, segment: &str) {
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// The body of `POST /v3/functions/{name}/call` and `/stream`: keys in the order the official
/// client 2.1.1 sends them. `input` is required by v3: `null` when the call has none. A task
/// with `examples` is refused ([`Error::Unsupported`]); `tags` and `configuration`, which v3
/// does not have, are not sent, and logged at `warn` once per task name.
pub(crate) fn encode(
    task: &Task,
    input: Option<&RawValue>,
    parent_span_id: Option<&str>,
) -> Result<Vec<u8>> {
    task.check()?;
    if !task.examples.is_empty() {
        return Err(Error::Unsupported {
            task: task.name.clone(),
            field: "examples",
            api: Api::V3,
        });
    }
    let dropped: Vec<&str> = [
        (!task.tags.is_empty()).then_some("tags"),
        (!task.configuration.is_empty()).then_some("configuration"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !dropped.is_empty() {
        warn_once(&task.name, &dropped);
    }
    let body = Body {
        input,
        input_schema: task.input_schema.as_ref().map(Schema::json),
        output_schema: task.output_schema.as_ref().map(Schema::json),
        instructions: task.instructions.as_deref(),
        model: task.model.as_ref(),
        parent_span_id,
    };
    json::write(&body, [body.input_schema, body.output_schema, input])
}

/// The request body, borrowed from the task and the call; fields in the wire order.
#[derive(Serialize)]
struct Body<'a> {
    input: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_schema: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_schema: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a Model>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_span_id: Option<&'a str>,
}

/// The task names the "not sent on v3" warning was logged for.
static WARNED: OncePerName = OncePerName::new();

/// Logs at `warn`, the first time for a task name, that its `fields` are not sent.
fn warn_once(task: &str, fields: &[&str]) {
    if WARNED.first(task) {
        tracing::warn!(
            task,
            fields = %fields.join(", "),
            "Opper API v3 has no such request fields; they are not sent"
        );
    }
}

/// The body of a v3 call's success, live or cached: `{"data": ..., "meta": {...}}`.
pub(crate) fn answer(bytes: &[u8]) -> Result<Response<Value>> {
    let value: Value = json::read(bytes)?;
    from_value(value).map_err(|reason| json::invalid(bytes, reason))
}

/// An answer read: `data` is required; `meta` fills the metadata and is kept whole.
fn from_value(value: Value) -> Result<Response<Value>, String> {
    let Value::Object(mut answer) = value else {
        return Err("the answer is not a JSON object".into());
    };
    let output = answer
        .remove("data")
        .ok_or_else(|| String::from("the answer has no `data`"))?;
    let meta = match answer.remove("meta") {
        Some(Value::Object(meta)) => Some(meta),
        _ => None,
    };
    let read = |key: &str| meta.as_ref().and_then(|meta| meta.get(key));
    let usage = read("usage")
        .and_then(|usage| Usage::deserialize(usage).ok())
        .map(|mut usage: Usage| {
            if usage.total_tokens == 0 {
                usage.total_tokens = usage.input_tokens.saturating_add(usage.output_tokens);
            }
            usage
        });
    let cost = read("cost").and_then(Value::as_f64).map(|total| Cost {
        total,
        ..Cost::default()
    });
    let trace_uuid = read("trace_uuid")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Response {
        output,
        span_id: None,
        trace_uuid,
        usage,
        cost,
        meta: meta.map(Value::Object),
        cached: false,
        cache_hit: false,
        images: Vec::new(),
        reasks: 0,
    })
}

/// A `202 Accepted` (`PendingResponse`): the work is not done; its pending operations.
pub(crate) fn pending(status: u16, bytes: &[u8]) -> Option<Error> {
    if status != 202 {
        return None;
    }
    #[derive(Deserialize, Default)]
    struct Body {
        #[serde(default)]
        meta: Option<Meta>,
    }
    #[derive(Deserialize, Default)]
    struct Meta {
        #[serde(default)]
        pending_operations: Option<Vec<Operation>>,
    }
    #[derive(Deserialize)]
    struct Operation {
        #[serde(default)]
        id: Option<Value>,
        #[serde(default)]
        status_url: Option<String>,
        #[serde(default, rename = "type")]
        kind: Option<String>,
    }
    let body: Body = serde_json::from_slice(bytes).unwrap_or_default();
    let operations = body
        .meta
        .and_then(|meta| meta.pending_operations)
        .unwrap_or_default()
        .into_iter()
        // Kept bounded, as other text from the server: the first operations, each field cut.
        .take(PendingOperation::MAX_KEPT)
        .map(|operation| {
            let text = |text: String| cut(text, PendingOperation::MAX_FIELD_BYTES);
            PendingOperation {
                id: operation.id.map(|id| match id {
                    Value::String(id) => text(id),
                    other => text(other.to_string()),
                }),
                status_url: operation.status_url.map(text),
                kind: operation.kind.map(text),
            }
        })
        .collect();
    Some(Error::Pending { operations })
}

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
        return super::v2::api_error(status, body, truncated, retry_after);
    };
    let text = |key: &str| error.get(key).and_then(Value::as_str).map(str::to_owned);
    ApiError {
        status,
        error_type: text("code"),
        message: text("message"),
        detail: error.get("details").filter(|d| !d.is_null()).cloned(),
        body,
        truncated,
        retry_after,
        attempts: 1,
    }
}

/// The event name of the final answer.
const COMPLETE: &str = "complete";

/// The frame an event carries. `content` is text; the `complete` event is the final answer;
/// `[DONE]` ends the stream; an `error` frame ends it with its message. Unknown types,
/// `done`, keep-alives, and lines that are not JSON (as the official clients do) are skipped;
/// a line cut by the end of the body is a cut stream.
pub(crate) fn frame(event: &str, data: &str, at_eof: bool) -> Result<Option<Decoded>> {
    let trimmed = data.trim();
    if trimmed == "[DONE]" {
        return Ok(Some(Decoded {
            frame: Frame::Done,
            record: None,
        }));
    }
    if trimmed.is_empty() {
        return Ok(None);
    }
    // Most frames are `content`: read with borrowed text, into no map (the recording, when a
    // cache records, is made from the frame: see [`content_record`]).
    if event != COMPLETE
        && let Ok(content) = serde_json::from_str::<Content<'_>>(trimmed)
        && content.kind == "content"
    {
        return Ok(content
            .delta
            .filter(|delta| !delta.is_empty())
            .map(|delta| Decoded {
                frame: Frame::Text(delta.into_owned()),
                record: None,
            }));
    }
    let value: Value = match serde_json::from_str(trimmed) {
        Ok(value) => value,
        Err(_) if at_eof => {
            return Err(Error::cut_inside_an_event());
        }
        Err(error) => {
            tracing::debug!(error = %error, "skipping a v3 stream line that is not JSON");
            return Ok(None);
        }
    };
    if event == COMPLETE {
        let recorded = serde_json::json!({ "event": COMPLETE, "data": value });
        return Ok(Some(Decoded {
            frame: complete(value)?,
            record: Some(recorded),
        }));
    }
    Ok(data_frame(&value)?.map(|frame| Decoded {
        frame,
        record: Some(value),
    }))
}

/// A `content` frame (or another type, left to the general reader).
#[derive(Deserialize)]
struct Content<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    delta: Option<std::borrow::Cow<'a, str>>,
}

/// What a cassette records of a `content` frame whose text is `text`.
pub(crate) fn content_record(text: &str) -> Value {
    serde_json::json!({"type": "content", "delta": text})
}

/// The frame of a recorded event: a `content` frame's data as sent, or
/// `{"event": "complete", "data": ...}`.
pub(crate) fn replayed(mut recorded: Value) -> Result<Option<Frame>> {
    if recorded.get("event").and_then(Value::as_str) == Some(COMPLETE) {
        let data = recorded
            .get_mut("data")
            .map(Value::take)
            .unwrap_or_default();
        return complete(data).map(Some);
    }
    data_frame(&recorded)
}

fn complete(data: Value) -> Result<Frame> {
    match from_value(data) {
        Ok(answer) => Ok(Frame::Complete(Box::new(answer))),
        Err(reason) => Err(Error::InvalidChunk {
            data: "the `complete` event".into(),
            reason,
            partial: Value::Null,
        }),
    }
}

/// A data frame by its `type`: `content` is text, `tool_call_start` and `tool_call_delta` are
/// tool-call chunks, `error` ends the stream, others are skipped.
fn data_frame(value: &Value) -> Result<Option<Frame>> {
    match value.get("type").and_then(Value::as_str) {
        Some("content") => Ok(value
            .get("delta")
            .and_then(Value::as_str)
            .filter(|delta| !delta.is_empty())
            .map(|delta| Frame::Text(delta.to_owned()))),
        Some("tool_call_start" | "tool_call_delta") => Ok(Some(Frame::ToolCall(StreamingChunk {
            delta: Some(value.clone()),
            chunk_type: Some(ChunkType::ToolCall),
            ..StreamingChunk::default()
        }))),
        Some("error") => {
            let message = match value.get("error") {
                Some(Value::String(message)) => Some(message.clone()),
                Some(Value::Object(error)) => error
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                Some(Value::Null) | None => None,
                Some(other) => Some(other.to_string()),
            };
            Err(Error::stream_chunk(None, message))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_pending_answer_is_kept_bounded() {
        let operation = json!({"id": "x".repeat(10_000), "status_url": "/s", "type": "image"});
        let body = json!({"data": null, "meta": {"pending_operations": vec![operation; 500]}});
        let Some(Error::Pending { operations }) = pending(202, body.to_string().as_bytes()) else {
            panic!("a 202 is a pending error");
        };
        assert_eq!(operations.len(), PendingOperation::MAX_KEPT);
        assert!(operations.iter().all(|operation| {
            operation.id.as_ref().map(String::len) == Some(PendingOperation::MAX_FIELD_BYTES)
        }));
    }
    use crate::{Configuration, Example};

    fn encoded(task: &Task, input: Option<&Value>, parent: Option<&str>) -> Result<String> {
        let input = input.map(|input| serde_json::value::to_raw_value(input).unwrap());
        encode(task, input.as_deref(), parent).map(|bytes| String::from_utf8(bytes).unwrap())
    }

    #[test]
    fn the_body_has_the_official_key_order_and_leaves_out_what_v3_lacks() {
        assert_eq!(
            encoded(&Task::new("t"), None, None).unwrap(),
            r#"{"input":null}"#
        );
        let task = Task::new("t")
            .instructions("i")
            .input_schema(json!({"type": "object"}))
            .output_schema(json!({"type": "string"}))
            .model(Model::new("m").option("temperature", 0.5))
            .tag("k", "v")
            .configuration(Configuration::new().cache_ttl(0));
        assert_eq!(
            encoded(&task, Some(&json!({"x": 1})), Some("p")).unwrap(),
            concat!(
                r#"{"input":{"x":1},"input_schema":{"type":"object"},"#,
                r#""output_schema":{"type":"string"},"instructions":"i","#,
                r#""model":{"name":"m","options":{"temperature":0.5}},"parent_span_id":"p"}"#
            )
        );
        let examples = Task::new("t").example(Example::new(json!(1), json!(2)));
        assert!(matches!(
            encoded(&examples, None, None),
            Err(Error::Unsupported {
                field: "examples",
                api: Api::V3,
                ..
            })
        ));
    }

    #[test]
    fn names_are_one_path_segment() {
        assert_eq!(
            path(Endpoint::Call, "add_numbers"),
            "/v3/functions/add_numbers/call"
        );
        assert_eq!(
            path(Endpoint::Stream, "my/fn ä?#"),
            "/v3/functions/my%2Ffn%20%C3%A4%3F%23/stream"
        );
    }

    #[test]
    fn frames_by_type() {
        let text = frame("", r#"{"type":"content","delta":"{\"a\""}"#, false).unwrap();
        assert!(matches!(text.unwrap().frame, Frame::Text(t) if t == "{\"a\""));
        assert!(
            frame("", r#"{"type":"reasoning","delta":"x"}"#, false)
                .unwrap()
                .is_none()
        );
        assert!(frame("", "not json", false).unwrap().is_none());
        assert!(matches!(
            frame("", "[DONE]", false).unwrap().unwrap().frame,
            Frame::Done
        ));
        assert!(matches!(
            frame("", r#"{"type":"error","error":"boom"}"#, false),
            Err(Error::StreamChunk { error_message: Some(m), .. }) if m == "boom"
        ));
        let complete = frame(
            "complete",
            r#"{"data":{"sum":9},"meta":{"trace_uuid":"t"}}"#,
            false,
        )
        .unwrap()
        .unwrap();
        let Frame::Complete(answer) = complete.frame else {
            panic!()
        };
        assert_eq!(answer.output, json!({"sum": 9}));
        let replay = replayed(complete.record.unwrap()).unwrap().unwrap();
        assert!(matches!(replay, Frame::Complete(a) if a.trace_uuid.as_deref() == Some("t")));
    }
}
