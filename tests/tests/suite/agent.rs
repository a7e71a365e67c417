//! Agents over loopback (`POST /v3/compat/openresponses`), scenario by scenario as
//! `opper-api/AGENT.md` describes what the official client 2.1.1 sends: the request body (its
//! keys in order, the tools, `text.format`), the history sent back (the calls, then their
//! outputs, as `json.dumps` text), tool errors, unknown tools, bad arguments, a text answer,
//! the iteration limit and its messages, HTTP errors, failed and cut streams; and what this
//! crate does better: tools that start while the model streams, run together, and are
//! cancelled with the run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opper::testing::{MockServer, RecordedRequest, RecordedSpan, Reply, Turn};
use opper::{Agent, Error, RetryPolicy, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Serialize)]
struct Weather {
    city: String,
    temperature_c: i64,
    conditions: &'static str,
}

/// Current weather in a city.
#[opper::tool]
async fn get_weather(
    /// City name, e.g. "Paris"
    city: String,
) -> Result<Weather, String> {
    match city.as_str() {
        "Atlantis" => Err(format!("unknown city: {city}")),
        _ => Ok(Weather {
            city,
            temperature_c: 21,
            conditions: "sunny",
        }),
    }
}

/// Add two integers.
#[opper::tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Report {
    summary: String,
}

fn agent() -> Agent {
    Agent::new("planner")
        .instructions("Plan the day.")
        .model("openai/gpt-4o-mini")
        .tool(get_weather_tool())
        .tool(add_tool())
}

fn client(server: &MockServer) -> opper::Opper {
    server
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .expect("a client")
}

/// The agent's requests (its turns), in order; the spans' requests aside.
fn turns(server: &MockServer) -> Vec<RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|request| request.path == "/v3/compat/openresponses")
        .collect()
}

/// The bodies of the agent's requests, in order.
fn bodies(server: &MockServer) -> Vec<Value> {
    turns(server)
        .into_iter()
        .map(|request| request.body.expect("a JSON body"))
        .collect()
}

/// The top-level keys of a body, in the order they were sent.
fn keys(request: &RecordedRequest) -> Vec<String> {
    let body: serde_json::Map<String, Value> =
        serde_json::from_slice(&request.raw_body).expect("a JSON object");
    body.keys().cloned().collect()
}

/// The keys of a turn's body with tools and no `text` format, in order.
const TOOL_TURN_KEYS: [&str; 6] = [
    "input",
    "instructions",
    "tools",
    "model",
    "max_output_tokens",
    "stream",
];

