//! The v3 wire (`/v3/functions/{name}/call` and `/stream`, the "Task API"): the request body,
//! the `{data, meta}` answer, the `202` pending answer, the stream's frames and the error body,
//! as the official v3 clients (Python `opperai` 2.1.1) send and read them.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use bytes::Bytes;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::api::Api;
use crate::error::ApiError;
use crate::error::Error;
use crate::error::Result;
use crate::error::{PendingOperation, cut};
use crate::protocol::frame::{Endpoint, Frame};
use crate::protocol::json;
use crate::protocol::v2::{ChunkType, StreamingChunk};
use crate::reask::output::OutputText;
use crate::response::Cost;
use crate::response::Response;
use crate::response::Usage;
use crate::task::Task;
use crate::task::model::Model;
use crate::task::schema::Schema;
use crate::trace::once::OncePerName;

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

/// A task name is a path segment of its own: `.` and `..`, which are kept as they are by the
/// percent-encoding, would be read as the URL's dot segments (`..` would send the call to
/// `/v3/call`), so they are refused ([`Error::InvalidTask`]) before any request.
fn one_segment(name: &str) -> Result<()> {
    match name {
        "." | ".." => Err(Error::InvalidTask {
            task: name.to_owned(),
            reason: "its name would be read as a dot segment of the URL's path on Opper API v3; \
                     give the task another name"
                .into(),
        }),
        _ => Ok(()),
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
    one_segment(&task.name)?;
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
pub(crate) fn answer(body: Bytes) -> Result<Response<OutputText>> {
    json::not_empty(&body)?;
    read_answer(body.clone()).map_err(|reason| json::invalid(&body, reason))
}

/// The most arrays and objects an output may nest: what `serde_json`'s recursion limit (128)
/// reads, past which no output type can be read from it.
const MAX_OUTPUT_DEPTH: usize = 127;

/// An answer's two parts, borrowed from its text.
#[derive(Deserialize)]
struct Parts<'a> {
    #[serde(borrow)]
    data: &'a RawValue,
    #[serde(borrow, default)]
    meta: Option<&'a RawValue>,
}

/// Reads an answer, `{"data": ..., "meta": {...}}` (a call's body, or a `complete` event's
/// data): its output, located in the body (and checked to nest at most
/// [`MAX_OUTPUT_DEPTH`] deep) but not decoded, and its metadata.
///
/// Python writes `NaN`, `Infinity` and `-Infinity`, which JSON does not have: in a body that
/// does not read, each outside a string is made `null` and the body read again, which is
/// kept when none of them was in the output (a `meta` field that cannot be read is dropped,
/// see [`metadata`]); one in the output is an error.
fn read_answer(body: Bytes) -> Result<Response<OutputText>, String> {
    let text = std::str::from_utf8(&body).map_err(|e| e.to_string())?;
    let (body, output, meta) = match locate(text) {
        Ok((output, meta)) => (body.clone(), output, meta),
        Err(error) => {
            let Some((patched, patches)) = non_finite_as_null(text) else {
                return Err(error);
            };
            let (output, meta) = locate(&patched).map_err(|_| error)?;
            if patches
                .iter()
                .any(|patch| patch.start < output.end && output.start < patch.end)
            {
                return Err(
                    "the output holds a number JSON does not have (NaN or Infinity)".into(),
                );
            }
            (Bytes::from(patched), output, meta)
        }
    };
    if nests_deeper(
        body.get(output.clone()).unwrap_or_default(),
        MAX_OUTPUT_DEPTH,
    ) {
        return Err(format!(
            "the output nests more than {MAX_OUTPUT_DEPTH} arrays and objects"
        ));
    }
    let meta = meta
        .and_then(|meta| body.get(meta))
        .and_then(|meta| std::str::from_utf8(meta).ok());
    let answer = metadata(meta);
    Ok(answer.map(|()| OutputText::new(body, output)))
}

/// Where the output and the `meta` are in an answer's text.
fn locate(text: &str) -> Result<(Range<usize>, Option<Range<usize>>), String> {
    if !text.trim_start().starts_with('{') {
        return Err("the answer is not a JSON object".into());
    }
    let parts: Parts<'_> = serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data if e.to_string().starts_with("missing field") => {
            String::from("the answer has no `data`")
        }
        serde_json::error::Category::Data => String::from("the answer is not a JSON object"),
        _ => e.to_string(),
    })?;
    let range = |raw: &RawValue| {
        // `raw` is a piece of `text`: its offset is the distance between their starts.
        let start = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        start..start.saturating_add(raw.get().len())
    };
    Ok((range(parts.data), parts.meta.map(range)))
}

