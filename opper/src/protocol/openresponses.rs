//! The agent's wire: `POST /v3/compat/openresponses`, always streamed, as the official client
//! (Python `opperai` 2.1.1 `Agent`) sends and reads it: the request body, the items of the
//! run's history, the stream's events, the terminal response, and the messages the official
//! client adds near the iteration limit.

use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::error::Result;
use crate::error::cut;
use crate::protocol::json;
use crate::response::Usage;
use crate::task::model::Model;

/// The endpoint, below the base URL.
pub(crate) const PATH: &str = "/v3/compat/openresponses";
/// The header naming the span the run's spans and calls are children of.
pub(crate) const PARENT_SPAN_HEADER: &str = "x-opper-parent-span-id";
/// The header naming the run (the official client's `trace_name`, by default the agent's name).
pub(crate) const NAME_HEADER: &str = "x-opper-name";
/// `max_output_tokens` when the agent sets none (the official `DEFAULT_MAX_OUTPUT_TOKENS`).
pub(crate) const DEFAULT_MAX_OUTPUT_TOKENS: u32 = 16000;
/// The most bytes of a call's name or id kept (ids are echoed back, so they are kept whole up
/// to this).
const MAX_ID_BYTES: usize = 1024;

/// The synthetic tool through which a model that cannot take a schema and tools in one request
/// gives its final answer (the official client's fallback).
pub(crate) const FINAL_ANSWER: &str = "final_answer";
/// Its description, as the official client writes it.
pub(crate) const FINAL_ANSWER_DESCRIPTION: &str = "Call this exactly once to provide your final answer. Its arguments must conform to the required output schema. Do not produce any plain-text final response \u{2014} only this tool call counts as your answer.";
/// What the instructions start with when the fallback is on.
pub(crate) const FINAL_ANSWER_INSTRUCTIONS: &str = "When you have all the information needed to answer, respond by calling the `final_answer` tool exactly once. Its arguments must match the required output schema. Do not produce a plain-text final answer \u{2014} only the `final_answer` tool call counts as your response.";
/// The message added after a turn that answered in prose instead.
pub(crate) const FINAL_ANSWER_NUDGE: &str = "Your previous response did not call the `final_answer` tool. You must deliver your final response by calling `final_answer` with arguments that match the required output schema.";

/// Whether the model (the first of a chain) takes a schema (`text.format`) and tools in one
/// request, by the official client's list of prefixes; no model: the service's default, which
/// does.
pub(crate) fn takes_schema_with_tools(model: Option<&str>) -> bool {
    const PREFIXES: [&str; 9] = [
        "openai/",
        "azure/openai/",
        "anthropic/",
        "gcp/gemini-2.",
        "gcp/gemini-3.",
        "google/gemini-2.",
        "google/gemini-3.",
        "vertexai/gemini-2.",
        "vertexai/gemini-3.",
    ];
    model.is_none_or(|name| {
        let name = name.to_lowercase();
        PREFIXES.iter().any(|prefix| name.starts_with(prefix))
    })
}

/// One item of the run's history (`input`), in the official client's key order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Item {
    /// A message: the user's input, or a message the loop adds (`developer`, `system`).
    Message { role: &'static str, content: String },
    /// A call the model made, echoed back with its arguments exactly as streamed.
    FunctionCall {
        call_id: String,
        name: String,
        arguments: String,
    },
    /// A call's output: the tool's JSON text, or `{"error": "..."}`.
    FunctionCallOutput { call_id: String, output: String },
}

impl Item {
    /// The user's message.
    pub(crate) fn user(content: String) -> Self {
        Item::Message {
            role: "user",
            content,
        }
    }

    /// A message of the loop with the `system` role (the fallback's nudge).
    pub(crate) fn system(content: &str) -> Self {
        Item::Message {
            role: "system",
            content: content.to_owned(),
        }
    }

    /// A message of the loop, with the `developer` role (turn awareness).
    pub(crate) fn developer(content: &str) -> Self {
        Item::Message {
            role: "developer",
            content: content.to_owned(),
        }
    }
}

