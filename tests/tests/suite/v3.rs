//! Opper API v3 over loopback: the request (path, headers, the body the official client 2.1.1
//! sends), the answer (`data`, `meta`), the 202 and error bodies, typed streams read from the
//! model's JSON text, re-asks, the cache and cassettes, and `OPPER_API_VERSION`.
//!
//! The servers are raw scripted ones (byte-exact replies): each reply is built by a helper below
//! (`answer`, `stream`), so the same tests can run against the built-in server once it speaks v3.

use futures::StreamExt;
use opper::{Api, Cache, Error, Model, Opper, Partial, RetryPolicy, Stream};
use opper_tests::{RawServer, Script, Team, TempDir, builder, capture_logs};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Sum {
    sum: i64,
}

/// A v3 client of `url`, without retries.
fn v3(url: &str) -> Opper {
    builder(url)
        .api(Api::V3)
        .retry(RetryPolicy::none())
        .build()
        .expect("a client")
}

/// The `meta` of an answer, as the service sends it.
fn meta() -> Value {
    json!({
        "function_name": "add_numbers", "script_cached": true, "execution_ms": 12,
        "llm_calls": 1, "tts_calls": 0, "image_gen_calls": 0
    })
}

/// A call's answer `{data, meta}`.
fn answer(data: Value) -> Script {
    Script::json(200, &json!({"data": data, "meta": meta()}))
}

fn content(delta: &str) -> String {
    format!("data: {}\n\n", json!({"type": "content", "delta": delta}))
}

fn complete(data: &Value) -> String {
    format!(
        "event: complete\ndata: {}\n\n",
        json!({"data": data, "meta": meta()})
    )
}

const DONE: &str = "data: [DONE]\n\n";

/// A stream of `text`, one character per `content` delta, then `complete` with `data`, then
/// `[DONE]`.
fn stream(text: &str, data: &Value) -> Script {
    let mut script = Script::default().sse_head();
    for c in text.chars() {
        script = script.write(content(&c.to_string()));
    }
    script.write(complete(data)).write(DONE)
}

/// Every update of a stream (its json_path, delta and partial as JSON), then how it ended.
async fn read<T: Partial + DeserializeOwned + 'static>(
    mut stream: Stream<T>,
) -> (Vec<(String, Value, Value)>, opper::Result<T>) {
    let mut updates = Vec::new();
    while let Some(update) = stream.next().await {
        match update {
            Ok(update) => updates.push((
                update.json_path.clone(),
                update.delta.clone(),
                serde_json::to_value(&*update.partial).unwrap(),
            )),
            Err(error) => return (updates, Err(error)),
        }
    }
    (updates, stream.finish().await)
}

fn team_json() -> Value {
    json!({"people": [{"name": "Ann", "role": "CTO"}], "summary": "Ann leads."})
}

async fn team_stream(opper: &Opper) -> Stream<Team> {
    opper
        .call("extract_team")
        .output_type::<Team>()
        .input(&json!({"text": "Ann is the CTO."}))
        .stream::<Team>()
        .await
        .expect("a stream")
}

// The request.

/// V3.md's recorded body of the official client for `add_numbers`, without Pydantic's
/// `title`s, in its key order.
const OFFICIAL_ADD_NUMBERS: &str = concat!(
    r#"{"input":{"x":4,"y":5},"#,
    r#""input_schema":{"properties":{"x":{"type":"integer"},"y":{"type":"integer"}},"required":["x","y"],"type":"object"},"#,
    r#""output_schema":{"properties":{"sum":{"type":"integer"}},"required":["sum"],"type":"object"},"#,
    r#""instructions":"Calculate the sum of two numbers","#,
    r#""model":"openai/gpt-4o-mini","#,
    r#""parent_span_id":"123e4567-e89b-12d3-a456-426614174000"}"#
);

fn add_numbers(opper: &Opper) -> opper::CallBuilder<'_> {
    opper
        .call("add_numbers")
        .input(&json!({"x": 4, "y": 5}))
        .input_schema(json!({
            "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
            "required": ["x", "y"], "type": "object"
        }))
        .output_schema(json!({
            "properties": {"sum": {"type": "integer"}}, "required": ["sum"], "type": "object"
        }))
        .instructions("Calculate the sum of two numbers")
        .model("openai/gpt-4o-mini")
        .parent_span_id("123e4567-e89b-12d3-a456-426614174000")
}

#[tokio::test]
async fn the_add_numbers_call_sends_what_the_official_client_sends() {
    let server = RawServer::start().await;
    server.push(answer(json!({"sum": 9})));
    server.push(stream("{\"sum\": 9}", &json!({"sum": 9})));
    let opper = v3(&server.url());

    let sum = add_numbers(&opper).send::<Sum>().await.unwrap();
    assert_eq!(sum.output, Sum { sum: 9 });
    let sum = add_numbers(&opper)
        .stream::<Sum>()
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();
    assert_eq!(sum, Sum { sum: 9 });

    let received = server.received();
    assert_eq!(received.len(), 2);
    let (call, stream) = (&received[0], &received[1]);
    assert_eq!(call.method, "POST");
    assert_eq!(call.path, "/v3/functions/add_numbers/call");
    assert_eq!(stream.path, "/v3/functions/add_numbers/stream");
    for (request, accept) in [(call, "application/json"), (stream, "text/event-stream")] {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {}", opper_tests::KEY).as_str())
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("accept"), Some(accept));
        assert_eq!(
            String::from_utf8(request.body.clone()).unwrap(),
            OFFICIAL_ADD_NUMBERS
        );
    }
}

/// Calculate the sum of two numbers
#[opper::function(model = "openai/gpt-4o-mini")]
async fn add_numbers_task(x: i64, y: i64) -> opper::Result<Sum>;