/// A turn of four calls that cannot succeed (a tool error, an unknown tool, arguments that
/// are not JSON, arguments that do not fit), then the answer "All done.".
fn enqueue_four_failing_calls(server: &MockServer) {
    server.enqueue(
        "planner",
        Turn::new()
            .call_with_id("c1", "get_weather", r#"{"city":"Atlantis"}"#)
            .call_with_id("c2", "delete_everything", "{}")
            .call_with_id("c3", "add", r#"{"a":2,"b":"#)
            .call_with_id("c4", "add", r#"{"a":2}"#)
            .into_reply(),
    );
    server.enqueue("planner", Turn::answer("All done.").into_reply());
}

/// A turn calling `add` with 1 and 1, then the answer "two".
fn enqueue_one_plus_one(server: &MockServer) {
    server.enqueue(
        "planner",
        Turn::new()
            .call_with_id("c1", "add", r#"{"a":1,"b":1}"#)
            .into_reply(),
    );
    server.enqueue("planner", Turn::answer("two").into_reply());
}

fn user(content: &str) -> Value {
    json!({"type": "message", "role": "user", "content": content})
}

fn call(call_id: &str, name: &str, arguments: &str) -> Value {
    json!({"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments})
}

fn output(call_id: &str, output: &str) -> Value {
    json!({"type": "function_call_output", "call_id": call_id, "output": output})
}

#[tokio::test]
async fn two_tools_in_one_turn_then_a_structured_answer() {
    let server = MockServer::start().await;
    server.enqueue(
        "planner",
        Turn::new()
            .call_with_id("call_weather_1", "get_weather", r#"{"city":"Paris"}"#)
            .call_with_id("call_add_2", "add", r#"{"a":2,"b":3}"#)
            .usage(100, 20)
            .into_reply(),
    );
    server.enqueue(
        "planner",
        Turn::answer(r#"{"summary": "Sunny; 5"}"#)
            .usage(150, 10)
            .into_reply(),
    );
    let run = agent()
        .run::<Report>(&client(&server), "Weather in Paris, and 2+3?")
        .await
        .unwrap();
    assert_eq!(run.output.summary, "Sunny; 5");
    assert_eq!(run.iterations, 2);
    assert_eq!(
        (
            run.usage.input_tokens,
            run.usage.output_tokens,
            run.usage.total_tokens
        ),
        (250, 30, 280)
    );
    let names: Vec<&str> = run.tool_calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["get_weather", "add"]);
    assert_eq!(run.tool_calls[1].input, r#"{"a":2,"b":3}"#);
    assert_eq!(run.tool_calls[1].output, Ok("5".into()));

    let requests = turns(&server);
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.path, "/v3/compat/openresponses");
        assert_eq!(request.header("accept"), Some("text/event-stream"));
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("x-opper-name"), Some("planner"));
        // The run's span (see the span tests below).
        assert!(request.header("x-opper-parent-span-id").is_some());
        assert_eq!(
            keys(request),
            [
                "input",
                "instructions",
                "tools",
                "model",
                "max_output_tokens",
                "text",
                "stream"
            ]
        );
    }
    let bodies = bodies(&server);
    // AGENT.md §1.1: the tools as functions, their parameters from the signatures, the answer's
    // schema in `text.format` named "output", 16000 output tokens, streamed.
    assert_eq!(
        bodies[0],
        json!({
            "input": [user("Weather in Paris, and 2+3?")],
            "instructions": "Plan the day.",
            "tools": [
                {"type": "function", "name": "get_weather", "description": "Current weather in a city.",
                 "parameters": {"type": "object",
                    "properties": {"city": {"type": "string", "description": "City name, e.g. \"Paris\""}},
                    "required": ["city"]}},
                {"type": "function", "name": "add", "description": "Add two integers.",
                 "parameters": {"type": "object",
                    "properties": {"a": {"type": "integer", "format": "int64"},
                                   "b": {"type": "integer", "format": "int64"}},
                    "required": ["a", "b"]}},
            ],
            "model": "openai/gpt-4o-mini",
            "max_output_tokens": 16000,
            "text": {"format": {"type": "json_schema", "name": "output", "schema": {
                "title": "Report", "type": "object",
                "properties": {"summary": {"type": "string"}}, "required": ["summary"]}}},
            "stream": true,
        })
    );
    // AGENT.md §1.2: every call of the turn, then every output, in call order; arguments as
    // streamed, outputs as `json.dumps` writes them.
    assert_eq!(
        bodies[1]["input"],
        json!([
            user("Weather in Paris, and 2+3?"),
            call("call_weather_1", "get_weather", r#"{"city":"Paris"}"#),
            call("call_add_2", "add", r#"{"a":2,"b":3}"#),
            output(
                "call_weather_1",
                r#"{"city": "Paris", "temperature_c": 21, "conditions": "sunny"}"#
            ),
            output("call_add_2", "5"),
        ])
    );
    assert_eq!(bodies[1]["tools"], bodies[0]["tools"]);
}

#[tokio::test]
async fn a_tool_error_an_unknown_tool_and_bad_arguments_reach_the_model_as_errors() {
    let server = MockServer::start().await;
    enqueue_four_failing_calls(&server);
    let run = agent().run::<String>(&client(&server), "go").await.unwrap();
    assert_eq!(run.output, "All done.");
    let errors: Vec<_> = run
        .tool_calls
        .iter()
        .map(|c| c.output.clone().unwrap_err())
        .collect();
    assert_eq!(
        errors,
        [
            "unknown city: Atlantis",
            "Tool \"delete_everything\" not found",
            r#"Failed to parse tool arguments: {"a":2,"b":"#,
            "Invalid tool arguments: missing field `b`",
        ]
    );
    // AGENT.md §1.8: each as `{"error": "..."}`, and the run goes on.
    let input = &bodies(&server)[1]["input"];
    assert_eq!(
        input[5],
        output("c1", r#"{"error": "unknown city: Atlantis"}"#)
    );
    assert_eq!(
        input[6],
        output("c2", r#"{"error": "Tool \"delete_everything\" not found"}"#)
    );
    assert_eq!(
        input[7],
        output(
            "c3",
            r#"{"error": "Failed to parse tool arguments: {\"a\":2,\"b\":"}"#
        )
    );
    assert_eq!(input[3], call("c3", "add", r#"{"a":2,"b":"#));
}

#[tokio::test]
async fn a_text_answer_sends_no_text_format() {
    let server = MockServer::start().await;
    server.enqueue("planner", Turn::answer("Hello there.").into_reply());
    let run = agent().run::<String>(&client(&server), "hi").await.unwrap();
    assert_eq!((run.output.as_str(), run.iterations), ("Hello there.", 1));
    let requests = turns(&server);
    assert_eq!(keys(&requests[0]), TOOL_TURN_KEYS);
    // Without tools, no `tools` key; the instructions always, even empty.
    server.enqueue("bare", Turn::answer("ok").into_reply());
    Agent::new("bare")
        .run::<String>(&client(&server), "hi")
        .await
        .unwrap();
    assert_eq!(
        turns(&server)[1].body,
        Some(
            json!({"input": [user("hi")], "instructions": "", "max_output_tokens": 16000, "stream": true})
        )
    );
}

#[tokio::test]
async fn the_iteration_limit_adds_the_official_messages_then_fails_with_the_calls() {
    let server = MockServer::start().await;
    for turn in 1..=4 {
        let arguments = format!(r#"{{"a":{turn},"b":1}}"#);
        server.enqueue("planner", Turn::new().call("add", arguments).into_reply());
    }
    let error = agent()
        .max_iterations(3)
        .run::<Report>(&client(&server), "loop")
        .await
        .unwrap_err();
    let Error::MaxIterations {
        iterations,
        tool_calls,
    } = &error
    else {
        panic!("expected MaxIterations, got {error:?}");
    };
    assert_eq!((*iterations, tool_calls.len()), (3, 4));
    assert_eq!(
        error.to_string(),
        "the agent reached its limit of 3 iterations without a final answer"
    );
    let developer = |text: &str| json!({"type": "message", "role": "developer", "content": text});
    let bodies = bodies(&server);
    assert_eq!(bodies.len(), 4);
    // AGENT.md §1.7: at max-2, at max and at max+1, kept in the history.
    let wrap_up =
        developer("[System] 2 turns remaining. Start wrapping up and prepare your final output.");
    let last = developer("[System] Final turn. Produce your final output now.");
    let exceeded = developer("[System] Turn limit exceeded. Respond with your best output now.");
    assert_eq!(bodies[0]["input"], json!([user("loop"), wrap_up]));
    let messages = |body: &Value| -> Vec<Value> {
        body["input"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|item| item["type"] == "message")
            .cloned()
            .collect()
    };
    assert_eq!(messages(&bodies[1]), [user("loop"), wrap_up.clone()]);
    assert_eq!(
        messages(&bodies[2]),
        [user("loop"), wrap_up.clone(), last.clone()]
    );
    assert_eq!(
        messages(&bodies[3]),
        [user("loop"), wrap_up, last, exceeded]
    );
    assert!(
        bodies
            .iter()
            .all(|body| body["tools"].as_array().unwrap().len() == 2)
    );
}

#[tokio::test]
async fn the_recovery_turn_may_answer() {
    let server = MockServer::start().await;
    server.enqueue(
        "planner",
        Turn::new().call("add", r#"{"a":1,"b":1}"#).into_reply(),
    );
    server.enqueue("planner", Turn::answer(r#"{"summary": "2"}"#).into_reply());
    let run = agent()
        .max_iterations(1)
        .run::<Report>(&client(&server), "sum")
        .await
        .unwrap();
    assert_eq!((run.output.summary.as_str(), run.iterations), ("2", 2));
}

#[tokio::test]
async fn an_http_400_is_a_bad_request_after_one_request() {
    let server = MockServer::start().await;
    server.enqueue(
        "planner",
        Reply::api_error(400, "BadRequestError", "model does not exist"),
    );
    let error = agent()
        .run::<Report>(&server.client(), "x")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::BadRequest(api) if api.message.as_deref() == Some("model does not exist")),
        "{error:?}"
    );
    assert_eq!(turns(&server).len(), 1);
}

#[tokio::test]
async fn failed_and_cut_streams() {
    let server = MockServer::start().await;
    let opper = client(&server);
    // No terminal event.
    server.enqueue(
        "planner",
        Turn::answer("{}").without_completion().into_reply(),
    );
    let error = agent().run::<Report>(&opper, "x").await.unwrap_err();
    assert!(
        matches!(&error, Error::Incomplete { reason, .. } if reason.contains("without a completion event")),
        "{error:?}"
    );
    // The connection dropped after two events.
    server.enqueue(
        "planner",
        Turn::answer(r#"{"summary": "x"}"#)
            .into_reply()
            .drop_after(2),
    );
    let error = agent().run::<Report>(&opper, "x").await.unwrap_err();
    assert!(matches!(&error, Error::Incomplete { .. }), "{error:?}");
    // A response that failed.
    server.enqueue(
        "planner",
        Turn::answer("")
            .failed("the model is overloaded")
            .into_reply(),
    );
    let error = agent().run::<Report>(&opper, "x").await.unwrap_err();
    assert!(
        matches!(&error, Error::StreamChunk { error_message: Some(m), .. } if m == "the model is overloaded"),
        "{error:?}"
    );
    // An `error` event: only its nested message is read (AGENT.md §1.3).
    server.enqueue(
        "planner",
        Reply::events([
            json!({"type": "error", "error": {"message": "rate limit", "code": "rate_limited"}}),
        ]),
    );
    let error = agent().run::<Report>(&opper, "x").await.unwrap_err();
    assert!(
        matches!(&error, Error::StreamChunk { error_message: Some(m), .. } if m == "rate limit"),
        "{error:?}"
    );
    // An answer that is not the output type's JSON.
    server.enqueue("planner", Turn::answer("I cannot say.").into_reply());
    let error = agent().run::<Report>(&opper, "x").await.unwrap_err();
    assert!(
        matches!(&error, Error::Output { message, .. } if message.contains("did not return a parseable structured response (status=completed")),
        "{error:?}"
    );
    // Fenced JSON is read, as the official client reads it.
    server.enqueue(
        "planner",
        Turn::answer("```json\n{\"summary\": \"ok\"}\n```").into_reply(),
    );
    let run = agent().run::<Report>(&opper, "x").await.unwrap();
    assert_eq!(run.output.summary, "ok");
}

#[tokio::test]
async fn tools_start_while_the_model_streams_and_dropping_the_run_cancels_them() {
    let server = MockServer::start().await;
    // The call's arguments are done at the 4th event; then the stream stalls.
    server.enqueue(
        "planner",
        Turn::new()
            .call("slow", "{}")
            .text("thinking")
            .into_reply()
            .stall_after(5),
    );
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let started_tx = Arc::new(std::sync::Mutex::new(Some(started_tx)));
    let dropped = Arc::new(AtomicBool::new(false));
    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    #[derive(Deserialize, JsonSchema)]
    struct NoArgs {}
    let slow = Tool::new("slow", "Never ends.", {
        let dropped = dropped.clone();
        move |_: NoArgs| {
            let started = started_tx.lock().unwrap().take();
            let guard = SetOnDrop(dropped.clone());
            async move {
                let _guard = guard;
                if let Some(started) = started {
                    let _ = started.send(());
                }
                std::future::pending::<()>().await;
            }
        }
    });
    let agent = Agent::new("planner").tool(slow);
    let opper = client(&server);
    let run = agent.run::<String>(&opper, "go");
    tokio::select! {
        _ = run => panic!("the run cannot end: its stream stalls"),
        started = started_rx => started.expect("the tool started"),
    }
    // The select dropped the run: its tool and its request are gone.
    assert!(dropped.load(Ordering::SeqCst));
    let request = turns(&server).pop().unwrap();
    assert!(request.wait_disconnected(Duration::from_secs(10)).await);
}

#[tokio::test]
async fn the_tools_of_a_turn_run_together() {
    // Each tool waits for the other: run one after the other, they would never end.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    #[derive(Deserialize, JsonSchema)]
    struct NoArgs {}
    let meeting = |name: &'static str| {
        let barrier = barrier.clone();
        Tool::new(name, "", move |_: NoArgs| {
            let barrier = barrier.clone();
            async move {
                barrier.wait().await;
                name
            }
        })
    };
    let server = MockServer::start().await;
    server.enqueue(
        "planner",
        Turn::new()
            .call("left", "{}")
            .call("right", "{}")
            .into_reply(),
    );
    server.enqueue("planner", Turn::answer("met").into_reply());
    let agent = Agent::new("planner")
        .tool(meeting("left"))
        .tool(meeting("right"));
    let run = tokio::time::timeout(
        Duration::from_secs(30),
        agent.run::<String>(&client(&server), "go"),
    )
    .await
    .expect("the tools ran together")
    .unwrap();
    assert_eq!(run.tool_calls[0].output, Ok(r#""left""#.into()));
}

#[tokio::test]
async fn unscripted_the_server_calls_each_tool_once_then_answers_from_the_schema() {
    let server = MockServer::start().await;
    let run = agent()
        .run::<Report>(&client(&server), "plan")
        .await
        .unwrap();
    assert_eq!(run.iterations, 2);
    let names: Vec<&str> = run.tool_calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["get_weather", "add"]);
    assert!(
        run.tool_calls.iter().all(|call| call.output.is_ok()),
        "{:?}",
        run.tool_calls
    );
    assert!(!run.output.summary.is_empty());
    let bodies = bodies(&server);
    assert_eq!(bodies[1]["input"].as_array().unwrap().len(), 5);
}

/// The only root span, and the whole tree below it.
fn only_root(server: &MockServer) -> RecordedSpan {
    let mut roots = server.spans();
    assert_eq!(roots.len(), 1, "{roots:#?}");
    roots.remove(0)
}

/// The keys of the body that created `span`, in the order they were sent.
fn created_keys(span: &RecordedSpan) -> Vec<&str> {
    span.received[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// `span` is a tool call's span under `run`, created with `input`.
fn assert_tool_span(span: &RecordedSpan, run: &RecordedSpan, name: &str, input: &str) {
    assert_eq!(span.name, name);
    assert_eq!(span.kind.as_deref(), Some("tool"));
    assert_eq!(span.parent_id.as_deref(), Some(run.id.as_str()));
    assert_eq!(span.trace_id, run.trace_id);
    assert_eq!(span.input, Some(json!(input)));
    assert_eq!(span.tags, Some(json!({"tool": true})));
    assert_eq!(
        created_keys(span),
        [
            "name",
            "trace_id",
            "parent_id",
            "type",
            "input",
            "start_time",
            "tags"
        ]
    );
    assert!(span.end_time.is_some(), "{span:#?}");
    assert!(span.children.is_empty());
}

#[tokio::test]
async fn a_run_is_a_span_with_one_span_per_tool_call_its_turns_name_it_as_their_parent() {
    let server = MockServer::start().await;
    server.enqueue(
        "planner",
        Turn::new()
            .call_with_id("call_weather_1", "get_weather", r#"{"city":"Paris"}"#)
            .call_with_id("call_add_2", "add", r#"{"a":2,"b":3}"#)
            .into_reply(),
    );
    server.enqueue(
        "planner",
        Turn::answer(r#"{"summary": "Sunny; 5"}"#).into_reply(),
    );
    agent()
        .run::<Report>(&client(&server), "Weather in Paris, and 2+3?")
        .await
        .unwrap();
    // AGENT.md §2.1: at top level, neither `trace_id` nor `parent_id`.
    let run = only_root(&server);
    assert_eq!(run.name, "planner");
    assert_eq!(
        (run.parent_id.as_deref(), run.kind.as_deref()),
        (None, None)
    );
    assert_eq!(run.input, Some(json!("Weather in Paris, and 2+3?")));
    assert_eq!(created_keys(&run), ["name", "input", "start_time"]);
    // §2.5: ended, before `run` returned, with the answer's compact JSON.
    assert_eq!(run.received.len(), 2);
    assert_eq!(run.output, Some(json!(r#"{"summary":"Sunny; 5"}"#)));
    assert_eq!(run.error, None);
    assert_eq!(
        run.received[1]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["output", "end_time"]
    );
    // §2.3: one span per call, its input as `json.dumps` writes the arguments, its output the
    // tool's text.
    assert_eq!(run.children.len(), 2, "{run:#?}");
    assert_tool_span(
        &run.children[0],
        &run,
        "get_weather",
        r#"{"city": "Paris"}"#,
    );
    assert_tool_span(&run.children[1], &run, "add", r#"{"a": 2, "b": 3}"#);
    assert_eq!(
        run.children[0].output,
        Some(json!(
            r#"{"city": "Paris", "temperature_c": 21, "conditions": "sunny"}"#
        ))
    );
    assert_eq!(run.children[1].output, Some(json!("5")));
    assert_eq!(
        run.children[1].received[1]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["output", "end_time"]
    );
    // §2.2: every turn carries the run's span and name as headers, never in the body.
    let turns = turns(&server);
    assert_eq!(turns.len(), 2);
    for turn in &turns {
        assert_eq!(turn.header("x-opper-parent-span-id"), Some(run.id.as_str()));
        assert_eq!(turn.header("x-opper-name"), Some("planner"));
        assert!(turn.body.as_ref().unwrap().get("parent_span_id").is_none());
    }
    // The run span first, its end last.
    let requests = server.requests();
    assert_eq!(requests[0].path, "/v3/spans");
    assert_eq!(
        (
            requests.last().unwrap().method.as_str(),
            requests.last().unwrap().path.clone()
        ),
        ("PATCH", format!("/v3/spans/{}", run.id))
    );
}

#[tokio::test]
async fn a_run_inside_a_trace_is_a_child_of_the_trace_and_an_explicit_parent_is_sent_alone() {
    let server = MockServer::start().await;
    enqueue_one_plus_one(&server);
    let opper = client(&server);
    let output = opper::Trace::new("outer")
        .client(&opper)
        .run(agent().run::<String>(&opper, "1+1?"))
        .await
        .unwrap()
        .output;
    assert_eq!(output, "two");
    let outer = only_root(&server);
    assert_eq!(outer.name, "outer");
    let run = &outer.children[0];
    assert_eq!(outer.children.len(), 1);
    assert_eq!(run.name, "planner");
    assert_eq!(run.parent_id.as_deref(), Some(outer.id.as_str()));
    assert_eq!(run.trace_id, outer.trace_id);
    assert_eq!(
        created_keys(run),
        ["name", "trace_id", "parent_id", "input", "start_time"]
    );
    // A text answer is its own text.
    assert_eq!(run.output, Some(json!("two")));
    assert_tool_span(&run.children[0], run, "add", r#"{"a": 1, "b": 1}"#);
    for turn in turns(&server) {
        assert_eq!(turn.header("x-opper-parent-span-id"), Some(run.id.as_str()));
    }
    // After the run, the trace's span is current again: its end is the last request.
    let last = server.requests().pop().unwrap();
    assert_eq!(last.path, format!("/v3/spans/{}", outer.id));

    // An explicit parent: sent alone as the run's `parent_id` (§2.1).
    let server = MockServer::start().await;
    server.enqueue("planner", Turn::answer("ok").into_reply());
    let opper = client(&server);
    opper::with_parent_span(
        "0f6c6b4e-0000-4000-8000-000000000001",
        agent().run::<String>(&opper, "x"),
    )
    .await
    .unwrap();
    let run = only_root(&server);
    assert_eq!(
        run.parent_id.as_deref(),
        Some("0f6c6b4e-0000-4000-8000-000000000001")
    );
    assert_eq!(
        created_keys(&run),
        ["name", "parent_id", "input", "start_time"]
    );
    let request = turns(&server).pop().unwrap();
    assert_eq!(
        request.header("x-opper-parent-span-id"),
        Some(run.id.as_str())
    );
    assert!(request.body.unwrap().get("parent_span_id").is_none());
}

#[tokio::test]
async fn a_tool_error_ends_its_span_with_the_error_and_calls_that_cannot_run_have_none() {
    let server = MockServer::start().await;
    enqueue_four_failing_calls(&server);
    agent().run::<String>(&client(&server), "go").await.unwrap();
    let run = only_root(&server);
    // AGENT.md §2.3: no span for an unknown tool or arguments that are not JSON; arguments
    // that are JSON but do not fit fail inside the tool's span, as a Python tool's call does.
    let names: Vec<&str> = run.children.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["get_weather", "add"], "{run:#?}");
    let (failed, unfit) = (&run.children[0], &run.children[1]);
    assert_tool_span(failed, &run, "get_weather", r#"{"city": "Atlantis"}"#);
    assert_eq!(failed.error.as_deref(), Some("unknown city: Atlantis"));
    assert_eq!(failed.output, None);
    assert_eq!(
        failed.received[1]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["error", "end_time"]
    );
    assert_tool_span(unfit, &run, "add", r#"{"a": 2}"#);
    assert_eq!(
        unfit.error.as_deref(),
        Some("Invalid tool arguments: missing field `b`")
    );
    // The run itself answered.
    assert_eq!(run.output, Some(json!("All done.")));
}

#[tokio::test]
async fn a_failed_run_ends_its_span_with_the_error() {
    let server = MockServer::start().await;
    server.enqueue(
        "planner",
        Reply::api_error(400, "BadRequestError", "model does not exist"),
    );
    let error = agent()
        .run::<Report>(&client(&server), "x")
        .await
        .unwrap_err();
    let run = only_root(&server);
    assert_eq!(run.error, Some(error.to_string()));
    assert_eq!(run.output, None);
    assert!(run.end_time.is_some());

    // The iteration limit too, after the tool spans of every turn.
    let server = MockServer::start().await;
    server.reply_all(
        Turn::new()
            .call_with_id("c", "add", r#"{"a":1,"b":2}"#)
            .into_reply(),
    );
    let error = agent()
        .max_iterations(2)
        .run::<Report>(&client(&server), "x")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::MaxIterations { .. }), "{error:?}");
    let run = only_root(&server);
    assert_eq!(run.error, Some(error.to_string()));
    assert_eq!(run.children.len(), 3);
    assert!(
        run.children
            .iter()
            .all(|span| span.output == Some(json!("3")))
    );
}

#[tokio::test]
async fn a_span_that_cannot_be_created_leaves_the_run_untraced() {
    let server = MockServer::start().await;
    server.fault(Reply::status(500));
    enqueue_one_plus_one(&server);
    let run = agent()
        .run::<String>(&client(&server), "1+1?")
        .await
        .unwrap();
    assert_eq!(run.output, "two");
    assert!(server.spans().is_empty());
    let spans: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v3/spans"))
        .collect();
    assert_eq!(spans.len(), 1, "only the refused POST: {spans:?}");
    for turn in turns(&server) {
        assert_eq!(turn.header("x-opper-parent-span-id"), None);
    }
}

#[tokio::test]
async fn what_a_tool_calls_is_nested_under_the_tools_span() {
    #[derive(Deserialize, JsonSchema)]
    struct Question {
        text: String,
    }
    let server = MockServer::start().await;
    server.enqueue(
        "planner",
        Turn::new()
            .call_with_id("c1", "ask", r#"{"text":"where?"}"#)
            .into_reply(),
    );
    server.enqueue("planner", Turn::answer("done").into_reply());
    let opper = client(&server);
    let seen = Arc::new(std::sync::Mutex::new(None));
    let ask = Tool::new("ask", "Ask a task.", {
        let (opper, seen) = (opper.clone(), seen.clone());
        move |question: Question| {
            let (opper, seen) = (opper.clone(), seen.clone());
            async move {
                *seen.lock().unwrap() = opper::current_span();
                let sent = opper
                    .call("lookup")
                    .input(&question.text)
                    .send::<String>()
                    .await;
                if sent.is_ok() { "looked up" } else { "failed" }
            }
        }
    });
    let run = Agent::new("planner")
        .tool(ask)
        .run::<String>(&opper, "go")
        .await
        .unwrap();
    let run_span = only_root(&server);
    let tool_span = &run_span.children[0];
    assert_eq!(tool_span.name, "ask");
    // The tool saw its span as the current one, and its call was sent under it.
    let seen = seen
        .lock()
        .unwrap()
        .clone()
        .expect("a span inside the tool");
    assert_eq!(
        (seen.id(), seen.trace_id()),
        (tool_span.id.as_str(), run_span.trace_id.as_str())
    );
    let call = server.requests_for("lookup").pop().unwrap();
    assert_eq!(
        call.body.unwrap()["parent_span_id"],
        json!(tool_span.id.clone())
    );
    // A string output is its text in the span, as `to_text` writes it; the model reads its
    // JSON.
    assert_eq!(run.tool_calls[0].output, Ok(r#""looked up""#.to_owned()));
    assert_eq!(tool_span.output, Some(json!("looked up")));
    // After the tool, the run's span is the parent again: the next turn says so.
    assert_eq!(
        turns(&server)[1].header("x-opper-parent-span-id"),
        Some(run_span.id.as_str())
    );
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema, opper::Partial)]
struct Plan {
    city: String,
    temperature_c: i64,
}

#[tokio::test]
async fn a_stream_tells_the_turns_the_tools_and_typed_updates_of_the_answer() {
    use futures::StreamExt;
    use opper::AgentEvent;

    let server = MockServer::start().await;
    server.enqueue(
        "planner",
        Turn::new()
            .call_with_id("c1", "get_weather", r#"{"city":"Paris"}"#)
            .call_with_id("c2", "get_weather", r#"{"city":"Atlantis"}"#)
            .into_reply(),
    );
    server.enqueue(
        "planner",
        Turn::answer(r#"{"city": "Paris", "temperature_c": 21}"#).into_reply(),
    );
    let mut stream = agent()
        .stream::<Plan>(&client(&server), "Plan a day in Paris")
        .unwrap();
    let mut seen = Vec::new();
    let mut partials = Vec::new();
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            AgentEvent::Turn { iteration } => seen.push(format!("turn {iteration}")),
            AgentEvent::ToolStart {
                name,
                call_id,
                input,
            } => seen.push(format!("start {name} {call_id} {input}")),
            AgentEvent::ToolEnd {
                call_id, output, ..
            } => seen.push(format!("end {call_id} {output:?}")),
            AgentEvent::Update(update) => {
                assert_eq!(update.attempt, 2);
                partials.push(serde_json::to_value(&*update.partial).unwrap());
            }
            AgentEvent::Text(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let mut tools: Vec<&str> = seen[1..5].iter().map(String::as_str).collect();
    tools.sort_unstable();
    assert_eq!(seen[0], "turn 1");
    assert_eq!(
        tools,
        [
            r#"end c1 Ok("{\"city\": \"Paris\", \"temperature_c\": 21, \"conditions\": \"sunny\"}")"#,
            r#"end c2 Err("unknown city: Atlantis")"#,
            r#"start get_weather c1 {"city":"Paris"}"#,
            r#"start get_weather c2 {"city":"Atlantis"}"#,
        ]
    );
    assert!(
        seen.iter()
            .position(|s| s == "start get_weather c1 {\"city\":\"Paris\"}")
            < seen.iter().position(|s| s.starts_with("end c1"))
    );
    assert_eq!(seen[5], "turn 2");
    // Honest partials: the city grows by prefix, the number never shows in part.
    assert!(partials.len() >= 2, "{partials:?}");
    assert!(
        partials
            .iter()
            .all(|p| "Paris".starts_with(p["city"].as_str().unwrap()))
    );
    assert!(
        partials
            .iter()
            .all(|p| p.get("temperature_c").is_none_or(|t| t == 21))
    );
    assert_eq!(partials.last().unwrap()["city"], "Paris");
    let run = stream.finish().await.unwrap();
    assert_eq!(
        run.output,
        Plan {
            city: "Paris".into(),
            temperature_c: 21
        }
    );
    assert_eq!((run.iterations, run.tool_calls.len()), (2, 2));
}

#[tokio::test]
async fn a_streamed_run_is_traced_as_a_run_is() {
    use futures::StreamExt;

    let server = MockServer::start().await;
    server.enqueue(
        "planner",
        Turn::new()
            .call_with_id("c1", "get_weather", r#"{"city":"Rome"}"#)
            .into_reply(),
    );
    server.enqueue(
        "planner",
        Turn::answer(r#"{"city": "Rome", "temperature_c": 21}"#).into_reply(),
    );
    let opper = client(&server);
    let run = opper::Trace::new("outer")
        .client(&opper)
        .run(async {
            let mut stream = agent().stream::<Plan>(&opper, "Rome?")?;
            while let Some(event) = stream.next().await {
                event?;
            }
            stream.finish().await
        })
        .await
        .unwrap();
    assert_eq!(run.output.city, "Rome");
    let outer = only_root(&server);
    let run_span = &outer.children[0];
    assert_eq!(run_span.name, "planner");
    assert_eq!(run_span.parent_id.as_deref(), Some(outer.id.as_str()));
    assert_eq!(run_span.input, Some(json!("Rome?")));
    assert_eq!(
        run_span.output,
        Some(json!(r#"{"city":"Rome","temperature_c":21}"#))
    );
    assert_eq!(run_span.children.len(), 1);
    assert_tool_span(
        &run_span.children[0],
        run_span,
        "get_weather",
        r#"{"city": "Rome"}"#,
    );
    for turn in turns(&server) {
        assert_eq!(
            turn.header("x-opper-parent-span-id"),
            Some(run_span.id.as_str())
        );
    }

    // A failed stream ends the run's span with its error.
    let server = MockServer::start().await;
    server.enqueue("planner", Reply::api_error(400, "BadRequestError", "no"));
    let mut stream = agent().stream::<Plan>(&client(&server), "x").unwrap();
    let mut error = None;
    while let Some(event) = stream.next().await {
        if let Err(e) = event {
            error = Some(e.to_string());
        }
    }
    let run_span = only_root(&server);
    assert_eq!(run_span.error, error);
    assert!(run_span.error.is_some());
}

#[tokio::test]
async fn a_failed_run_ends_its_stream_with_the_error() {
    use futures::StreamExt;

    let server = MockServer::start().await;
    server.enqueue("planner", Reply::api_error(400, "BadRequestError", "no"));
    let mut stream = agent().stream::<Plan>(&client(&server), "x").unwrap();
    assert!(matches!(
        stream.next().await,
        Some(Ok(opper::AgentEvent::Turn { iteration: 1 }))
    ));
    assert!(matches!(
        stream.next().await,
        Some(Err(Error::BadRequest(_)))
    ));
    assert!(stream.next().await.is_none());
    assert!(matches!(
        stream.finish().await,
        Err(Error::Incomplete { .. })
    ));
}

/// Plan the day in the city. Check the weather first.
#[opper::function(model = "openai/gpt-4o-mini", tools = [get_weather, add], max_iterations = 4)]
async fn plan_day(city: String) -> opper::Result<Report>;

/// Plan the day in the city.
#[opper::function(name = "plan_day", tools = [get_weather])]
async fn plan_day_run(city: &str) -> opper::Result<opper::AgentRun<Report>>;

/// Plan the day in the city.
#[opper::function(name = "plan_day")]
async fn plan_day_live(city: String) -> opper::Result<opper::AgentStream<Plan>>;

#[tokio::test]
async fn a_function_with_tools_is_an_agent() {
    use futures::StreamExt;

    let server = MockServer::start().await;
    let opper = client(&server);
    server.enqueue(
        "plan_day",
        Turn::new()
            .call("get_weather", r#"{"city":"Paris"}"#)
            .into_reply(),
    );
    server.enqueue(
        "plan_day",
        Turn::answer(r#"{"summary": "Sunny"}"#).into_reply(),
    );
    let report = plan_day_with(&opper, "Paris".into()).await.unwrap();
    assert_eq!(report.summary, "Sunny");
    let bodies = bodies(&server);
    assert_eq!(
        bodies[0]["instructions"],
        "Plan the day in the city. Check the weather first."
    );
    assert_eq!(bodies[0]["model"], "openai/gpt-4o-mini");
    assert_eq!(bodies[0]["input"], json!([user(r#"{"city":"Paris"}"#)]));
    let names: Vec<&str> = bodies[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["get_weather", "add"]);
    // max_iterations = 4: the "2 turns remaining" message comes before turn 2.
    assert_eq!(
        bodies[1]["input"].as_array().unwrap().last().unwrap()["role"],
        "developer"
    );

    server.enqueue(
        "plan_day",
        Turn::answer(r#"{"summary": "Rain"}"#).into_reply(),
    );
    let run = plan_day_run_with(&opper, "Oslo").await.unwrap();
    assert_eq!((run.output.summary.as_str(), run.iterations), ("Rain", 1));

    server.enqueue(
        "plan_day",
        Turn::answer(r#"{"city": "Rome", "temperature_c": 30}"#).into_reply(),
    );
    let mut stream = plan_day_live_with(&opper, "Rome".into()).await.unwrap();
    let mut updates = 0;
    while let Some(event) = stream.next().await {
        updates += usize::from(matches!(event.unwrap(), opper::AgentEvent::Update(_)));
    }
    assert!(updates > 0);
    assert_eq!(stream.finish().await.unwrap().output.city, "Rome");
    // No tools: none sent.
    assert!(
        turns(&server)
            .last()
            .unwrap()
            .body
            .as_ref()
            .unwrap()
            .get("tools")
            .is_none()
    );
}

#[tokio::test]
async fn arguments_past_the_bound_do_not_run_the_tool() {
    let server = MockServer::start().await;
    let long = format!(r#"{{"a":1,"b":2,"pad":"{}"}}"#, "x".repeat(70 * 1024));
    server.enqueue(
        "planner",
        Turn::new().call_with_id("c1", "add", long).into_reply(),
    );
    server.enqueue("planner", Turn::answer("ok").into_reply());
    let run = agent().run::<String>(&client(&server), "x").await.unwrap();
    assert_eq!(
        run.tool_calls[0].output,
        Err(format!(
            "Tool arguments are longer than {} bytes",
            Tool::MAX_ARGUMENT_BYTES
        ))
    );
    assert_eq!(run.tool_calls[0].input.len(), Tool::MAX_ARGUMENT_BYTES);
    let sent = &bodies(&server)[1]["input"][1]["arguments"];
    assert_eq!(sent.as_str().unwrap().len(), Tool::MAX_ARGUMENT_BYTES);
}

#[tokio::test]
async fn more_calls_in_one_turn_than_the_bound_end_the_run() {
    let server = MockServer::start().await;
    let turn = (0..65).fold(Turn::new(), |turn, _| turn.call("add", r#"{"a":1,"b":1}"#));
    server.enqueue("planner", turn.into_reply());
    let error = agent()
        .run::<String>(&client(&server), "x")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidChunk { reason, .. } if reason.contains("more than 64 tools in one turn")),
        "{error:?}"
    );
}

#[tokio::test]
async fn at_most_eight_tools_run_at_once() {
    use std::sync::atomic::AtomicUsize;

    #[derive(Default)]
    struct Gate {
        running: AtomicUsize,
        most: AtomicUsize,
        open: AtomicBool,
    }
    // Each call waits until 8 run together (then the gate opens for good): with a bound of 8,
    // exactly 8 ever run at once; with none, more would start before any ended.
    let gate = Arc::new(Gate::default());
    #[derive(Deserialize, JsonSchema)]
    struct NoArgs {}
    let waiting = Tool::new("wait", "", {
        let gate = gate.clone();
        move |_: NoArgs| {
            let gate = gate.clone();
            async move {
                let now = gate.running.fetch_add(1, Ordering::SeqCst) + 1;
                gate.most.fetch_max(now, Ordering::SeqCst);
                if now >= 8 {
                    gate.open.store(true, Ordering::SeqCst);
                }
                while !gate.open.load(Ordering::SeqCst) {
                    tokio::task::yield_now().await;
                }
                for _ in 0..10 {
                    tokio::task::yield_now().await;
                }
                gate.running.fetch_sub(1, Ordering::SeqCst);
            }
        }
    });
    let server = MockServer::start().await;
    let turn = (0..12).fold(Turn::new(), |turn, _| turn.call("wait", "{}"));
    server.enqueue("planner", turn.into_reply());
    server.enqueue("planner", Turn::answer("done").into_reply());
    let agent = Agent::new("planner").tool(waiting);
    let run = tokio::time::timeout(
        Duration::from_secs(30),
        agent.run::<String>(&client(&server), "go"),
    )
    .await
    .expect("eight tools ran together")
    .unwrap();
    assert_eq!(run.tool_calls.len(), 12);
    assert_eq!(gate.most.load(Ordering::SeqCst), 8);
}

#[tokio::test]
async fn models_without_schema_and_tools_answer_through_final_answer() {
    let server = MockServer::start().await;
    server.enqueue(
        "planner",
        Turn::new()
            .call_with_id("c1", "add", r#"{"a":2,"b":3}"#)
            .into_reply(),
    );
    server.enqueue(
        "planner",
        Turn::answer("Here is your plan: sunny.").into_reply(),
    );
    server.enqueue(
        "planner",
        Turn::new()
            .call_with_id("c2", "final_answer", r#"{"summary":"Sunny; 5"}"#)
            .into_reply(),
    );
    let run = agent()
        .model("mistral/mistral-large-latest")
        .run::<Report>(&client(&server), "plan")
        .await
        .unwrap();
    assert_eq!(
        (run.output.summary.as_str(), run.iterations),
        ("Sunny; 5", 3)
    );
    let names: Vec<&str> = run.tool_calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["add", "final_answer"]);
    let bodies = bodies(&server);
    // AGENT.md §1.6: no `text`, a `final_answer` tool with the answer's schema, the
    // instructions prefixed; after prose, the system nudge.
    let requests = turns(&server);
    assert_eq!(keys(&requests[0]), TOOL_TURN_KEYS);
    assert_eq!(
        bodies[0]["instructions"],
        "When you have all the information needed to answer, respond by calling the `final_answer` tool exactly once. Its arguments must match the required output schema. Do not produce a plain-text final answer \u{2014} only the `final_answer` tool call counts as your response.\n\nPlan the day."
    );
    assert_eq!(
        bodies[0]["tools"][2],
        json!({"type": "function", "name": "final_answer",
            "description": "Call this exactly once to provide your final answer. Its arguments must conform to the required output schema. Do not produce any plain-text final response \u{2014} only this tool call counts as your answer.",
            "parameters": {"title": "Report", "type": "object",
                "properties": {"summary": {"type": "string"}}, "required": ["summary"]}})
    );
    assert_eq!(
        bodies[2]["input"].as_array().unwrap().last().unwrap(),
        &json!({"type": "message", "role": "system", "content": "Your previous response did not call the `final_answer` tool. You must deliver your final response by calling `final_answer` with arguments that match the required output schema."})
    );
    // AGENT.md §2.4: the answer is a `final_answer` span under the run's, its input the raw
    // arguments, its output the answer as `json.dumps` writes it, ended when it started.
    let run_span = only_root(&server);
    let names: Vec<&str> = run_span.children.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["add", "final_answer"]);
    let answer = &run_span.children[1];
    assert_eq!(
        answer.received[0],
        json!({"name": "final_answer", "trace_id": run_span.trace_id,
            "parent_id": run_span.id, "type": "tool", "input": r#"{"summary":"Sunny; 5"}"#,
            "start_time": answer.start_time, "tags": {"tool": true, "final_answer": true, "call_id": "c2"}})
    );
    assert_eq!(
        answer.received[1],
        json!({"output": r#"{"summary": "Sunny; 5"}"#, "end_time": answer.start_time})
    );
    assert_eq!(answer.received.len(), 2);
    assert_eq!(created_keys(answer)[6], "tags");
    assert_eq!(run_span.output, Some(json!(r#"{"summary":"Sunny; 5"}"#)));
    // Unscripted, the built-in model calls the tools, then `final_answer`.
    let run = agent()
        .model("mistral/mistral-large-latest")
        .run::<Report>(&client(&MockServer::start().await), "plan")
        .await
        .unwrap();
    let names: Vec<&str> = run.tool_calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["get_weather", "add", "final_answer"]);
}

#[tokio::test]
async fn a_replay_only_client_sends_no_agent_request() {
    let server = MockServer::start().await;
    let dir = opper_tests::TempDir::new("agent-replay");
    let opper = server
        .client_builder()
        .cache(opper::Cache::dir(dir.path()).replay_only())
        .build()
        .unwrap();
    let error = agent().run::<String>(&opper, "x").await.unwrap_err();
    assert!(
        matches!(&error, Error::Config { message, .. } if message.contains("replay-only")),
        "{error:?}"
    );
    assert_eq!(server.request_count(), 0);
    assert!(server.spans().is_empty());
}

#[tokio::test]
#[should_panic(expected = "the tool's bug")]
async fn a_tool_that_panics_panics_the_run() {
    // A panic is a bug, not an answer for the model: it reaches the caller as any panic of an
    // awaited future does.
    #[derive(Deserialize, JsonSchema)]
    struct NoArgs {}
    let broken = Tool::new("broken", "", |_: NoArgs| async move {
        if true {
            panic!("the tool's bug");
        }
    });
    let server = MockServer::start().await;
    server.enqueue("planner", Turn::new().call("broken", "{}").into_reply());
    let _ = Agent::new("planner")
        .tool(broken)
        .run::<String>(&client(&server), "x")
        .await;
}

#[test]
fn runs_and_streams_can_move_between_threads() {
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Agent>();
    send_sync::<Tool>();
    let opper = opper::Opper::builder().api_key("k").build().unwrap();
    let agent = agent();
    send(&agent.run::<Plan>(&opper, "x"));
    send(&agent.stream::<Plan>(&opper, "x").unwrap());
}

#[tokio::test]
async fn a_plain_v3_task_stream_keeps_its_tool_call_chunks_for_the_raw_stream() {
    use futures::StreamExt;

    let server = MockServer::start().await;
    let opper = server.client_builder().api(opper::Api::V3).build().unwrap();
    let start = json!({"type": "tool_call_start", "tool_call_index": 0,
        "tool_call_id": "call_1", "tool_call_name": "get_weather"});
    let delta = json!({"type": "tool_call_delta", "tool_call_index": 0,
        "tool_call_args": "{\"city\":\"Paris\"}"});
    let tool_calls =
        json!([{"id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}]);
    let body = [
        format!("data: {start}\n\n"),
        format!("data: {delta}\n\n"),
        "data: {\"type\":\"content\",\"delta\":\"Sunny\"}\n\n".to_owned(),
        format!(
            "event: complete\ndata: {}\n\n",
            json!({"data": "Sunny", "meta": {"tool_calls": tool_calls}})
        ),
        "data: [DONE]\n\n".to_owned(),
    ];
    server.reply("weather", Reply::raw_sse(body.clone()));
    let mut raw = opper.call("weather").stream_raw().await.unwrap();
    let mut chunks = Vec::new();
    while let Some(chunk) = raw.next().await {
        chunks.push(chunk.unwrap());
    }
    assert_eq!(
        chunks,
        [
            opper::Chunk::ToolCall(start),
            opper::Chunk::ToolCall(delta),
            opper::Chunk::Text("Sunny".into()),
        ]
    );
    // A typed stream skips them: its output is the text.
    let mut typed = opper.call("weather").stream::<String>().await.unwrap();
    let mut deltas = Vec::new();
    while let Some(update) = typed.next().await {
        deltas.push(update.unwrap().delta);
    }
    assert_eq!(deltas, [json!("Sunny")]);
    assert_eq!(typed.finish().await.unwrap(), "Sunny");
    // A call's answer keeps `meta.tool_calls` as sent.
    server.reply(
        "weather",
        Reply::text("Sunny").meta(json!({"tool_calls": tool_calls})),
    );
    let reply = opper.call("weather").send::<String>().await.unwrap();
    assert_eq!(reply.meta.unwrap()["tool_calls"], tool_calls);
}

fn summary_not_empty(report: &Report) -> Result<(), String> {
    if report.summary.is_empty() {
        Err("the summary is empty".into())
    } else {
        Ok(())
    }
}

/// Plan the day.
#[opper::function(model = "openai/gpt-4o-mini", tools = [add], validate = summary_not_empty)]
async fn checked_plan(city: String) -> opper::Result<opper::AgentRun<Report>>;

/// Plan the day.
#[opper::function(model = "mistral/mistral-large-latest", tools = [add], validate = summary_not_empty, reasks = 1)]
async fn checked_fallback_plan(city: String) -> opper::Result<Report>;

/// Plan the day.
#[opper::function(tools = [add], reasks = 1)]
async fn fitting_plan(city: String) -> opper::Result<Report>;

/// Plan the day.
#[opper::function(tools = [add], validate = |plan: &Plan| if plan.temperature_c > 0 { Ok(()) } else { Err("too cold") })]
async fn checked_live_plan(city: String) -> opper::Result<opper::AgentStream<Plan>>;

fn reask(output: &str, reason: &str) -> Value {
    json!({"type": "message", "role": "system", "content": format!(
        "The previous answer was rejected.\nRejected answer: {output}\nReason: {reason}\nGive a corrected answer."
    )})
}

#[tokio::test]
async fn a_rejected_answer_is_asked_again_in_the_conversation() {
    let server = MockServer::start().await;
    server.enqueue(
        "checked_plan",
        Turn::new()
            .call_with_id("c1", "add", r#"{"a":2,"b":3}"#)
            .into_reply(),
    );
    server.enqueue(
        "checked_plan",
        Turn::answer(r#"{"summary": ""}"#).into_reply(),
    );
    server.enqueue(
        "checked_plan",
        Turn::answer(r#"{"summary": "Sunny; 5"}"#).into_reply(),
    );
    let run = checked_plan_with(&client(&server), "Paris".into())
        .await
        .unwrap();
    assert_eq!(
        (run.output.summary.as_str(), run.iterations),
        ("Sunny; 5", 3)
    );
    let bodies = bodies(&server);
    assert_eq!(bodies.len(), 3);
    // The history so far, then the rejected answer and why, as a task's re-ask words them.
    let input = bodies[2]["input"].as_array().unwrap();
    assert_eq!(input[..3], bodies[1]["input"].as_array().unwrap()[..]);
    assert_eq!(input[3], reask(r#"{"summary":""}"#, "the summary is empty"));
    assert_eq!(input.len(), 4);
    // The run's span ends with the accepted answer.
    assert_eq!(
        only_root(&server).output,
        Some(json!(r#"{"summary":"Sunny; 5"}"#))
    );
}

#[tokio::test]
async fn an_answer_rejected_past_its_reasks_is_rejected() {
    let server = MockServer::start().await;
    server.reply(
        "checked_plan",
        Turn::answer(r#"{"summary": ""}"#).into_reply(),
    );
    let error = checked_plan_with(&client(&server), "Paris".into())
        .await
        .unwrap_err();
    // Two re-asks by default, as a task's: three answers, each kept with its reason.
    let Error::Rejected { attempts } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts
            .iter()
            .all(|a| a.reason == "the summary is empty" && a.output == json!({"summary": ""}))
    );
    let bodies = bodies(&server);
    assert_eq!(bodies.len(), 3);
    assert_eq!(bodies[2]["input"].as_array().unwrap().len(), 3);
    assert_eq!(only_root(&server).error, Some(error.to_string()));
}

#[tokio::test]
async fn an_answer_that_does_not_fit_is_asked_again_with_reasks() {
    let server = MockServer::start().await;
    server.enqueue("fitting_plan", Turn::answer(r#"{"sum": 5}"#).into_reply());
    server.enqueue(
        "fitting_plan",
        Turn::answer(r#"{"summary": "ok"}"#).into_reply(),
    );
    let report = fitting_plan_with(&client(&server), "Paris".into())
        .await
        .unwrap();
    assert_eq!(report.summary, "ok");
    let bodies = bodies(&server);
    let last = bodies[1]["input"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let text = last["content"].as_str().unwrap();
    assert!(
        text.starts_with(
            "The previous answer was rejected.\nRejected answer: {\"sum\":5}\nReason: "
        ) && text.contains("missing field `summary`"),
        "{text}"
    );
    // Without `reasks`, an answer that does not fit ends the run at once.
    let server = MockServer::start().await;
    server.enqueue("planner", Turn::answer(r#"{"sum": 5}"#).into_reply());
    let error = agent()
        .run::<Report>(&client(&server), "x")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Output { .. }), "{error:?}");
    assert_eq!(turns(&server).len(), 1);
}

#[tokio::test]
async fn a_rejected_final_answer_is_asked_again_with_the_calls_made_beside_it() {
    let server = MockServer::start().await;
    server.enqueue(
        "checked_fallback_plan",
        Turn::new()
            .call_with_id("c1", "add", r#"{"a":2,"b":3}"#)
            .call_with_id("c2", "final_answer", r#"{"summary":""}"#)
            .into_reply(),
    );
    server.enqueue(
        "checked_fallback_plan",
        Turn::new()
            .call_with_id("c3", "final_answer", r#"{"summary":"5"}"#)
            .into_reply(),
    );
    let report = checked_fallback_plan_with(&client(&server), "Paris".into())
        .await
        .unwrap();
    assert_eq!(report.summary, "5");
    let input = bodies(&server)[1]["input"].as_array().unwrap().clone();
    assert_eq!(
        input[1..],
        [
            call("c1", "add", r#"{"a":2,"b":3}"#),
            output("c1", "5"),
            reask(r#"{"summary":""}"#, "the summary is empty"),
        ]
    );
}

#[tokio::test]
async fn a_streamed_agent_asks_again_too() {
    use futures::StreamExt;

    let server = MockServer::start().await;
    server.enqueue(
        "checked_live_plan",
        Turn::answer(r#"{"city": "Oslo", "temperature_c": -3}"#).into_reply(),
    );
    server.enqueue(
        "checked_live_plan",
        Turn::answer(r#"{"city": "Oslo", "temperature_c": 3}"#).into_reply(),
    );
    let mut stream = checked_live_plan_with(&client(&server), "Paris".into())
        .await
        .unwrap();
    let mut turns_seen = Vec::new();
    while let Some(event) = stream.next().await {
        if let opper::AgentEvent::Turn { iteration } = event.unwrap() {
            turns_seen.push(iteration);
        }
    }
    assert_eq!(turns_seen, [1, 2]);
    assert_eq!(stream.finish().await.unwrap().output.temperature_c, 3);
    let last = bodies(&server)[1]["input"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last,
        reask(r#"{"city":"Oslo","temperature_c":-3}"#, "too cold")
    );
}

#[tokio::test]
async fn a_failed_turn_ends_the_spans_of_the_tools_it_cancels() {
    #[derive(Deserialize, JsonSchema)]
    struct Nothing {}
    let started = Arc::new(AtomicBool::new(false));
    let forever = Tool::new("forever", "Never ends.", {
        let started = started.clone();
        move |_: Nothing| {
            let started = started.clone();
            async move {
                started.store(true, Ordering::SeqCst);
                std::future::pending::<()>().await;
            }
        }
    });
    let server = MockServer::start().await;
    server.enqueue(
        "planner",
        Turn::new()
            .call_with_id("c1", "add", r#"{"a":1,"b":2}"#)
            .call_with_id("c2", "forever", "{}")
            .failed("the model crashed")
            .into_reply()
            // Time for the tools to start before the stream fails.
            .chunk_delay(Duration::from_millis(100)),
    );
    let error = agent()
        .tool(forever)
        .run::<String>(&client(&server), "go")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::StreamChunk { .. }), "{error:?}");
    assert!(started.load(Ordering::SeqCst));
    let run = only_root(&server);
    assert_eq!(run.error, Some(error.to_string()));
    let (add, forever) = (&run.children[0], &run.children[1]);
    // The tool that ended is ended with its output; the one dropped, as cancelled.
    assert_eq!(add.output, Some(json!("3")));
    assert_eq!(
        forever.error,
        Some(format!("cancelled: the turn failed: {error}"))
    );
    assert!(forever.end_time.is_some());
}

/// A parameter type that counts how often its schema is made.
struct Counted;

static COUNTED_SCHEMAS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl<'de> Deserialize<'de> for Counted {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        i64::deserialize(deserializer).map(|_| Counted)
    }
}

impl JsonSchema for Counted {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Counted".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        COUNTED_SCHEMAS.fetch_add(1, Ordering::SeqCst);
        schemars::json_schema!({"type": "integer"})
    }
}

/// Count nothing.
#[opper::tool]
fn count(counted: Counted) -> i64 {
    let Counted = counted;
    1
}

#[test]
fn a_tool_fn_builds_its_schema_once_however_often_it_is_called() {
    // An agent task makes its tools on each call: the schema is made on the first only.
    let tools: Vec<Tool> = (0..3).map(|_| count_tool()).collect();
    assert_eq!(COUNTED_SCHEMAS.load(Ordering::SeqCst), 1);
    assert!(
        tools
            .iter()
            .all(|tool| tool.get_parameters() == tools[0].get_parameters())
    );
    assert_eq!(
        tools[0].get_parameters().unwrap()["properties"]["counted"],
        json!({"type": "integer"})
    );
}