/// `text` with each `NaN`, `Infinity` and `-Infinity` outside a string made `null`, and where
/// each `null` is in it; `None` when there is none.
fn non_finite_as_null(text: &str) -> Option<(String, Vec<Range<usize>>)> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut patches = Vec::new();
    let (mut i, mut copied, mut strings) = (0, 0, Strings::default());
    while let Some(&b) = bytes.get(i) {
        if strings.holds(b) {
            i = i.saturating_add(1);
            continue;
        }
        let rest = bytes.get(i..).unwrap_or_default();
        let word = [&b"NaN"[..], b"Infinity", b"-Infinity"]
            .into_iter()
            .find(|word| rest.starts_with(word));
        match word {
            Some(word) => {
                // `i` and `copied` are at ASCII bytes: character boundaries.
                out.push_str(text.get(copied..i).unwrap_or_default());
                let start = out.len();
                out.push_str("null");
                patches.push(start..out.len());
                i = i.saturating_add(word.len());
                copied = i;
            }
            None => i = i.saturating_add(1),
        }
    }
    if patches.is_empty() {
        return None;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    Some((out, patches))
}

/// Whether `json` (valid JSON) nests more than `limit` arrays and objects. One pass.
fn nests_deeper(json: &[u8], limit: usize) -> bool {
    let (mut depth, mut strings) = (0usize, Strings::default());
    for &b in json {
        if strings.holds(b) {
            continue;
        }
        match b {
            b'[' | b'{' => {
                depth = depth.saturating_add(1);
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Which bytes of JSON text are inside a string: fed the bytes in order, it follows the quotes
/// and the escapes between them.
#[derive(Default)]
struct Strings {
    in_string: bool,
    escaped: bool,
}

impl Strings {
    /// Whether `b`, the next byte, belongs to a string (its quotes included).
    fn holds(&mut self, b: u8) -> bool {
        if self.in_string {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.in_string = false,
                _ => {}
            }
            true
        } else {
            self.in_string = b == b'"';
            self.in_string
        }
    }
}

/// An answer's metadata from its `meta` (JSON text): usage, cost, trace, and the whole `meta`.
/// A field that cannot be read (a number out of range, `1e400`) or that does not have its
/// type (a `cost` that is not a number) is dropped, and logged at `debug`: the output stands.
fn metadata(meta: Option<&str>) -> Response<()> {
    let meta = meta.and_then(|meta| match serde_json::from_str::<Value>(meta) {
        Ok(Value::Object(meta)) => Some(meta),
        Ok(_) => None,
        // A field that cannot be read: the others are kept.
        Err(_) => serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(meta)
            .ok()
            .map(|fields| {
                fields
                    .into_iter()
                    .filter_map(|(key, raw)| match serde_json::from_str(raw.get()) {
                        Ok(value) => Some((key, value)),
                        Err(error) => {
                            dropped(&key, &error.to_string());
                            None
                        }
                    })
                    .collect()
            }),
    });
    let read = |key: &str| meta.as_ref().and_then(|meta| meta.get(key));
    let usage = read("usage")
        .and_then(|usage| {
            Usage::deserialize(usage)
                .map_err(|error| dropped("usage", &error.to_string()))
                .ok()
        })
        .map(|mut usage: Usage| {
            if usage.total_tokens == 0 {
                usage.total_tokens = usage.input_tokens.saturating_add(usage.output_tokens);
            }
            usage
        });
    let cost = read("cost")
        .filter(|cost| !cost.is_null())
        .and_then(|cost| {
            let total = cost.as_f64().filter(|total| total.is_finite());
            if total.is_none() {
                dropped("cost", "not a finite number");
            }
            total
        })
        .map(|total| Cost {
            total,
            ..Cost::default()
        });
    let trace_uuid = read("trace_uuid")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Response {
        output: (),
        span_id: None,
        trace_uuid,
        usage,
        cost,
        meta: meta.map(Value::Object),
        cached: false,
        cache_hit: false,
        images: Vec::new(),
        reasks: 0,
    }
}

/// Logs a `meta` field dropped because it could not be read.
fn dropped(field: &str, reason: &str) {
    tracing::debug!(
        field,
        reason,
        "dropping a field of the answer's `meta` that cannot be read"
    );
}

/// The status of a pending answer: `202 Accepted`.
pub(crate) const PENDING: u16 = 202;

/// A `202 Accepted` (`PendingResponse`): the work is not done; its pending operations.
pub(crate) fn pending(status: u16, bytes: &[u8]) -> Option<Error> {
    if status != PENDING {
        return None;
    }
    #[derive(Deserialize, Default)]
    struct Body {
        #[serde(default)]
        meta: Option<Meta>,
    }
    #[derive(Deserialize, Default)]
    struct Meta {
        #[serde(default, deserialize_with = "first_operations")]
        pending_operations: Vec<PendingOperation>,
    }
    let body: Body = serde_json::from_slice(bytes).unwrap_or_default();
    let operations = body
        .meta
        .map(|meta| meta.pending_operations)
        .unwrap_or_default();
    Some(Error::Pending { operations })
}

/// The first [`PendingOperation::MAX_KEPT`] operations of a `pending_operations` array (or
/// none, when it is not an array), each field cut at [`PendingOperation::MAX_FIELD_BYTES`]:
/// the rest are skipped as they are read, never decoded, so a 202 holds its body and what it
/// keeps, however many operations it lists.
fn first_operations<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<PendingOperation>, D::Error> {
    #[derive(Deserialize)]
    struct Operation {
        #[serde(default)]
        id: Option<Value>,
        #[serde(default)]
        status_url: Option<String>,
        #[serde(default, rename = "type")]
        kind: Option<String>,
    }
    struct First;
    impl<'de> serde::de::Visitor<'de> for First {
        type Value = Vec<PendingOperation>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of pending operations")
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut items: A,
        ) -> Result<Self::Value, A::Error> {
            let text = |text: String| cut(text, PendingOperation::MAX_FIELD_BYTES);
            let mut kept = Vec::new();
            while kept.len() < PendingOperation::MAX_KEPT {
                // An item that is not an operation's object counts as one with no fields.
                let Some(item) = items.next_element::<MaybeOperation>()? else {
                    return Ok(kept);
                };
                let operation = item.0.unwrap_or(Operation {
                    id: None,
                    status_url: None,
                    kind: None,
                });
                kept.push(PendingOperation {
                    id: operation.id.map(|id| match id {
                        Value::String(id) => text(id),
                        other => text(other.to_string()),
                    }),
                    status_url: operation.status_url.map(text),
                    kind: operation.kind.map(text),
                });
            }
            while items.next_element::<IgnoredAny>()?.is_some() {}
            Ok(kept)
        }
    }
    /// An operation, or `None` for an item of another shape.
    struct MaybeOperation(Option<Operation>);
    impl<'de> Deserialize<'de> for MaybeOperation {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let value = Value::deserialize(deserializer)?;
            Ok(Self(Operation::deserialize(value).ok()))
        }
    }
    deserializer.deserialize_any(First)
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

/// The frame an event carries. `content` is text; the `complete` event is the final answer
/// (its data moved into the frame, not copied: see [`Final`]); `[DONE]` ends the stream; an
/// `error` frame ends it with its message. Unknown types, `done`, keep-alives, and lines
/// that are not JSON (as the official clients do) are skipped; a line cut by the end of the
/// body is a cut stream; a `complete` event that cannot be read ends the stream
/// ([`Error::InvalidChunk`], saying why).
pub(crate) fn frame(event: &str, data: String, at_eof: bool) -> Result<Option<Frame>> {
    let trimmed = data.trim();
    if trimmed == "[DONE]" {
        return Ok(Some(Frame::Done));
    }
    if trimmed.is_empty() {
        return Ok(None);
    }
    if event == COMPLETE {
        if at_eof && serde_json::from_str::<IgnoredAny>(trimmed).is_err() {
            return Err(Error::cut_inside_an_event());
        }
        return complete(data).map(Some);
    }
    // Most frames are `content`: read with borrowed text, into no map.
    if let Ok(content) = serde_json::from_str::<Content<'_>>(trimmed)
        && content.kind == "content"
    {
        return Ok(content
            .delta
            .filter(|delta| !delta.is_empty())
            .map(|delta| Frame::Text(delta.into_owned())));
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
    data_frame(&value)
}

/// A `content` frame (or another type, left to the general reader).
#[derive(Deserialize)]
struct Content<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    delta: Option<std::borrow::Cow<'a, str>>,
}

/// Checks a recorded event (a cache entry's frame: `event` its name, empty when none) as
/// [`frame`] reads it, building nothing: an `error` frame is refused (its replay would fail).
pub(crate) fn check_recorded(event: &str, data: &str) -> std::result::Result<(), String> {
    if event != COMPLETE && crate::protocol::check::type_is(data, "error") {
        return Err("it holds an error frame".into());
    }
    Ok(())
}

/// The final answer in a `complete` event's data.
fn complete(data: String) -> Result<Frame> {
    match read_answer(Bytes::from(data)) {
        Ok(answer) => Ok(Frame::Complete(Box::new(answer))),
        Err(reason) => Err(Error::InvalidChunk {
            data: "the `complete` event".into(),
            reason: format!("the final answer could not be read: {reason}"),
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
    fn text_inside_strings_is_neither_patched_nor_counted_as_nesting() {
        let text = r#"{"a": "NaN \" [[ Infinity", "b": NaN, "c": -Infinity}"#;
        let (patched, patches) = non_finite_as_null(text).expect("two to patch");
        assert_eq!(
            patched,
            r#"{"a": "NaN \" [[ Infinity", "b": null, "c": null}"#
        );
        assert_eq!(patches.len(), 2);
        assert!(
            patches
                .iter()
                .all(|at| patched.get(at.clone()) == Some("null"))
        );
        assert_eq!(non_finite_as_null(r#"["NaN", "\"Infinity"]"#), None);
        let nested = br#"["[[[\"[[", [1]]"#;
        assert!(!nests_deeper(nested, 2));
        assert!(nests_deeper(nested, 1));
    }

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
    use crate::task::configuration::Configuration;
    use crate::task::example::Example;

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
        let frame = |event: &str, data: &str, at_eof| frame(event, data.to_owned(), at_eof);
        let text = frame("", r#"{"type":"content","delta":"{\"a\""}"#, false).unwrap();
        assert!(matches!(text.unwrap(), Frame::Text(t) if t == "{\"a\""));
        assert!(
            frame("", r#"{"type":"reasoning","delta":"x"}"#, false)
                .unwrap()
                .is_none()
        );
        assert!(frame("", "not json", false).unwrap().is_none());
        assert!(matches!(
            frame("", "[DONE]", false).unwrap().unwrap(),
            Frame::Done
        ));
        assert!(matches!(
            frame("", r#"{"type":"error","error":"boom"}"#, false),
            Err(Error::StreamChunk { error_message: Some(m), .. }) if m == "boom"
        ));
        let complete = frame(
            "complete",
            r#"{"data": {"sum":9} ,"meta":{"trace_uuid":"t"}}"#,
            false,
        )
        .unwrap()
        .unwrap();
        let Frame::Complete(answer) = complete else {
            panic!()
        };
        // Held as it arrived: the output is a piece of the event's text.
        assert_eq!(answer.output.text(), r#"{"sum":9}"#);
        assert_eq!(answer.trace_uuid.as_deref(), Some("t"));
    }

    #[test]
    fn an_answer_reads_around_what_meta_cannot_hold() {
        for meta in [
            r#"{"cost": 1e400, "trace_uuid": "t"}"#,
            r#"{"cost": NaN, "trace_uuid": "t"}"#,
            r#"{"cost": Infinity, "trace_uuid": "t"}"#,
            r#"{"cost": -Infinity, "trace_uuid": "t", "note": "NaN \" Infinity"}"#,
        ] {
            let body = format!(r#"{{"data": {{"sum": 9, "s": "NaN"}}, "meta": {meta}}}"#);
            let answer = answer(Bytes::from(body)).unwrap();
            assert_eq!(
                answer.output.to_value(),
                json!({"sum": 9, "s": "NaN"}),
                "{meta}"
            );
            assert_eq!(answer.cost, None, "{meta}");
            assert_eq!(answer.trace_uuid.as_deref(), Some("t"), "{meta}");
        }
        // In the output, such a number is an error.
        let answer = |body: &[u8]| answer(Bytes::copy_from_slice(body));
        let error = answer(br#"{"data": {"sum": NaN}, "meta": {}}"#).unwrap_err();
        assert!(error.to_string().contains("NaN or Infinity"), "{error}");
        let deepest = format!(r#"{{"data": {}1{}}}"#, "[".repeat(127), "]".repeat(127));
        assert!(answer(deepest.as_bytes()).is_ok());
        let deep = format!(r#"{{"data": {}1{}}}"#, "[".repeat(128), "]".repeat(128));
        let error = answer(deep.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("nests more than 127"), "{error}");
        assert!(
            answer(br#"{"meta": {}}"#)
                .unwrap_err()
                .to_string()
                .contains("no `data`")
        );
        assert!(
            answer(b"[1]")
                .unwrap_err()
                .to_string()
                .contains("not a JSON object")
        );
    }
}