#[tokio::test]
async fn a_task_of_the_macro_sends_the_same_keys_in_the_same_order() {
    let server = RawServer::start().await;
    server.push(answer(json!({"sum": 9})));
    let opper = v3(&server.url());
    let sum = opper::with_parent_span("p-1", add_numbers_task_with(&opper, 4, 5))
        .await
        .unwrap();
    assert_eq!(sum, Sum { sum: 9 });
    let request = &server.received()[0];
    assert_eq!(request.path, "/v3/functions/add_numbers_task/call");
    let body = String::from_utf8(request.body.clone()).unwrap();
    let keys = [
        "\"input\":",
        "\"input_schema\":",
        "\"output_schema\":",
        "\"instructions\":",
        "\"model\":",
        "\"parent_span_id\":",
    ];
    let at: Vec<usize> = keys.iter().map(|key| body.find(key).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{body}");
    let body = request.json();
    assert_eq!(body["input"], json!({"x": 4, "y": 5}));
    assert_eq!(body["instructions"], "Calculate the sum of two numbers");
    assert_eq!(body["model"], "openai/gpt-4o-mini");
    assert_eq!(body["parent_span_id"], "p-1");
    assert_eq!(body.as_object().unwrap().len(), 6, "{body}");
}

#[tokio::test]
async fn names_are_one_percent_encoded_path_segment() {
    let server = RawServer::start().await;
    server.push(answer(json!("ok")));
    let opper = v3(&server.url());
    opper.call("my/fn ä").send::<String>().await.unwrap();
    assert_eq!(
        server.received()[0].path,
        "/v3/functions/my%2Ffn%20%C3%A4/call"
    );
}

#[tokio::test]
async fn dot_names_are_refused_before_any_request() {
    let server = RawServer::start().await;
    let opper = v3(&server.url());
    for name in [".", ".."] {
        let called = opper.call(name).send::<Value>().await.unwrap_err();
        let streamed = opper.call(name).stream::<String>().await.unwrap_err();
        let task = opper::Task::new(name);
        let prepared = opper.task(&task).send::<Value>().await.unwrap_err();
        for error in [called, streamed, prepared] {
            assert!(
                matches!(&error, Error::InvalidTask { task, .. } if task == name),
                "{error:?}"
            );
            assert!(error.to_string().contains("dot segment"), "{error}");
        }
    }
    // Names that merely hold dots are one segment, as before.
    server.push(answer(json!(1)));
    opper.call("..a.").send::<Value>().await.unwrap();
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].path, "/v3/functions/..a./call");
}

#[tokio::test]
async fn models_with_options_and_fallback_chains() {
    let server = RawServer::start().await;
    server.push(answer(json!("a")));
    server.push(answer(json!("b")));
    let opper = v3(&server.url());
    let tuned = Model::new("anthropic/claude-sonnet-4").option("temperature", 0.2);
    opper
        .call("t")
        .model(tuned.clone())
        .send::<String>()
        .await
        .unwrap();
    opper
        .call("t")
        .model(Model::fallback([tuned, "openai/gpt-4o-mini".into()]))
        .send::<String>()
        .await
        .unwrap();
    let received = server.received();
    assert_eq!(
        received[0].json()["model"],
        json!({"name": "anthropic/claude-sonnet-4", "options": {"temperature": 0.2}})
    );
    assert_eq!(
        received[1].json()["model"],
        json!([
            {"name": "anthropic/claude-sonnet-4", "options": {"temperature": 0.2}},
            "openai/gpt-4o-mini"
        ])
    );
}

#[tokio::test]
async fn tags_and_configuration_are_not_sent_and_logged_once() {
    let server = RawServer::start().await;
    server.push(answer(json!("a")));
    server.push(answer(json!("b")));
    let opper = v3(&server.url());
    let (logs, _guard) = capture_logs();
    let task = opper::Task::new("tagged_v3_task")
        .tag("project", "p")
        .configuration(opper::Configuration::new().max_attempts(3));
    for _ in 0..2 {
        opper.task(&task).send::<String>().await.unwrap();
    }
    for request in server.received() {
        let body = request.json();
        assert!(body.get("tags").is_none(), "{body}");
        assert!(body.get("configuration").is_none(), "{body}");
    }
    let logs = logs.text();
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("not sent"))
        .collect();
    assert_eq!(warnings.len(), 1, "{logs}");
    assert!(warnings[0].contains("WARN"), "{logs}");
    assert!(warnings[0].contains("tags, configuration"), "{logs}");
    assert!(warnings[0].contains("tagged_v3_task"), "{logs}");
    // Spans say which API was used.
    assert!(logs.contains("api=\"v3\""), "{logs}");
}

#[tokio::test]
async fn a_task_with_examples_is_refused_before_any_request() {
    let server = RawServer::start().await;
    let opper = v3(&server.url());
    let error = opper
        .call("t")
        .example(opper::Example::new(json!({"x": 1}), json!({"sum": 1})))
        .send::<Value>()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Unsupported {
                field: "examples",
                api: opper::Api::V3,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("examples") && message.contains("v3"),
        "{message}"
    );
    let error = opper
        .call("t")
        .example(opper::Example::new(json!(1), json!(2)))
        .stream::<Sum>()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unsupported { .. }), "{error:?}");
    assert_eq!(server.received().len(), 0);
}

// The answer.

