//! A call over API v3, end to end on loopback: what it sends (path, headers, the body the
//! official client 2.1.1 sends, names, models, what v3 does not carry), what its answer fills
//! (`data`, `meta`, a `202`'s pending operations, v3's error body), re-asks on v3, and the spans
//! that say which API answered. The servers are raw scripted ones (byte-exact replies, built by
//! `opper_tests::v3`). v2's calls are in `client.rs`; streams of both versions in `streaming.rs`.

use futures::StreamExt;
use opper::{Error, Model};
use opper_tests::v3::{
    self, DONE, add_numbers, answer, content, meta, read, stream, sum_stream, sum_stream_of,
};
use opper_tests::{RawServer, Script, Sum, capture_logs};
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
    let opper = v3::client(&server.url());

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
    let opper = v3::client(&server.url());
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
    let opper = v3::client(&server.url());
    opper.call("my/fn ä").send::<String>().await.unwrap();
    assert_eq!(
        server.received()[0].path,
        "/v3/functions/my%2Ffn%20%C3%A4/call"
    );
}

#[tokio::test]
async fn dot_names_are_refused_before_any_request() {
    let server = RawServer::start().await;
    let opper = v3::client(&server.url());
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
    let opper = v3::client(&server.url());
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
    let opper = v3::client(&server.url());
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
    let opper = v3::client(&server.url());
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
    let opper = v3::client(&server.url());

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
    let opper = v3::client(&server.url());
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
    let opper = v3::client(&server.url());
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
    let opper = v3::client(&server.url());
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
    let opper = v3::client(&server.url());
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
    let opper = v3::client(&server.url());
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
    let opper = v3::client(&server.url());
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
