//! The agent's endpoint of the mock server, `POST /v3/compat/openresponses` (streamed, as the
//! official client's `Agent` reads it): scripted turns ([`Turn`]), and, with nothing
//! scripted, a model of its own that calls each offered tool once, with arguments generated
//! from its `parameters`, then answers with a value generated from `text.format`'s schema (or
//! a few words of text). Nothing else in the server names a field of this wire.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::reply::{Body, Reply};
use super::rng::Rng;
use super::schema::{Generator, hash_str, words};

/// The official client's tool for a final answer (models that cannot take a schema and tools).
const FINAL_ANSWER: &str = "final_answer";

/// The endpoint's path.
pub(crate) const PATH: &str = "/v3/compat/openresponses";

/// The queue name a request answers from: its `X-Opper-Name` header (the agent's name), else
/// `openresponses`.
pub(crate) fn name(header: Option<&str>) -> String {
    header.unwrap_or("openresponses").to_owned()
}

/// Checks a body: a JSON object with an `input` array. On failure, the message and `details`
/// of a 400.
pub(crate) fn validate(body: Option<&Value>) -> Result<(), (&'static str, Value)> {
    let Some(body) = body.and_then(Value::as_object) else {
        return Err((
            "The body must be a JSON object",
            json!({"type": "object_type"}),
        ));
    };
    match body.get("input") {
        Some(Value::Array(_) | Value::String(_)) => Ok(()),
        _ => Err((
            "Field required: input",
            json!({"field": "input", "type": "missing"}),
        )),
    }
}

/// A scripted turn of a model: the tools it calls (with their arguments, as JSON text), then
/// the text of its message; framed as the service streams a response. Installed as a
/// [`Reply`] ([`into_reply`](Self::into_reply)) under the agent's name (the request's
/// `X-Opper-Name` header; a request without it, such as the official Python agent's when it
/// does not trace, takes the queue `openresponses`), so faults apply to it as to any reply
/// (`.into_reply().drop_after(3)` cuts the stream after three events).
///
/// ```
/// use opper::testing::{MockServer, Turn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = MockServer::start().await;
/// server.enqueue("support", Turn::new().call("get_weather", r#"{"city":"Paris"}"#).into_reply());
/// server.enqueue("support", Turn::answer(r#"{"summary": "Sunny"}"#).into_reply());
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Turn {
    calls: Vec<(String, String, String)>,
    text: Option<String>,
    usage: Option<(u64, u64)>,
    failed: Option<String>,
    terminal: bool,
}

impl Turn {
    /// A turn that calls nothing and says nothing (add calls and text).
    pub fn new() -> Self {
        Turn {
            terminal: true,
            ..Turn::default()
        }
    }

    /// A turn that answers `text` (the final answer: its JSON, for a structured output).
    pub fn answer(text: impl Into<String>) -> Self {
        Turn::new().text(text)
    }

    /// Calls `name` with `arguments` (JSON text, sent as is, even when it is not JSON), with
    /// the id `call_<name>_<n>` (`n`: the call's place in the turn, from 1).
    pub fn call(self, name: impl Into<String>, arguments: impl Into<String>) -> Self {
        let name = name.into();
        let id = format!("call_{name}_{}", self.calls.len().saturating_add(1));
        self.call_with_id(id, name, arguments)
    }

    /// Calls `name` with `arguments` under the id `call_id`.
    pub fn call_with_id(
        mut self,
        call_id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        self.calls
            .push((call_id.into(), name.into(), arguments.into()));
        self
    }

    /// The text of the turn's message.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// The usage the response reports (else counted from the text's length).
    pub fn usage(mut self, input_tokens: u64, output_tokens: u64) -> Self {
        self.usage = Some((input_tokens, output_tokens));
        self
    }

    /// Ends with `response.failed`, its `error.message` this message.
    pub fn failed(mut self, message: impl Into<String>) -> Self {
        self.failed = Some(message.into());
        self
    }

    /// Leaves out the terminal event: the stream ends without a response.
    pub fn without_completion(mut self) -> Self {
        self.terminal = false;
        self
    }

    /// The turn as a [`Reply`]: its events, each `data: {json}\n\n`.
    pub fn into_reply(self) -> Reply {
        Reply::events(self.events(0))
    }