#[tokio::test]
async fn the_answer_fills_the_response() {
    let server = RawServer::start().await;
    let mut meta = meta();
    meta["usage"] = json!({
        "input_tokens": 10, "output_tokens": 3, "reasoning_tokens": 1,
        "cache_read_tokens": 4, "cache_creation_tokens": 2, "cache_creation_1h_tokens": 1
    });
    meta["cost"] = json!(0.0012);
    meta["trace_uuid"] = json!("0b6f3c1e-trace");
    meta["models_used"] = json!(["openai/gpt-4o-mini"]);
    server.push(Script::json(
        200,
        &json!({"data": {"sum": 9}, "meta": meta}),
    ));
    server.push(Script::json(200, &json!({"data": "nine"})));
    let opper = v3(&server.url());

    let response = opper.call("add_numbers").send::<Sum>().await.unwrap();
    assert_eq!(response.output, Sum { sum: 9 });
    assert_eq!(response.span_id, None);
    assert_eq!(response.trace_uuid.as_deref(), Some("0b6f3c1e-trace"));
    let usage = response.usage.unwrap();
    assert_eq!((usage.input_tokens, usage.output_tokens), (10, 3));
    assert_eq!(usage.total_tokens, 13);
    assert_eq!(usage.reasoning_tokens, Some(1));
    assert_eq!(usage.cache_read_tokens, Some(4));
    assert_eq!(usage.cache_creation_tokens, Some(2));
    assert_eq!(usage.cache_creation_1h_tokens, Some(1));
    assert_eq!(response.cost.unwrap().total, 0.0012);
    assert_eq!(response.meta.as_ref().unwrap(), &meta);
    assert_eq!(
        response.meta.as_ref().unwrap()["models_used"][0],
        "openai/gpt-4o-mini"
    );

    // A text task: `data` is the string; what v3 did not send is `None`.
    let text = opper.call("t").send::<String>().await.unwrap();
    assert_eq!(text.output, "nine");
    assert_eq!(
        (
            text.span_id,
            text.trace_uuid,
            text.usage,
            text.cost,
            text.meta
        ),
        (None, None, None, None, None)
    );
}