/// The message added before turn `turn` of an agent allowed `max` (turns run from 1 to `max`,
/// then a recovery turn `max + 1` after a turn that called tools): the official client's words.
pub(crate) fn turn_message(turn: u32, max: u32) -> Option<&'static str> {
    if max >= 3 && Some(turn) == max.checked_sub(2) {
        Some("[System] 2 turns remaining. Start wrapping up and prepare your final output.")
    } else if turn == max {
        Some("[System] Final turn. Produce your final output now.")
    } else if Some(turn) == max.checked_add(1) {
        Some("[System] Turn limit exceeded. Respond with your best output now.")
    } else {
        None
    }
}

/// A tool as the request lists it.
#[derive(Debug, Serialize)]
pub(crate) struct ToolSpec<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parameters: Option<&'a Value>,
}

impl<'a> ToolSpec<'a> {
    pub(crate) fn function(
        name: &'a str,
        description: Option<&'a str>,
        parameters: Option<&'a Value>,
    ) -> Self {
        ToolSpec {
            kind: "function",
            name,
            description,
            parameters,
        }
    }
}

/// What a turn's request is made of.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) input: &'a [Item],
    pub(crate) instructions: &'a str,
    pub(crate) tools: &'a [ToolSpec<'a>],
    pub(crate) model: Option<&'a Model>,
    pub(crate) temperature: Option<f64>,
    pub(crate) max_output_tokens: Option<u32>,
    /// The final answer's schema (`text.format`); `None` for a text answer.
    pub(crate) schema: Option<&'a Value>,
}

/// The request body, keys in the official client's order.
pub(crate) fn encode(request: &Request<'_>) -> Result<Vec<u8>> {
    #[derive(Serialize)]
    struct Body<'a> {
        input: &'a [Item],
        instructions: &'a str,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        tools: &'a [ToolSpec<'a>],
        #[serde(skip_serializing_if = "Option::is_none")]
        model: Option<&'a Model>,
        #[serde(skip_serializing_if = "Option::is_none")]
        temperature: Option<f64>,
        max_output_tokens: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<Text<'a>>,
        stream: bool,
    }
    #[derive(Serialize)]
    struct Text<'a> {
        format: Format<'a>,
    }
    #[derive(Serialize)]
    struct Format<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        name: &'static str,
        schema: &'a Value,
    }
    let body = Body {
        input: request.input,
        instructions: request.instructions,
        tools: request.tools,
        model: request.model,
        temperature: request.temperature,
        max_output_tokens: request
            .max_output_tokens
            .unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS),
        text: request.schema.map(|schema| Text {
            format: Format {
                kind: "json_schema",
                name: "output",
                schema,
            },
        }),
        stream: true,
    };
    json::write(&body, [None, None, None])
}

/// An event of the stream, as the official client reads it (every other event is skipped).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// `response.output_item.added` of a `function_call`: a call starts at `index`.
    CallAdded {
        index: u64,
        call_id: String,
        name: String,
    },
    /// `response.function_call_arguments.delta`: more of the arguments of the call at `index`.
    ArgumentsDelta { index: u64, delta: String },
    /// `response.function_call_arguments.done`: the whole arguments (they replace the deltas).
    ArgumentsDone { index: u64, arguments: String },
    /// `response.output_text.delta`: a piece of the model's text.
    TextDelta(String),
    /// `response.completed`, `.failed` or `.incomplete`: the response (the last one wins).
    Terminal(Box<Terminal>),
    /// `data: [DONE]`: nothing after it is read.
    Done,
}

/// What the loop reads of the terminal response.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Terminal {
    /// The response's `id`.
    pub(crate) id: Option<String>,
    /// The response's `status`.
    pub(crate) status: Option<String>,
    /// The response's `error` (its `code` and `message`), when truthy.
    pub(crate) error: Option<(Option<String>, Option<String>)>,
    /// Every `output_text` part of every assistant message, joined.
    pub(crate) text: String,
    pub(crate) usage: Usage,
}