    /// The turn's events; `seed` makes its ids.
    fn events(&self, seed: u64) -> Vec<Value> {
        let response_id = format!("resp_{seed:016x}");
        let mut events = vec![json!({"type": "response.created",
            "response": {"id": response_id, "status": "in_progress", "output": []}})];
        let mut output = Vec::new();
        for (index, (call_id, name, arguments)) in self.calls.iter().enumerate() {
            let item_id = format!("fc_{index}");
            events.push(
                json!({"type": "response.output_item.added", "output_index": index,
                "item": {"type": "function_call", "id": item_id, "call_id": call_id,
                    "name": name, "arguments": "", "status": "in_progress"}}),
            );
            for delta in halves(arguments) {
                events.push(json!({"type": "response.function_call_arguments.delta",
                    "output_index": index, "item_id": item_id, "delta": delta}));
            }
            events.push(json!({"type": "response.function_call_arguments.done",
                "output_index": index, "item_id": item_id, "arguments": arguments}));
            let item = json!({"type": "function_call", "id": item_id, "call_id": call_id,
                "name": name, "arguments": arguments, "status": "completed"});
            events.push(
                json!({"type": "response.output_item.done", "output_index": index,
                "item": item}),
            );
            output.push(item);
        }
        if let Some(text) = &self.text {
            let index = self.calls.len();
            let item_id = format!("msg_{seed:016x}");
            events.push(
                json!({"type": "response.output_item.added", "output_index": index,
                "item": {"type": "message", "id": item_id, "role": "assistant", "content": []}}),
            );
            for delta in pieces(text, 8) {
                events.push(
                    json!({"type": "response.output_text.delta", "output_index": index,
                    "item_id": item_id, "content_index": 0, "delta": delta}),
                );
            }
            events.push(
                json!({"type": "response.output_text.done", "output_index": index,
                "item_id": item_id, "content_index": 0, "text": text}),
            );
            output.push(
                json!({"type": "message", "id": item_id, "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}]}),
            );
        }
        let (input_tokens, output_tokens) = self.usage.unwrap_or_else(|| {
            let written = self
                .calls
                .iter()
                .map(|(_, _, arguments)| arguments.len())
                .fold(
                    self.text.as_deref().map_or(0, str::len),
                    usize::saturating_add,
                );
            (100, (written / 4).max(1) as u64)
        });
        let mut response = json!({"id": response_id, "object": "response",
            "status": if self.failed.is_some() { "failed" } else { "completed" },
            "output": output,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                "total_tokens": input_tokens.saturating_add(output_tokens),
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0}}});
        let kind = match &self.failed {
            Some(message) => {
                if let Some(response) = response.as_object_mut() {
                    response.insert(
                        "error".into(),
                        json!({"code": "server_error", "message": message}),
                    );
                }
                "response.failed"
            }
            None => "response.completed",
        };
        if self.terminal {
            events.push(json!({"type": kind, "response": response}));
        }
        events
    }
}

/// `text` in two pieces, cut at a character boundary near its middle (one piece when short).
fn halves(text: &str) -> Vec<&str> {
    let middle = (0..=text.len() / 2)
        .rev()
        .find(|&at| text.is_char_boundary(at))
        .unwrap_or(0);
    let (head, tail) = text.split_at(middle);
    [head, tail]
        .into_iter()
        .filter(|piece| !piece.is_empty())
        .collect()
}

/// `text` in pieces of about `size` bytes, cut at character boundaries.
fn pieces(text: &str, size: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = (size.min(rest.len())..=rest.len())
            .find(|&at| rest.is_char_boundary(at))
            .unwrap_or(rest.len());
        let (head, tail) = rest.split_at(end);
        out.push(head);
        rest = tail;
    }
    out
}

/// The stream answering a request whose reply is `body`, when this endpoint answers it itself:
/// a JSON or text reply is the turn's answer; with nothing scripted, the built-in model's turn.
/// `None` for the replies the server frames as for any endpoint (events, raw bytes, statuses).
pub(crate) fn answer(body: &Body, request: Option<&Value>, seed: u64) -> Option<Vec<Bytes>> {
    let turn = match body {
        Body::Json(value) => Turn::answer(value.to_string()),
        Body::Text(text) => Turn::answer(text.clone()),
        Body::Generated => model(request.unwrap_or(&Value::Null), seed),
        _ => return None,
    };
    Some(
        turn.events(seed)
            .iter()
            .map(|event| Bytes::from(format!("data: {event}\n\n")))
            .collect(),
    )
}

/// The built-in model: before any tool output is in the history, a call of each offered tool
/// with generated arguments; then the answer, generated from `text.format`'s schema (or, when
/// the request offers the official client's `final_answer` tool, a call of it with arguments
/// generated from its parameters).
fn model(request: &Value, seed: u64) -> Turn {
    let items = request.get("input").and_then(Value::as_array);
    let called = items
        .into_iter()
        .flatten()
        .any(|item| item.get("type").and_then(Value::as_str) == Some("function_call_output"));
    let tools = request.get("tools").and_then(Value::as_array);
    let final_answer = tools
        .into_iter()
        .flatten()
        .find(|tool| tool.get("name").and_then(Value::as_str) == Some(FINAL_ANSWER));
    let mut turn = Turn::new();
    if !called {
        for tool in tools.into_iter().flatten() {
            let Some(name) = tool
                .get("name")
                .and_then(Value::as_str)
                .filter(|name| *name != FINAL_ANSWER)
            else {
                continue;
            };
            let arguments = match tool.get("parameters") {
                Some(schema) => Generator::new()
                    .seed(seed ^ hash_str(name))
                    .generate(schema),
                None => Value::Object(Map::new()),
            };
            turn = turn.call(name, arguments.to_string());
        }
        if !turn.calls.is_empty() {
            return turn;
        }
    }
    // The official client's fallback: the answer as `final_answer`'s arguments.
    if let Some(schema) = final_answer.and_then(|tool| tool.get("parameters")) {
        let arguments = Generator::new().seed(seed).generate(schema);
        return turn.call(FINAL_ANSWER, arguments.to_string());
    }
    let schema = request.pointer("/text/format/schema");
    let text = match schema {
        Some(schema) => Generator::new().seed(seed).generate(schema).to_string(),
        None => {
            let mut rng = Rng::new(seed);
            format!("This is a mock answer: {}.", words(&mut rng, 8))
        }
    };
    turn.text(text)
}
