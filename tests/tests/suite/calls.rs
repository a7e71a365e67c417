//! A call end to end on loopback, from raw scripted servers (byte-exact replies; v3's built by
//! `opper_tests::v3`). On v3: what it sends (path, headers, the body the official client 2.1.1
//! sends, names, models, what v3 does not carry), what its answer fills (`data`, `meta`, a
//! `202`'s pending operations, v3's error body), re-asks on v3, and the spans that say which API
//! answered. On v2: the body the official client sends, models and configuration, the answer's
//! fields. On both (`each_version!`): the schema's field order, output that does not fit, each
//! error status, retries, `Retry-After` and the request timeout. Streams are in `streaming.rs`.

use std::time::{Duration, Instant};

use futures::StreamExt;
use opper::{Api, Configuration, Error, Example, Model, RetryPolicy};
use opper_tests::v3::{
    DONE, add_numbers, answer, client as v3_client, content, meta, read, stream, sum_stream,
    sum_stream_of,
};
use opper_tests::{KEY, RawServer, Script, Sum, capture_logs, client, client_on};
use serde_json::{Value, json};

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

#[tokio::test]
async fn the_add_numbers_call_sends_what_the_official_client_sends() {
    let server = RawServer::start().await;
    server.push(answer(json!({"sum": 9})));
    server.push(stream("{\"sum\": 9}", &json!({"sum": 9})));
    let opper = v3_client(&server.url());

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

/// `body` as text, after asserting that each of `keys` is in it, in that order.
fn keys_in_order(body: &[u8], keys: &[&str]) -> String {
    let text = String::from_utf8(body.to_vec()).unwrap();
    let at: Vec<usize> = keys.iter().map(|key| text.find(key).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    text
}

/// Calculate the sum of two numbers
#[opper::function(model = "openai/gpt-4o-mini")]
async fn add_numbers_task(x: i64, y: i64) -> opper::Result<Sum>;

#[tokio::test]
async fn a_task_of_the_macro_sends_the_same_keys_in_the_same_order() {
    let server = RawServer::start().await;
    server.push(answer(json!({"sum": 9})));
    let opper = v3_client(&server.url());
    let sum = opper::with_parent_span("p-1", add_numbers_task_with(&opper, 4, 5))
        .await
        .unwrap();
    assert_eq!(sum, Sum { sum: 9 });
    let request = &server.received()[0];
    assert_eq!(request.path, "/v3/functions/add_numbers_task/call");
    keys_in_order(
        &request.body,
        &[
            "\"input\":",
            "\"input_schema\":",
            "\"output_schema\":",
            "\"instructions\":",
            "\"model\":",
            "\"parent_span_id\":",
        ],
    );
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
    let opper = v3_client(&server.url());
    opper.call("my/fn ä").send::<String>().await.unwrap();
    assert_eq!(
        server.received()[0].path,
        "/v3/functions/my%2Ffn%20%C3%A4/call"
    );
}

#[tokio::test]
async fn dot_names_are_refused_before_any_request() {
    let server = RawServer::start().await;
    let opper = v3_client(&server.url());
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
    let opper = v3_client(&server.url());
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
    let opper = v3_client(&server.url());
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
    let opper = v3_client(&server.url());
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
    let opper = v3_client(&server.url());

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
    let opper = v3_client(&server.url());
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
    let opper = v3_client(&server.url());
    let error = opper.call("t").send::<Value>().await.unwrap_err();
    assert!(matches!(error, Error::BadRequest(_)), "{error:?}");
    let api = error.api_error().unwrap();
    assert_eq!(api.error_type.as_deref(), Some("invalid_schema"));
    assert_eq!(api.message.as_deref(), Some("output_schema is not valid"));
    assert_eq!(api.detail, Some(json!({"at": "/properties"})));
    assert!(opper_tests::chain(&error).contains("output_schema is not valid"));
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
    let opper = v3_client(&server.url());
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
    let opper = v3_client(&server.url());
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

// Spans.

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
    let opper = v3_client(&server.url());
    let (logs, _guard) = capture_logs();
    opper.call("add").send::<Sum>().await.unwrap();
    let stream = sum_stream(&opper).await;
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

// `meta` the answer cannot keep.

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
    let opper = v3_client(&server.url());
    let (logs, _guard) = capture_logs();
    for cost in costs {
        let reply = opper.call("add").send::<Sum>().await.unwrap();
        assert_eq!(reply.output, Sum { sum: 9 }, "{cost}");
        assert_eq!(reply.cost, None, "{cost}");
        assert_eq!(reply.trace_uuid.as_deref(), Some("t"), "{cost}");
        assert_eq!(reply.usage.unwrap().total_tokens, 3, "{cost}");
        let stream = sum_stream_of(&opper).await;
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

// On v2: the request and the answer.

fn seed_input_schema() -> Value {
    json!({
        "properties": {"x": {"title": "X", "type": "integer"}, "y": {"title": "Y", "type": "integer"}},
        "required": ["x", "y"], "title": "OpperInputExample", "type": "object"
    })
}

fn seed_output_schema() -> Value {
    json!({
        "properties": {"sum": {"title": "Sum", "type": "integer"}},
        "required": ["sum"], "title": "OpperOutputExample", "type": "object"
    })
}

/// v2's answer `{"sum": 9}`, with every field v2 sends and one it does not know.
fn ok_body() -> Value {
    json!({"span_id": "s-1", "json_payload": {"sum": 9}, "message": null, "cached": false,
           "usage": {"input_tokens": 10, "output_tokens": 2, "total_tokens": 12,
                     "output_tokens_details": {"reasoning_tokens": 1}},
           "cost": {"generation": 0.001, "platform": 0.0005, "total": 0.0015},
           "something_new": [1, 2]})
}

/// An answer `{"sum": 9}` on `api`: v2's [`ok_body`], v3's `{data, meta}`.
fn ok(api: Api) -> Script {
    match api {
        Api::V3 => answer(json!({"sum": 9})),
        _ => Script::json(200, &ok_body()),
    }
}

/// The answer `json` on `api`: v2's `json_payload`, v3's `data`.
fn answer_of(api: Api, json: Value) -> Script {
    match api {
        Api::V3 => Script::json(200, &json!({"data": json})),
        _ => Script::json(200, &json!({"span_id": "s", "json_payload": json})),
    }
}

#[tokio::test]
async fn every_request_field_is_sent_as_the_official_client_sends_it() {
    let server = RawServer::start().await;
    server.push(Script::json(200, &ok_body()));
    let opper = client(&server.url());
    let reply = opper
        .call("add_numbers")
        .instructions("Calculate the sum of two numbers")
        .input_schema(seed_input_schema())
        .output_schema(seed_output_schema())
        .input(&json!({"x": 4, "y": 5}))
        .model("openai/gpt-4o-mini")
        .example(
            Example::new(json!({"x": 1, "y": 3}), json!({"sum": 4})).comment("Adds two numbers"),
        )
        .parent_span_id("123e4567-e89b-12d3-a456-426614174000")
        .tag("project", "project_456")
        .tag("user", "company_123")
        .send::<Sum>()
        .await
        .unwrap();
    assert_eq!(reply.output, Sum { sum: 9 });

    let request = &server.received()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v2/call");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("accept"), Some("application/json"));
    let seed = json!({
        "name": "add_numbers",
        "instructions": "Calculate the sum of two numbers",
        "input_schema": seed_input_schema(),
        "output_schema": seed_output_schema(),
        "input": {"x": 4, "y": 5},
        "model": "openai/gpt-4o-mini",
        "examples": [{"input": {"x": 1, "y": 3}, "output": {"sum": 4}, "comment": "Adds two numbers"}],
        "parent_span_id": "123e4567-e89b-12d3-a456-426614174000",
        "tags": {"project": "project_456", "user": "company_123"}
    });
    assert_eq!(request.json(), seed);
    // Keys in the official client's order, unset ones omitted rather than null.
    let text = keys_in_order(
        &request.body,
        &[
            "\"name\"",
            "\"instructions\"",
            "\"input_schema\"",
            "\"output_schema\"",
            "\"input\"",
            "\"model\"",
            "\"examples\"",
            "\"parent_span_id\"",
            "\"tags\"",
        ],
    );
    assert!(!text.contains("null"), "{text}");
}

#[tokio::test]
async fn models_configuration_and_a_bare_call() {
    let server = RawServer::start().await;
    server.fallback(Script::json(200, &json!({"span_id": "s", "message": "hi"})));
    let opper = client(&server.url());
    opper
        .call("t")
        .model(Model::fallback([
            Model::new("anthropic/claude")
                .option("temperature", 0.2)
                .extra_header("x-a", "1"),
            Model::new("openai/gpt-4o-mini"),
        ]))
        .configuration(
            Configuration::new()
                .max_attempts(3)
                .cache_ttl(0)
                .input_validation(true)
                .xml_mode(false)
                .few_shot_count(2),
        )
        .send::<String>()
        .await
        .unwrap();
    opper.call("bare").send::<String>().await.unwrap();
    let received = server.received();
    assert_eq!(
        received[0].json(),
        json!({
            "name": "t",
            "model": [{"name": "anthropic/claude", "options": {"temperature": 0.2}, "extra_headers": {"x-a": "1"}},
                      "openai/gpt-4o-mini"],
            "configuration": {
                "invocation.structured_generation.max_attempts": 3,
                "invocation.cache.ttl": 0,
                "beta.invocation.input_validation.enabled": true,
                "beta.invocation.xml_mode.enabled": false,
                "invocation.few_shot.count": 2
            }
        })
    );
    assert_eq!(received[1].json(), json!({"name": "bare"}));
}

#[tokio::test]
async fn responses_are_typed_and_tolerant() {
    let server = RawServer::start().await;
    server.push(Script::json(200, &ok_body()));
    server.push(Script::json(200, &json!({"span_id": "t", "message": "plain text", "json_payload": null,
                                          "usage": null, "cost": {"total": 0.5}, "cached": true, "images": ["u"]})));
    let opper = client(&server.url());
    let typed = opper.call("a").send::<Sum>().await.unwrap();
    assert_eq!(typed.span_id.as_deref(), Some("s-1"));
    let usage = typed.usage.unwrap();
    assert_eq!(
        (usage.input_tokens, usage.output_tokens, usage.total_tokens),
        (10, 2, 12)
    );
    assert_eq!(usage.reasoning_tokens, Some(1));
    assert_eq!(typed.cost.unwrap().total, 0.0015);
    assert!(!typed.cached);

    let text = opper.call("b").send::<String>().await.unwrap();
    assert_eq!(text.output, "plain text");
    assert_eq!(text.usage, None);
    assert_eq!(text.cost.unwrap().generation, 0.0);
    assert!(text.cached);
    assert_eq!(text.images, vec!["u".to_owned()]);
}

// On both versions: what a call sends and its answer, errors, retries and timeouts.

opper_tests::each_version!(
    schemas_keep_the_declaration_order_of_fields,
    output_that_does_not_fit_names_the_path,
    each_error_status_has_its_variant_and_keeps_its_body,
    retryable_statuses_are_retried_with_backoff_then_succeed,
    the_retry_budget_is_respected_and_the_last_error_returned,
    retry_after_is_honoured_in_seconds_and_as_a_date,
    a_server_that_never_answers_times_out,
);

/// Field order reaches the model: a model writes fields in the schema's order, so reasoning
/// declared before the answer must be sent before it.
async fn schemas_keep_the_declaration_order_of_fields(api: Api) {
    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Reasoned {
        thoughts: String,
        answer: String,
    }
    let server = RawServer::start().await;
    server.push(answer_of(api, json!({"thoughts": "t", "answer": "a"})));
    client_on(&server.url(), api)
        .call("t")
        .output_type::<Reasoned>()
        .send::<Reasoned>()
        .await
        .unwrap();
    keys_in_order(&server.received()[0].body, &["\"thoughts\"", "\"answer\""]);
}

async fn output_that_does_not_fit_names_the_path(api: Api) {
    let server = RawServer::start().await;
    server.push(answer_of(api, json!({"sum": "nine"})));
    let err = client_on(&server.url(), api)
        .call("a")
        .send::<Sum>()
        .await
        .unwrap_err();
    match err {
        Error::Output { json, path, .. } => {
            assert_eq!(path, "sum");
            assert_eq!(json, json!({"sum": "nine"}));
        }
        other => panic!("{other:?}"),
    }
}

/// An API error's body on `api`: v2's `{type, message, detail}`, v3's
/// `{"error": {code, message, details}}`; both read into the same `ApiError` fields.
fn api_error(api: Api, kind: &str, message: &str, detail: Value) -> Value {
    match api {
        Api::V3 => json!({"error": {"code": kind, "message": message, "details": detail}}),
        _ => json!({"type": kind, "message": message, "detail": detail}),
    }
}

async fn each_error_status_has_its_variant_and_keeps_its_body(api: Api) {
    let server = RawServer::start().await;
    let error = |kind: &str| api_error(api, kind, &format!("{kind} happened"), Value::Null);
    server.push(Script::json(400, &error("BadRequestError")));
    server.push(Script::json(401, &error("UnauthorizedError")));
    server.push(Script::json(404, &error("NotFoundError")));
    server.push(Script::json(
        422,
        &api_error(
            api,
            "RequestValidationError",
            "bad",
            json!({"loc": ["body", "name"], "msg": "field required", "type": "missing", "input": {}}),
        ),
    ));
    server.push(Script::response(
        418,
        &[("content-type", "text/plain")],
        b"I am a teapot",
    ));
    let opper = opper_tests::builder(&server.url())
        .api(api)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let mut errors = Vec::new();
    for _ in 0..5 {
        errors.push(opper.call("t").send::<String>().await.unwrap_err());
    }
    assert!(
        matches!(&errors[0], Error::BadRequest(e) if e.message.as_deref() == Some("BadRequestError happened"))
    );
    assert!(
        matches!(&errors[1], Error::Unauthorized(e) if e.error_type.as_deref() == Some("UnauthorizedError"))
    );
    assert!(matches!(&errors[2], Error::NotFound(e) if e.status == 404));
    match &errors[3] {
        Error::RequestValidation(e) => {
            assert_eq!(e.detail.as_ref().unwrap()["loc"], json!(["body", "name"]))
        }
        other => panic!("{other:?}"),
    }
    match &errors[4] {
        Error::Api(e) => {
            assert_eq!(
                (e.status, e.body.as_str(), e.error_type.as_deref()),
                (418, "I am a teapot", None)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        errors
            .iter()
            .map(|e| e.status().unwrap())
            .collect::<Vec<_>>(),
        [400, 401, 404, 422, 418]
    );
    assert_eq!(server.received().len(), 5, "none of these is retried");
}

async fn retryable_statuses_are_retried_with_backoff_then_succeed(api: Api) {
    let server = RawServer::start().await;
    for status in [429, 500, 502, 503, 504] {
        server.push(Script::response(status, &[], b"{\"errors\": []}"));
    }
    server.push(ok(api));
    let opper = opper_tests::builder(&server.url())
        .api(api)
        .retry(
            RetryPolicy::default()
                .max_retries(5)
                .initial_delay(Duration::from_millis(40))
                .multiplier(1.5)
                .jitter(false),
        )
        .build()
        .unwrap();
    let reply = opper.call("t").send::<Sum>().await.unwrap();
    assert_eq!(reply.output.sum, 9);
    let at: Vec<Instant> = server.received().iter().map(|r| r.at).collect();
    assert_eq!(at.len(), 6);
    let gaps: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
    let nominal = [40.0, 60.0, 90.0, 135.0, 202.5];
    for (gap, nominal) in gaps.iter().zip(nominal) {
        assert!(gap.as_secs_f64() * 1000.0 >= nominal, "{gaps:?}");
    }
}

async fn the_retry_budget_is_respected_and_the_last_error_returned(api: Api) {
    let server = RawServer::start().await;
    server.fallback(Script::response(503, &[], b"busy"));
    let err = client_on(&server.url(), api)
        .call("t")
        .send::<String>()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api(e) if e.status == 503 && e.body == "busy"),
        "{err:?}"
    );
    assert_eq!(
        server.received().len(),
        3,
        "one attempt and the default two retries"
    );

    let server = RawServer::start().await;
    server.fallback(Script::response(503, &[], b"busy"));
    let opper = opper_tests::builder(&server.url())
        .api(api)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    opper.call("t").send::<String>().await.unwrap_err();
    assert_eq!(server.received().len(), 1);
}

async fn retry_after_is_honoured_in_seconds_and_as_a_date(api: Api) {
    let server = RawServer::start().await;
    server.push(Script::response(429, &[("retry-after", "1")], b""));
    // The date has whole seconds: it is at least 2 s after `before`, however long the first
    // retry took.
    let before = Instant::now();
    let date = httpdate_in(3);
    server.push(Script::response(
        503,
        &[("retry-after", date.as_str())],
        b"",
    ));
    server.push(ok(api));
    let opper = client_on(&server.url(), api);
    opper.call("t").send::<Sum>().await.unwrap();
    let at: Vec<Instant> = server.received().iter().map(|r| r.at).collect();
    assert!(
        at[1] - at[0] >= Duration::from_millis(990),
        "{:?}",
        at[1] - at[0]
    );
    assert!(
        at[2] - before >= Duration::from_millis(1900),
        "{:?}",
        at[2] - before
    );

    // A wait longer than the policy's cap is not waited out.
    let server = RawServer::start().await;
    server.push(Script::response(
        429,
        &[("retry-after", "3600")],
        b"{\"type\": \"RateLimitError\"}",
    ));
    let err = client_on(&server.url(), api)
        .call("t")
        .send::<String>()
        .await
        .unwrap_err();
    match err {
        Error::RateLimited(e) => assert_eq!(e.retry_after, Some(Duration::from_secs(3600))),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.received().len(), 1);
}

fn httpdate_in(seconds: u64) -> String {
    httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(seconds))
}

async fn a_server_that_never_answers_times_out(api: Api) {
    let server = RawServer::start().await;
    server.fallback(Script::default().stall());
    let opper = opper_tests::builder(&server.url())
        .api(api)
        .request_timeout(Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = opper.call("t").send::<String>().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(matches!(err, Error::Timeout(_)));
}