/// The event an SSE event's `data` carries: `Ok(None)` for events the loop skips (and lines
/// that are not JSON, as the official client drops them, unless the body was cut inside one);
/// an `error` event is [`Error::StreamChunk`].
pub(crate) fn event(data: &str, at_eof: bool) -> Result<Option<Event>> {
    let data = data.trim();
    if data == "[DONE]" {
        return Ok(Some(Event::Done));
    }
    if data.is_empty() {
        return Ok(None);
    }
    let value: Value = match serde_json::from_str(data) {
        Ok(value) => value,
        Err(_) if at_eof => return Err(Error::cut_inside_an_event()),
        Err(_) => return Ok(None),
    };
    let text = |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let index = value.get("output_index").and_then(Value::as_u64);
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(match kind {
        "response.output_item.added" => {
            let item = value.get("item").unwrap_or(&Value::Null);
            match (index, item.get("type").and_then(Value::as_str)) {
                (Some(index), Some("function_call")) => Some(Event::CallAdded {
                    index,
                    call_id: cut(text(item, "call_id").unwrap_or_default(), MAX_ID_BYTES),
                    name: cut(text(item, "name").unwrap_or_default(), MAX_ID_BYTES),
                }),
                _ => None,
            }
        }
        "response.function_call_arguments.delta" => index.map(|index| Event::ArgumentsDelta {
            index,
            delta: text(&value, "delta").unwrap_or_default(),
        }),
        "response.function_call_arguments.done" => index.map(|index| Event::ArgumentsDone {
            index,
            arguments: text(&value, "arguments").unwrap_or_default(),
        }),
        "response.output_text.delta" => text(&value, "delta").map(Event::TextDelta),
        "response.completed" | "response.failed" | "response.incomplete" => Some(Event::Terminal(
            Box::new(terminal(value.get("response").unwrap_or(&Value::Null))),
        )),
        "error" => {
            let error = value.get("error").unwrap_or(&Value::Null);
            return Err(Error::stream_chunk(
                text(error, "code").or_else(|| text(error, "type")),
                // The official client reads only the nested message.
                Some(text(error, "message").unwrap_or_else(|| "unknown".to_owned())),
            ));
        }
        _ => None,
    })
}

/// The terminal response's fields the loop reads.
fn terminal(response: &Value) -> Terminal {
    let text = |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let count = |value: Option<&Value>| value.and_then(Value::as_u64);
    let usage = response.get("usage").unwrap_or(&Value::Null);
    let (input, output) = (
        count(usage.get("input_tokens")),
        count(usage.get("output_tokens")),
    );
    let usage = Usage {
        input_tokens: input.unwrap_or_default(),
        output_tokens: output.unwrap_or_default(),
        total_tokens: count(usage.get("total_tokens")).unwrap_or_else(|| {
            input
                .unwrap_or_default()
                .saturating_add(output.unwrap_or_default())
        }),
        reasoning_tokens: count(usage.pointer("/output_tokens_details/reasoning_tokens")),
        cache_read_tokens: count(usage.pointer("/input_tokens_details/cached_tokens")),
        ..Usage::default()
    };
    let error = response
        .get("error")
        .filter(|error| truthy(error))
        .map(|error| match error {
            Value::Object(_) => (text(error, "code"), text(error, "message")),
            Value::String(message) => (None, Some(message.clone())),
            other => (None, Some(other.to_string())),
        });
    let mut joined = String::new();
    let items = response.get("output").and_then(Value::as_array);
    for item in items.into_iter().flatten() {
        if item.get("type").and_then(Value::as_str) != Some("message")
            || item.get("role").and_then(Value::as_str) != Some("assistant")
        {
            continue;
        }
        let parts = item.get("content").and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            if part.get("type").and_then(Value::as_str) == Some("output_text")
                && let Some(text) = part.get("text").and_then(Value::as_str)
            {
                joined.push_str(text);
            }
        }
    }
    Terminal {
        id: text(response, "id").map(|id| cut(id, MAX_ID_BYTES)),
        status: text(response, "status").map(|status| cut(status, MAX_ID_BYTES)),
        error,
        text: joined,
        usage,
    }
}