#[tokio::test]
async fn a_202_is_an_error_with_the_pending_operations() {
    let server = RawServer::start().await;
    let pending = || {
        Script::json(
            202,
            &json!({"data": null, "meta": {"function_name": "draw", "status": "pending", "execution_ms": 3,
                "pending_operations": [{"id": "op-1", "status_url": "/v3/artifacts/op-1/status", "type": "image"}]}}),
        )
    };
    server.push(pending());
    server.push(pending());
    let opper = v3(&server.url());
    let error = opper.call("draw").send::<Value>().await.unwrap_err();
    // On a stream path too: the same error, with the operations, not a closed stream.
    let on_stream = match opper.call("draw").stream::<String>().await {
        Ok(stream) => stream.finish().await.unwrap_err(),
        Err(error) => error,
    };
    let Error::Pending {
        operations: streamed,
    } = &on_stream
    else {
        panic!("{on_stream:?}")
    };
    assert_eq!(
        server.received().len(),
        2,
        "a pending answer is not retried"
    );
    let Error::Pending { operations } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(streamed, operations);
    assert_eq!(operations.len(), 1);
    assert_eq!(operations[0].id.as_deref(), Some("op-1"));
    assert_eq!(
        operations[0].status_url.as_deref(),
        Some("/v3/artifacts/op-1/status")
    );
    assert_eq!(operations[0].kind.as_deref(), Some("image"));
    assert!(error.to_string().contains("op-1"), "{error}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_v3_error_body_reaches_the_api_error() {
    let server = RawServer::start().await;
    server.push(Script::json(
        400,
        &json!({"error": {"code": "invalid_schema", "message": "output_schema is not valid", "details": {"at": "/properties"}}}),
    ));
    let opper = v3(&server.url());
    let error = opper.call("t").send::<Value>().await.unwrap_err();
    assert!(matches!(error, Error::BadRequest(_)), "{error:?}");
    let api = error.api_error().unwrap();
    assert_eq!(api.error_type.as_deref(), Some("invalid_schema"));
    assert_eq!(api.message.as_deref(), Some("output_schema is not valid"));
    assert_eq!(api.detail, Some(json!({"at": "/properties"})));
    assert!(opper_tests::chain(&error).contains("output_schema is not valid"));
}

// Streams.

#[tokio::test]
async fn typed_updates_from_the_json_text_one_character_per_delta() {
    let server = RawServer::start().await;
    let text = r#"{"people": [{"name": "Ann", "role": "CTO"}], "summary": "Ann leads."}"#;
    server.push(stream(text, &team_json()));
    let opper = v3(&server.url());
    let (updates, team) = read(team_stream(&opper).await).await;
    let team = team.unwrap();
    assert_eq!(
        (team.people[0].name.as_str(), team.summary.as_str()),
        ("Ann", "Ann leads.")
    );
    let paths: Vec<&str> = updates.iter().map(|(path, ..)| path.as_str()).collect();
    assert_eq!(paths.first(), Some(&"response.people[0].name"));
    assert!(paths.contains(&"response.people[0].role"));
    assert_eq!(paths.last(), Some(&"response.summary"));
    // Strings grow by prefix, one character at a time; nothing is shown that is not there.
    let names: Vec<&Value> = updates
        .iter()
        .filter(|(path, ..)| path == "response.people[0].name")
        .map(|(_, _, partial)| &partial["people"][0]["name"])
        .collect();
    assert_eq!(names, [&json!("A"), &json!("An"), &json!("Ann")]);
    assert_eq!(updates.last().unwrap().2, team_json());
}

#[tokio::test]
async fn numbers_cut_across_deltas_appear_whole() {
    let server = RawServer::start().await;
    server.push(stream("{\"sum\": 42}", &json!({"sum": 42})));
    let opper = v3(&server.url());
    let stream = opper
        .call("add")
        .output_type::<Sum>()
        .stream::<Sum>()
        .await
        .unwrap();
    let (updates, sum) = read(stream).await;
    assert_eq!(sum.unwrap(), Sum { sum: 42 });
    assert_eq!(updates.len(), 2, "{updates:?}");
    assert_eq!(updates[0].0, "response.sum");
    assert_eq!(updates[0].1, json!(42));
    // Shown once its field completes: by the final answer's update.
    assert_eq!(updates[0].2, json!({}));
    assert_eq!(
        updates[1],
        ("response".into(), Value::Null, json!({"sum": 42}))
    );
}

#[tokio::test]
async fn fenced_json_streams_too() {
    let server = RawServer::start().await;
    server.push(stream("```json\n{\"sum\": 9}\n```", &json!({"sum": 9})));
    let opper = v3(&server.url());
    let stream = opper
        .call("add")
        .output_type::<Sum>()
        .stream::<Sum>()
        .await
        .unwrap();
    let (updates, sum) = read(stream).await;
    assert_eq!(sum.unwrap(), Sum { sum: 9 });
    assert_eq!(updates.len(), 2, "{updates:?}");
    assert_eq!(
        (updates[0].0.as_str(), &updates[0].1),
        ("response.sum", &json!(9))
    );
    // A number is shown only once its field completes (here: at the end, by the update of
    // the final answer).
    assert_eq!(updates[0].2, json!({}));
    assert_eq!(updates[1].2, json!({"sum": 9}));
}

#[tokio::test]
async fn a_sentence_first_means_no_partials_and_the_final_output_from_complete() {
    let server = RawServer::start().await;
    server.push(stream(
        "Here is the team: {\"people\": [], \"summary\": \"wrong\"}",
        &team_json(),
    ));
    let opper = v3(&server.url());
    let (updates, team) = read(team_stream(&opper).await).await;
    // Nothing from the text; one update when the final answer comes.
    assert_eq!(
        updates,
        [("response".into(), Value::Null, team_json())],
        "{updates:?}"
    );
    assert_eq!(team.unwrap().summary, "Ann leads.");
}

#[tokio::test]
async fn the_final_output_is_complete_data_when_it_differs_from_the_text_and_the_last_update_shows_it()
 {
    let server = RawServer::start().await;
    server.push(stream(
        r#"{"people": [{"name": "Ann", "role": "cto"}], "summary": "draft"}"#,
        &team_json(),
    ));
    let opper = v3(&server.url());
    let (updates, team) = read(team_stream(&opper).await).await;
    let (last, text) = updates.split_last().unwrap();
    assert_eq!(text.last().unwrap().2["summary"], "draft");
    // The last update is the final output's, whole: it never keeps showing the text's.
    assert_eq!(last, &("response".into(), Value::Null, team_json()));
    let team = team.unwrap();
    assert_eq!(
        (team.people[0].role.as_str(), team.summary.as_str()),
        ("CTO", "Ann leads.")
    );
}

#[tokio::test]
async fn text_that_does_not_fit_the_type_silences_partials_without_failing() {
    let server = RawServer::start().await;
    // `people` is an array in `Team`: an object there is refused by the assembler.
    server.push(stream(
        r#"{"summary": "s", "people": {"x": 1}}"#,
        &team_json(),
    ));
    let opper = v3(&server.url());
    let (updates, team) = read(team_stream(&opper).await).await;
    let (last, text) = updates.split_last().unwrap();
    assert!(
        text.iter().all(|(path, ..)| path == "response.summary"),
        "{updates:?}"
    );
    assert_eq!(last.2, team_json());
    assert_eq!(team.unwrap().summary, "Ann leads.");
}

#[tokio::test]
async fn the_bounds_hold_on_v3_too() {
    let server = RawServer::start().await;
    // Nested far deeper than any partial may go, in one delta: the updates stop there, the
    // stream goes on, and the output is `complete`'s.
    let deep = format!(r#"{{"summary": "a", "x": {}"#, "[".repeat(100_000));
    server.push(
        Script::default()
            .sse_head()
            .write(content(&deep))
            .write(complete(&team_json()))
            .write(DONE),
    );
    // An event over the limit ends the stream, as on v2.
    server.push(
        Script::default()
            .sse_head()
            .write(content(&"a".repeat(4096)))
            .write(complete(&team_json())),
    );
    let opper = builder(&server.url())
        .api(Api::V3)
        .retry(RetryPolicy::none())
        .max_event_bytes(2048)
        .build()
        .unwrap();
    let (updates, team) = read(team_stream(&v3(&server.url())).await).await;
    assert_eq!(updates.len(), 2, "{updates:?}");
    assert_eq!(updates[0].0, "response.summary");
    assert_eq!(updates[1].2, team_json());
    assert_eq!(team.unwrap().summary, "Ann leads.");
    let error = match opper
        .call("extract_team")
        .output_type::<Team>()
        .stream::<Team>()
        .await
    {
        Ok(stream) => read(stream).await.1.unwrap_err(),
        Err(error) => error,
    };
    assert!(
        matches!(error, Error::EventTooLarge { limit: 2048, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_error_frame_ends_the_stream_with_its_message_and_the_partial() {
    let server = RawServer::start().await;
    let long = "x\n".repeat(opper::ApiError::MAX_BODY_BYTES);
    server.push(
        Script::default()
            .sse_head()
            .write(content("{\"summary\": \"An"))
            .write(format!(
                "data: {}\n\n",
                json!({"type": "error", "error": format!("boom {long}")})
            )),
    );
    let opper = v3(&server.url());
    let (updates, team) = read(team_stream(&opper).await).await;
    assert_eq!(updates.len(), 1);
    let error = team.unwrap_err();
    let Error::StreamChunk {
        error_message: Some(message),
        partial,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert!(message.starts_with("boom"));
    assert!(message.len() <= opper::ApiError::MAX_BODY_BYTES);
    assert_eq!(partial["summary"], "An");
    assert!(!error.to_string().contains('\n'));
}

#[tokio::test]
async fn a_stream_without_complete_is_cut() {
    let server = RawServer::start().await;
    server.push(
        Script::default()
            .sse_head()
            .write(content("{\"summary\": \"An"))
            .write(content("n\", \"people\": []}")),
    );
    server.push(
        Script::default()
            .sse_head()
            .write(content("{\"summary\": \"Ann\"}"))
            .write(DONE),
    );
    let opper = v3(&server.url());
    for _ in 0..2 {
        let (updates, team) = read(team_stream(&opper).await).await;
        assert!(!updates.is_empty());
        let error = team.unwrap_err();
        assert!(matches!(error, Error::Incomplete { .. }), "{error:?}");
        assert_eq!(error.partial().unwrap()["summary"], "Ann");
    }
}

#[tokio::test]
async fn unknown_frames_comments_and_bad_lines_are_skipped_and_done_ends_it() {
    let server = RawServer::start().await;
    server.push(
        Script::default()
            .sse_head()
            .write(": keep-alive\n\n")
            .write("data: {\"type\":\"reasoning\",\"delta\":\"thinking\"}\n\n")
            .write(content("{\"sum\": "))
            .write("data: not json\n\n")
            .write("data: {\"type\":\"tool_call_start\",\"tool_call_index\":0}\n\n")
            .write(content("9}"))
            .write(
                "data: {\"type\":\"done\",\"usage\":{\"input_tokens\":10,\"output_tokens\":3}}\n\n",
            )
            .write(complete(&json!({"sum": 9})))
            .write(DONE)
            .write(content("ignored"))
            .write(complete(&json!({"sum": 1}))),
    );
    let opper = v3(&server.url());
    let stream = opper
        .call("add")
        .output_type::<Sum>()
        .stream::<Sum>()
        .await
        .unwrap();
    let (updates, sum) = read(stream).await;
    assert_eq!(sum.unwrap(), Sum { sum: 9 });
    // The number, then the final answer's update showing it.
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[1].2, json!({"sum": 9}));
}

#[tokio::test]
async fn a_text_task_streams_its_text() {
    let server = RawServer::start().await;
    server.push(
        Script::default()
            .sse_head()
            .write(content("Hello, "))
            .write(content("Ann!"))
            .write(complete(&json!("Hello, Ann!")))
            .write(DONE),
    );
    let opper = v3(&server.url());
    let stream = opper.call("hello").stream::<String>().await.unwrap();
    let (updates, text) = read(stream).await;
    assert_eq!(text.unwrap(), "Hello, Ann!");
    let deltas: Vec<(&str, &Value)> = updates.iter().map(|(p, d, _)| (p.as_str(), d)).collect();
    assert_eq!(deltas, [("", &json!("Hello, ")), ("", &json!("Ann!"))]);
    assert_eq!(updates[1].2, json!("Hello, Ann!"));
}

#[tokio::test]
async fn the_raw_chunk_stream_yields_text_chunks_and_keeps_the_output() {
    let server = RawServer::start().await;
    server.push(stream("{\"sum\":9}", &json!({"sum": 9})));
    let opper = v3(&server.url());
    let mut chunks = opper.call("add").stream_raw().await.unwrap();
    let mut text = String::new();
    while let Some(chunk) = chunks.next().await {
        // Text, with no json_path: a piece of the model's JSON document.
        let opper::Chunk::Text(piece) = chunk.unwrap() else {
            panic!("v3 yields text chunks")
        };
        text.push_str(&piece);
    }
    assert_eq!(text, "{\"sum\":9}");
    assert_eq!(chunks.output(), Some(&json!({"sum": 9})));
    assert_eq!(chunks.span_id(), None);
}

// Re-asks.

fn positive(sum: &Sum) -> Result<(), String> {
    match sum.sum > 0 {
        true => Ok(()),
        false => Err(format!("sum must be positive, got {}", sum.sum)),
    }
}

#[tokio::test]
async fn a_rejected_call_is_asked_again_on_v3() {
    let server = RawServer::start().await;
    server.push(answer(json!({"sum": -1})));
    server.push(answer(json!({"sum": 9})));
    let opper = v3(&server.url());
    let response = opper
        .call("add")
        .instructions("Add.")
        .output_type::<Sum>()
        .validate(positive)
        .send::<Sum>()
        .await
        .unwrap();
    assert_eq!((response.output.sum, response.reasks), (9, 1));
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].path, "/v3/functions/add/call");
    let instructions = received[1].json()["instructions"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(instructions.starts_with("Add."), "{instructions}");
    assert!(
        instructions.contains("sum must be positive, got -1"),
        "{instructions}"
    );
}

#[tokio::test]
async fn a_rejected_stream_is_asked_again_on_v3() {
    let server = RawServer::start().await;
    server.push(stream("{\"sum\": -1}", &json!({"sum": -1})));
    server.push(stream("{\"sum\": 9}", &json!({"sum": 9})));
    let opper = v3(&server.url());
    let mut stream = opper
        .call("add")
        .instructions("Add.")
        .output_type::<Sum>()
        .validate(positive)
        .stream::<Sum>()
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Some(update) = stream.next().await {
        let update = update.unwrap();
        seen.push((update.attempt, update.delta.clone()));
    }
    // Each attempt ends with the update that shows its final output whole.
    assert_eq!(
        seen,
        [
            (1, json!(-1)),
            (1, Value::Null),
            (2, json!(9)),
            (2, Value::Null)
        ]
    );
    assert_eq!(stream.finish().await.unwrap(), Sum { sum: 9 });
    let received = server.received();
    assert_eq!(received[1].path, "/v3/functions/add/stream");
    assert!(
        received[1].json()["instructions"]
            .as_str()
            .unwrap()
            .contains("sum must be positive, got -1")
    );
}

// The cache.

#[tokio::test]
async fn a_cached_call_is_keyed_by_its_v3_endpoint_and_answers_without_a_request() {
    let dir = TempDir::new("v3-cache");
    let server = RawServer::start().await;
    server.push(answer(json!({"sum": 9})));
    let opper = builder(&server.url())
        .api(Api::V3)
        .cache(Cache::dir(dir.path()))
        .build()
        .unwrap();
    let live = add_numbers(&opper).send::<Sum>().await.unwrap();
    let mut cached = add_numbers(&opper).send::<Sum>().await.unwrap();
    assert_eq!(server.received().len(), 1, "the second call is a hit");
    assert!(cached.cache_hit && !live.cache_hit);
    cached.cache_hit = false;
    assert_eq!(cached, live);
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);
    let entry: Value =
        serde_json::from_slice(&std::fs::read(entries[0].as_ref().unwrap().path()).unwrap())
            .unwrap();
    assert_eq!(entry["endpoint"], "/v3/functions/add_numbers/call");
    assert_eq!(entry["response"]["data"], json!({"sum": 9}));

    // The same request on v2 is another endpoint: a miss, not the v3 answer.
    let v2 = builder(&server.url())
        .cache(Cache::dir(dir.path()).replay_only())
        .build()
        .unwrap();
    let error = add_numbers(&v2).send::<Sum>().await.unwrap_err();
    assert!(matches!(error, Error::CacheMiss { .. }), "{error:?}");
}

#[tokio::test]
async fn a_v3_stream_replays_from_a_cassette_update_by_update() {
    let dir = TempDir::new("v3-cassette");
    let server = RawServer::start().await;
    let text = r#"{"people": [{"name": "Ann", "role": "CTO"}], "summary": "Ann leads."}"#;
    server.push(stream(text, &team_json()));
    let recorder = builder(&server.url())
        .api(Api::V3)
        .cache(Cache::dir(dir.path()))
        .build()
        .unwrap();
    let (live, team) = read(team_stream(&recorder).await).await;
    team.unwrap();

    let replay = Opper::builder()
        .api(Api::V3)
        .cache(Cache::dir(dir.path()).replay_only())
        .build()
        .unwrap();
    let (replayed, team) = read(team_stream(&replay).await).await;
    assert_eq!(team.unwrap().summary, "Ann leads.");
    assert_eq!(replayed, live);
    assert_eq!(server.received().len(), 1);
    let entry = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let entry: Value = serde_json::from_slice(&std::fs::read(entry.path()).unwrap()).unwrap();
    assert_eq!(entry["endpoint"], "/v3/functions/extract_team/stream");
    let frames = entry["frames"].as_array().unwrap();
    assert_eq!(frames[0], json!({"type": "content", "delta": "{"}));
    assert_eq!(frames.last().unwrap()["event"], "complete");
}

/// A raw v3 stream is recorded as its events arrived (only those that carry a frame: not a
/// keep-alive, an unknown type, a line that is not JSON or `[DONE]`), a data line split in two
/// kept on one line, and replays chunk by chunk to the same output.
#[tokio::test]
async fn a_raw_v3_stream_is_recorded_as_its_events_arrived_and_replays_the_same() {
    let dir = TempDir::new("v3-raw-cassette");
    let server = RawServer::start().await;
    let start = r#"{"type":"tool_call_start","tool_call_index":0,"tool_call_name":"f"}"#;
    server.push(
        Script::default()
            .sse_head()
            .write(": keep-alive\n\n")
            .write("data: {\"type\":\"reasoning\",\"delta\":\"thinking\"}\n\n")
            .write("data: {\"type\": \"content\",\ndata:  \"delta\": \"{\\\"sum\\\": \"}\n\n")
            .write("data: not json\n\n")
            .write(format!("data: {start}\n\n"))
            .write(content("9}"))
            .write(complete(&json!({"sum": 9})))
            .write(DONE),
    );
    let raw = |opper: Opper| async move {
        let mut chunks = opper.call("add").stream_raw().await.unwrap();
        let mut all = Vec::new();
        while let Some(chunk) = chunks.next().await {
            all.push(chunk.unwrap());
        }
        (all, chunks.output().cloned(), chunks.cache_hit())
    };
    let recorder = builder(&server.url())
        .api(Api::V3)
        .cache(Cache::dir(dir.path()))
        .build()
        .unwrap();
    let (live, output, hit) = raw(recorder).await;
    assert!(!hit);
    assert_eq!(live.len(), 3, "{live:?}");
    assert_eq!(output, Some(json!({"sum": 9})));
    let replay = Opper::builder()
        .api(Api::V3)
        .cache(Cache::dir(dir.path()).replay_only())
        .build()
        .unwrap();
    assert_eq!(raw(replay).await, (live, output, true));
    let entry = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let text = std::fs::read_to_string(entry.path()).unwrap();
    let frames = &text[text.find("  \"frames\"").unwrap()..];
    let complete = json!({"event": "complete", "data": {"data": {"sum": 9}, "meta": meta()}});
    assert_eq!(
        frames,
        format!(
            "  \"frames\": [\n    {}\n  ]\n}}\n",
            [
                // The line end between its two lines is a space.
                r#"{"type": "content",  "delta": "{\"sum\": "}"#.to_owned(),
                start.to_owned(),
                json!({"type": "content", "delta": "9}"}).to_string(),
                complete.to_string(),
            ]
            .join(",\n    ")
        )
    );
}

#[tokio::test]
async fn a_cut_v3_stream_is_not_stored() {
    let dir = TempDir::new("v3-cut");
    let server = RawServer::start().await;
    server.push(Script::default().sse_head().write(content("{\"sum\": 9}")));
    let opper = builder(&server.url())
        .api(Api::V3)
        .cache(Cache::dir(dir.path()))
        .build()
        .unwrap();
    let stream = opper
        .call("add")
        .output_type::<Sum>()
        .stream::<Sum>()
        .await
        .unwrap();
    assert!(read(stream).await.1.is_err());
    assert!(!dir.path().exists() || std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

// Configuration.

#[test]
fn api_versions_parse() {
    assert_eq!("v3".parse::<Api>().unwrap(), Api::V3);
    assert_eq!(" V2 ".parse::<Api>().unwrap(), Api::V2);
    assert_eq!(Api::default(), Api::V2);
    let error = "3".parse::<Api>().unwrap_err();
    assert!(matches!(error, Error::Config { .. }), "{error:?}");
    assert!(error.to_string().contains("OPPER_API_VERSION"), "{error}");
}

#[test]
fn a_configuration_error_keeps_its_cause_as_its_source() {
    use std::error::Error as _;
    let error = Opper::builder()
        .api_key("k")
        .base_url("http://[::1")
        .build()
        .unwrap_err();
    let shown = error.to_string();
    let source = error.source().expect("the URL parser's error").to_string();
    assert!(
        shown.starts_with("invalid Opper client configuration: invalid base URL"),
        "{shown}"
    );
    assert!(!shown.contains(&source), "{shown} repeats {source}");
}

/// Runs this test binary's `opper_api_version_is_read_from_the_environment` with
/// `OPPER_API_VERSION=value`, which checks that the client is `expect`.
#[test]
fn opper_api_version_is_read_from_the_environment() {
    if let Ok(expect) = std::env::var("OPPER_TEST_EXPECT_API") {
        let built = opper::OpperBuilder::from_env().build();
        match expect.as_str() {
            "error" => {
                let error = built.unwrap_err();
                assert!(matches!(error, Error::Config { .. }), "{error:?}");
                let shown = error.to_string();
                assert!(shown.contains("OPPER_API_VERSION"), "{error}");
                // Its layer's words once: not wrapped in another configuration error.
                assert_eq!(
                    shown.matches("invalid Opper client configuration").count(),
                    1,
                    "{shown}"
                );
            }
            "v3" => assert_eq!(built.unwrap().api(), Api::V3),
            _ => assert_eq!(built.unwrap().api(), Api::V2),
        }
        // A builder setting overrides the environment, a bad value included.
        let set = opper::OpperBuilder::from_env()
            .api(Api::V3)
            .build()
            .unwrap();
        assert_eq!(set.api(), Api::V3);
        return;
    }
    for (value, expect) in [("v3", "v3"), ("V2", "v2"), ("", "v2"), ("v4", "error")] {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "v3::opper_api_version_is_read_from_the_environment",
            ])
            .env("OPPER_API_VERSION", value)
            .env("OPPER_API_KEY", "k")
            .env_remove("OPPER_CACHE_DIR")
            .env_remove("OPPER_CACHE_MODE")
            .env("OPPER_TEST_EXPECT_API", expect)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{value}: {out}");
        assert!(out.contains("1 passed"), "{value}: {out}");
    }
}

#[tokio::test]
async fn spans_record_the_api_and_the_trace() {
    let server = RawServer::start().await;
    let answer = json!({"data": {"sum": 9}, "meta": {"trace_uuid": "trace-call"}});
    server.push(Script::json(200, &answer));
    server.push(
        Script::default()
            .sse_head()
            .write(content("{\"sum\": 9}"))
            .write(format!(
                "event: complete\ndata: {}\n\n",
                json!({"data": {"sum": 9}, "meta": {"trace_uuid": "trace-stream"}})
            )),
    );
    let opper = v3(&server.url());
    let (logs, _guard) = capture_logs();
    opper.call("add").send::<Sum>().await.unwrap();
    let stream = opper
        .call("add")
        .output_type::<Sum>()
        .stream::<Sum>()
        .await
        .unwrap();
    read(stream).await.1.unwrap();
    let logs = logs.text();
    let call = logs
        .lines()
        .find(|l| l.contains("opper.call") && l.contains("close"))
        .unwrap();
    assert!(
        call.contains("api=\"v3\"") && call.contains("trace_uuid=\"trace-call\""),
        "{logs}"
    );
    let stream = logs
        .lines()
        .find(|l| l.contains("opper.stream") && l.contains("close"))
        .unwrap();
    assert!(
        stream.contains("api=\"v3\"") && stream.contains("trace_uuid=\"trace-stream\""),
        "{logs}"
    );
}

#[tokio::test]
async fn a_long_text_frame_is_read_piece_by_piece_across_characters() {
    let server = RawServer::start().await;
    let summary = "é".repeat(5000);
    let text = format!(r#"{{"people": [], "summary": "{summary}"}}"#);
    let data = json!({"people": [], "summary": summary});
    server.push(
        Script::default()
            .sse_head()
            .write(content(&text))
            .write(complete(&data))
            .write(DONE),
    );
    let opper = v3(&server.url());
    let (updates, team) = read(team_stream(&opper).await).await;
    assert_eq!(team.unwrap().summary, summary);
    // One frame, read in pieces: the string grows by prefix, piece by piece, to the whole.
    assert!(updates.len() > 1, "{}", updates.len());
    let mut shown = String::new();
    for (path, delta, partial) in &updates {
        assert_eq!(path, "response.summary");
        shown.push_str(delta.as_str().unwrap());
        assert_eq!(partial["summary"], shown.as_str());
    }
    assert_eq!(shown, summary);
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema, opper::Partial)]
struct Repeated {
    n: Option<i64>,
    m: Option<String>,
    xs: Option<Vec<i64>>,
    inner: Option<Box<Repeated>>,
    items: Option<Vec<Repeated>>,
}

/// Whether `partial` shows only what `reference` holds: strings by prefix, arrays by their
/// first items, objects by some of their keys, anything else equal.
fn shows_only(partial: &Value, reference: &Value) -> bool {
    match (partial, reference) {
        (Value::String(shown), Value::String(whole)) => whole.starts_with(shown.as_str()),
        (Value::Array(shown), Value::Array(whole)) => {
            shown.len() <= whole.len() && shown.iter().zip(whole).all(|(a, b)| shows_only(a, b))
        }
        (Value::Object(shown), Value::Object(whole)) => shown
            .iter()
            .all(|(key, value)| whole.get(key).is_some_and(|w| shows_only(value, w))),
        (shown, whole) => shown == whole,
    }
}

/// (text with a repeated key, what its first occurrences say, `complete`'s data)
fn repeated_keys() -> Vec<(&'static str, Value, Value)> {
    vec![
        (
            r#"{"n": 1, "n": 2, "m": "x"}"#,
            json!({"n": 1}),
            json!({"n": 2, "m": "x"}),
        ),
        (
            r#"{"m": "ab", "m": "cd"}"#,
            json!({"m": "ab"}),
            json!({"m": "cd"}),
        ),
        (
            r#"{"xs": [1], "xs": [2]}"#,
            json!({"xs": [1]}),
            json!({"xs": [2]}),
        ),
        (
            r#"{"n": 1, "m": "y", "n": 3}"#,
            json!({"n": 1, "m": "y"}),
            json!({"n": 3, "m": "y"}),
        ),
        (
            r#"{"inner": {"inner": {"m": "ab", "n": 1, "m": "cd"}}}"#,
            json!({"inner": {"inner": {"m": "ab", "n": 1}}}),
            json!({"inner": {"inner": {"m": "cd", "n": 1}}}),
        ),
        (
            r#"{"items": [{"n": 1, "m": "a"}, {"m": "b", "n": 2, "m": "c"}]}"#,
            json!({"items": [{"n": 1, "m": "a"}, {"m": "b", "n": 2}]}),
            json!({"items": [{"n": 1, "m": "a"}, {"m": "c", "n": 2}]}),
        ),
    ]
}

#[tokio::test]
async fn a_repeated_key_never_joins_two_values_in_a_partial() {
    let server = RawServer::start().await;
    for (text, _, data) in repeated_keys() {
        server.push(stream(text, &data));
    }
    let opper = v3(&server.url());
    for (text, first, data) in repeated_keys() {
        let stream = opper
            .call("r")
            .output_type::<Repeated>()
            .stream::<Repeated>()
            .await;
        let (updates, output) = read(stream.unwrap()).await;
        let expected: Repeated = serde_json::from_value(data.clone()).unwrap();
        assert_eq!(output.unwrap(), expected, "{text}");
        // Before `complete`, only what the text said before the repeated key.
        let (last, before) = updates.split_last().expect("updates");
        for (path, _, partial) in before {
            assert!(
                shows_only(partial, &first),
                "{text}: {path} shows {partial}"
            );
        }
        // Then the final output, whole.
        assert_eq!(last, &("response".into(), Value::Null, data), "{text}");
    }
}

#[tokio::test]
async fn text_after_complete_changes_no_partial() {
    let server = RawServer::start().await;
    let script = |after: &str| {
        Script::default()
            .sse_head()
            .write(content("{\"m\": \"A"))
            .write(complete(&json!({"m": "A"})))
            .write(content(after))
            .write(DONE)
    };
    server.push(script("BC\"}"));
    // Text after it that would complete the document, or break it.
    server.push(script("\", \"n\": 1}"));
    server.push(script("] not json"));
    let opper = v3(&server.url());
    for _ in 0..3 {
        let stream = opper
            .call("r")
            .output_type::<Repeated>()
            .stream::<Repeated>()
            .await;
        let (updates, output) = read(stream.unwrap()).await;
        assert_eq!(output.unwrap().m.as_deref(), Some("A"));
        for (path, _, partial) in &updates {
            assert!(
                shows_only(partial, &json!({"m": "A"})),
                "{path} shows {partial}"
            );
        }
        assert_eq!(updates.last().unwrap().2, json!({"m": "A"}));
    }
}

#[tokio::test]
async fn a_text_task_whose_final_answer_differs_ends_with_an_update_showing_it() {
    let server = RawServer::start().await;
    server.push(
        Script::default()
            .sse_head()
            .write(content("Hello, "))
            .write(content("Ann!"))
            .write(complete(&json!("Hello, Bob!")))
            .write(DONE),
    );
    let opper = v3(&server.url());
    let stream = opper.call("hello").stream::<String>().await.unwrap();
    let (updates, text) = read(stream).await;
    assert_eq!(text.unwrap(), "Hello, Bob!");
    assert_eq!(updates.len(), 3, "{updates:?}");
    assert_eq!(
        updates[2],
        (String::new(), Value::Null, json!("Hello, Bob!"))
    );
}

#[tokio::test]
async fn a_complete_event_that_cannot_be_read_says_so_and_why() {
    let server = RawServer::start().await;
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let events = [
        (
            r#"{"data": {"sum": NaN}, "meta": {}}"#.to_owned(),
            "NaN or Infinity",
        ),
        (
            format!(r#"{{"data": {{"sum": {deep}}}, "meta": {{}}}}"#),
            "nests more than 127",
        ),
        (r#"{"meta": {}}"#.to_owned(), "no `data`"),
    ];
    for (event, _) in &events {
        server.push(
            Script::default()
                .sse_head()
                .write(content("{\"sum\": 9}"))
                .write(format!("event: complete\ndata: {event}\n\n"))
                .write(DONE),
        );
    }
    let opper = v3(&server.url());
    for (_, why) in &events {
        let stream = opper.call("add").output_type::<Sum>().stream::<Sum>().await;
        let (_, sum) = read(stream.unwrap()).await;
        let error = sum.unwrap_err();
        let shown = error.to_string();
        assert!(matches!(error, Error::InvalidChunk { .. }), "{error:?}");
        assert!(
            shown.contains("the final answer could not be read"),
            "{shown}"
        );
        assert!(shown.contains(why), "{shown}");
        assert!(!shown.contains("without its final answer"), "{shown}");
    }
}

#[tokio::test]
async fn an_unreadable_meta_field_is_dropped_and_the_output_stands() {
    let server = RawServer::start().await;
    let costs = ["1e400", "NaN", "Infinity", "-Infinity"];
    for cost in costs {
        let body = format!(
            r#"{{"data": {{"sum": 9}}, "meta": {{"cost": {cost}, "trace_uuid": "t", "usage": {{"input_tokens": 1, "output_tokens": 2}}}}}}"#
        );
        server.push(Script::response(
            200,
            &[("content-type", "application/json")],
            body.as_bytes(),
        ));
        server.push(
            Script::default()
                .sse_head()
                .write(content("{\"sum\": 9}"))
                .write(format!("event: complete\ndata: {body}\n\n"))
                .write(DONE),
        );
    }
    let opper = v3(&server.url());
    let (logs, _guard) = capture_logs();
    for cost in costs {
        let reply = opper.call("add").send::<Sum>().await.unwrap();
        assert_eq!(reply.output, Sum { sum: 9 }, "{cost}");
        assert_eq!(reply.cost, None, "{cost}");
        assert_eq!(reply.trace_uuid.as_deref(), Some("t"), "{cost}");
        assert_eq!(reply.usage.unwrap().total_tokens, 3, "{cost}");
        let stream = opper.call("add").output_type::<Sum>().stream::<Sum>().await;
        assert_eq!(
            stream.unwrap().finish().await.unwrap(),
            Sum { sum: 9 },
            "{cost}"
        );
    }
    let logs = logs.text();
    assert!(
        logs.contains("dropping a field of the answer's `meta`"),
        "{logs}"
    );
}