/// Python's truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// The final answer's JSON, read from the text leniently as the official client does: the
/// whole text, else the text inside a ```` ``` ```` fence, else from its first `{` (or `[`) to
/// its last `}` (`]`).
pub(crate) fn lenient_json(text: &str) -> Option<Value> {
    let whole = text.trim();
    if let Ok(value) = serde_json::from_str(whole) {
        return Some(value);
    }
    if let Some(rest) = whole.strip_prefix("```") {
        let body = rest.split_once('\n').map_or("", |(_, body)| body);
        let body = body.trim_end().strip_suffix("```").unwrap_or(body);
        if let Ok(value) = serde_json::from_str(body.trim()) {
            return Some(value);
        }
    }
    for (open, close) in [('{', '}'), ('[', ']')] {
        if let (Some(start), Some(end)) = (whole.find(open), whole.rfind(close))
            && let Some(inner) = whole.get(start..=end)
            && let Ok(value) = serde_json::from_str(inner)
        {
            return Some(value);
        }
    }
    None
}

/// A schema with its `$ref`s to `#/$defs/...` replaced by the definitions and `$defs` removed,
/// as the official client sends `text.format.schema`. A recursive type keeps its `$defs`.
pub(crate) fn inline_refs(mut schema: Value) -> Value {
    let Some(defs) = schema.as_object_mut().and_then(|root| root.remove("$defs")) else {
        return schema;
    };
    let original = schema.clone();
    // Each level of inlining goes one definition deeper; past this many, it is recursive.
    const MAX_DEPTH: usize = 32;
    fn walk(value: &mut Value, defs: &Value, depth: usize) -> bool {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref")
                    && let Some(name) = target.strip_prefix("#/$defs/")
                {
                    let Some(definition) = defs.get(name) else {
                        return false;
                    };
                    if depth == 0 {
                        return false;
                    }
                    let mut definition = definition.clone();
                    if !walk(&mut definition, defs, depth.saturating_sub(1)) {
                        return false;
                    }
                    map.remove("$ref");
                    if let Value::Object(definition) = definition {
                        for (key, value) in definition {
                            map.entry(key).or_insert(value);
                        }
                    }
                    return true;
                }
                map.values_mut().all(|value| walk(value, defs, depth))
            }
            Value::Array(items) => items.iter_mut().all(|value| walk(value, defs, depth)),
            _ => true,
        }
    }
    if walk(&mut schema, &defs, MAX_DEPTH) {
        schema
    } else {
        let mut original = original;
        if let Some(root) = original.as_object_mut() {
            root.insert("$defs".into(), defs);
        }
        original
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn turn_messages_as_the_official_client() {
        let messages: Vec<_> = (1..=4).map(|turn| turn_message(turn, 3)).collect();
        assert_eq!(
            messages[0],
            Some("[System] 2 turns remaining. Start wrapping up and prepare your final output.")
        );
        assert_eq!(messages[1], None);
        assert_eq!(
            messages[2],
            Some("[System] Final turn. Produce your final output now.")
        );
        assert_eq!(
            messages[3],
            Some("[System] Turn limit exceeded. Respond with your best output now.")
        );
        assert_eq!(turn_message(1, 2), None);
        assert_eq!(turn_message(1, 1), turn_message(3, 3));
    }

    #[test]
    fn lenient_answers() {
        assert_eq!(lenient_json(r#" {"a": 1} "#), Some(json!({"a": 1})));
        assert_eq!(
            lenient_json("```json\n{\"a\": 1}\n```"),
            Some(json!({"a": 1}))
        );
        assert_eq!(
            lenient_json("Here: {\"a\": 1}. Done."),
            Some(json!({"a": 1}))
        );
        assert_eq!(lenient_json("no json"), None);
    }

    #[test]
    fn refs_are_inlined_unless_recursive() {
        let schema = json!({"type": "object", "properties": {"p": {"$ref": "#/$defs/P"}},
            "$defs": {"P": {"type": "object", "title": "P"}}});
        assert_eq!(
            inline_refs(schema),
            json!({"type": "object", "properties": {"p": {"type": "object", "title": "P"}}})
        );
        let recursive = json!({"$ref": "#/$defs/N", "$defs": {"N": {"properties": {"next": {"$ref": "#/$defs/N"}}}}});
        assert_eq!(inline_refs(recursive.clone()), recursive);
    }
}
