//! The typed client over real HTTP on loopback: request bodies, responses, errors, retries,
//! streams and their framing, and secret hygiene.

use std::time::{Duration, Instant};

use futures::StreamExt;
use opper::{Configuration, Error, Example, Model, RetryPolicy};
use opper_tests::{KEY, RawServer, Script, client};
use serde::Deserialize;
use serde_json::{Value, json};

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

fn ok_body() -> Value {
    json!({"span_id": "s-1", "json_payload": {"sum": 9}, "message": null, "cached": false,
           "usage": {"input_tokens": 10, "output_tokens": 2, "total_tokens": 12,
                     "output_tokens_details": {"reasoning_tokens": 1}},
           "cost": {"generation": 0.001, "platform": 0.0005, "total": 0.0015},
           "something_new": [1, 2]})
}

#[derive(Debug, Deserialize, PartialEq)]
struct Sum {
    sum: i64,
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
    let text = String::from_utf8(request.body.clone()).unwrap();
    let order = [
        "\"name\"",
        "\"instructions\"",
        "\"input_schema\"",
        "\"output_schema\"",
        "\"input\"",
        "\"model\"",
        "\"examples\"",
        "\"parent_span_id\"",
        "\"tags\"",
    ];
    let positions: Vec<usize> = order.iter().map(|key| text.find(key).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
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

#[tokio::test]
async fn output_that_does_not_fit_names_the_path() {
    let server = RawServer::start().await;
    server.push(Script::json(
        200,
        &json!({"span_id": "s", "json_payload": {"sum": "nine"}}),
    ));
    let err = client(&server.url())
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

#[tokio::test]
async fn each_error_status_has_its_variant_and_keeps_its_body() {
    let server = RawServer::start().await;
    let api =
        |kind: &str| json!({"type": kind, "message": format!("{kind} happened"), "detail": null});
    server.push(Script::json(400, &api("BadRequestError")));
    server.push(Script::json(401, &api("UnauthorizedError")));
    server.push(Script::json(404, &api("NotFoundError")));
    server.push(Script::json(422, &json!({"type": "RequestValidationError", "message": "bad",
        "detail": {"loc": ["body", "name"], "msg": "field required", "type": "missing", "input": {}}})));
    server.push(Script::response(
        418,
        &[("content-type", "text/plain")],
        b"I am a teapot",
    ));
    let opper = opper_tests::builder(&server.url())
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

#[tokio::test]
async fn retryable_statuses_are_retried_with_backoff_then_succeed() {
    let server = RawServer::start().await;
    for status in [429, 500, 502, 503, 504] {
        server.push(Script::response(status, &[], b"{\"errors\": []}"));
    }
    server.push(Script::json(200, &ok_body()));
    let opper = opper_tests::builder(&server.url())
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

#[tokio::test]
async fn the_retry_budget_is_respected_and_the_last_error_returned() {
    let server = RawServer::start().await;
    server.fallback(Script::response(503, &[], b"busy"));
    let err = client(&server.url())
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
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    opper.call("t").send::<String>().await.unwrap_err();
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn retry_after_is_honoured_in_seconds_and_as_a_date() {
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
    server.push(Script::json(200, &ok_body()));
    let opper = client(&server.url());
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
    let err = client(&server.url())
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

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = RawServer::start().await;
    server.fallback(Script::default().stall());
    let opper = opper_tests::builder(&server.url())
        .request_timeout(Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = opper.call("t").send::<String>().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(matches!(err, Error::Timeout(_)));
}

fn sse(events: &[Value]) -> String {
    events.iter().map(|e| format!("data: {e}\n\n")).collect()
}

#[tokio::test]
async fn a_text_stream_concatenates_and_keeps_the_span() {
    let server = RawServer::start().await;
    let body = sse(&[
        json!({"span_id": "span-9"}),
        json!({"delta": "Hello", "chunk_type": "text"}),
        json!({"delta": " wörld", "chunk_type": "text"}),
    ]);
    server.push(Script::default().sse_head().write(&body));
    let opper = client(&server.url());
    let mut stream = opper.call("t").stream::<String>().await.unwrap();
    assert_eq!(stream.span_id(), Some("span-9"));
    let mut deltas = Vec::new();
    while let Some(update) = stream.next().await {
        let update = update.unwrap();
        assert_eq!(update.json_path, "");
        deltas.push(update.delta.as_str().unwrap().to_owned());
        assert_eq!(*update.partial, deltas.concat());
    }
    assert_eq!(deltas, ["Hello", " wörld"]);
    assert_eq!(stream.finish().await.unwrap(), "Hello wörld");
    let request = &server.received()[0];
    assert_eq!(request.path, "/v2/call/stream");
    assert_eq!(request.header("accept"), Some("text/event-stream"));
    assert_eq!(
        request.json(),
        json!({"name": "t"}),
        "no stream field in the body"
    );
}

#[tokio::test]
async fn framing_every_way_the_spec_allows_gives_the_same_text() {
    let events = [
        json!({"span_id": "s"}),
        json!({"delta": "é😀 a\\\"b", "chunk_type": "text"}),
        json!({"delta": "\n next", "chunk_type": "text"}),
    ];
    let framings: Vec<String> = vec![
        sse(&events),
        sse(&events).replace('\n', "\r\n"),
        sse(&events).replace('\n', "\r"),
        format!(
            "\u{FEFF}: comment\nretry: 100\n{}",
            sse(&events).replace("data: ", "id: 1\nevent: message\ndata:")
        ),
        // The last event without its blank line, closed by the end of the stream.
        sse(&events).trim_end().to_owned(),
    ];
    for framing in framings {
        for split in [1usize, 2, 3, 7, 64] {
            let server = RawServer::start().await;
            let mut script = Script::default().sse_head();
            for piece in framing.as_bytes().chunks(split) {
                script = script.write(piece);
            }
            server.push(script);
            let text = client(&server.url())
                .call("t")
                .stream::<String>()
                .await
                .unwrap()
                .finish()
                .await;
            assert_eq!(
                text.unwrap(),
                "é😀 a\\\"b\n next",
                "split {split} of {framing:?}"
            );
        }
    }
}

#[tokio::test]
async fn an_error_chunk_ends_the_stream_and_keeps_the_text() {
    let server = RawServer::start().await;
    let body = sse(&[
        json!({"delta": "par", "chunk_type": "text"}),
        json!({"chunk_type": "error", "error_type": "ProviderError", "error_message": "model overloaded"}),
        json!({"delta": "never", "chunk_type": "text"}),
    ]);
    server.push(Script::default().sse_head().write(&body));
    let mut stream = client(&server.url())
        .call("t")
        .stream::<String>()
        .await
        .unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap().delta, json!("par"));
    match stream.next().await.unwrap().unwrap_err() {
        Error::StreamChunk {
            error_type,
            error_message,
            partial,
        } => {
            assert_eq!(error_type.as_deref(), Some("ProviderError"));
            assert_eq!(error_message.as_deref(), Some("model overloaded"));
            assert_eq!(partial, json!("par"));
        }
        other => panic!("{other:?}"),
    }
    assert!(stream.next().await.is_none());
    let err = stream.finish().await.unwrap_err();
    assert_eq!(err.partial(), Some(&json!("par")));
}

#[tokio::test]
async fn a_line_that_is_not_json_is_an_error_that_keeps_the_text() {
    let server = RawServer::start().await;
    let body = format!(
        "{}data: this is not json\n\n",
        sse(&[json!({"delta": "kept", "chunk_type": "text"})])
    );
    server.push(Script::default().sse_head().write(&body));
    let err = opper_tests::text_stream_error(&client(&server.url()), "t").await;
    match err {
        Error::InvalidChunk { data, partial, .. } => {
            assert_eq!(data, "this is not json");
            assert_eq!(partial, json!("kept"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_stream_cut_mid_event_keeps_what_arrived() {
    let server = RawServer::start().await;
    let body = sse(&[json!({"delta": "first ", "chunk_type": "text"})]);
    server.push(
        Script::default()
            .sse_head()
            .write(&body)
            .write("data: {\"delta\": \"sec"),
    );
    let err = opper_tests::text_stream_error(&client(&server.url()), "t").await;
    assert!(matches!(&err, Error::Incomplete { .. }), "{err:?}");
    assert_eq!(err.partial(), Some(&json!("first ")));
}

#[tokio::test]
async fn a_stream_cut_inside_a_character_is_incomplete_not_invalid() {
    let server = RawServer::start().await;
    let body = sse(&[json!({"delta": "caf", "chunk_type": "text"})]);
    // The first byte of "é" (0xC3 0xA9), then the connection closes.
    let cut = b"data: {\"delta\": \"caf\xC3".to_vec();
    server.push(Script::default().sse_head().write(&body).write(cut));
    let err = opper_tests::text_stream_error(&client(&server.url()), "t").await;
    assert!(matches!(&err, Error::Incomplete { .. }), "{err:?}");
    assert_eq!(err.partial(), Some(&json!("caf")));
}

#[tokio::test]
async fn a_stalled_stream_hits_the_read_timeout_and_keeps_what_arrived() {
    let server = RawServer::start().await;
    let body = sse(&[
        json!({"span_id": "s"}),
        json!({"delta": "so far", "chunk_type": "text"}),
    ]);
    server.push(Script::default().sse_head().write(&body).stall());
    let opper = opper_tests::builder(&server.url())
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = opper_tests::text_stream_error(&opper, "t").await;
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.partial(), Some(&json!("so far")));
}

#[tokio::test]
async fn a_stream_is_retried_before_its_first_event_only() {
    let server = RawServer::start().await;
    server.push(Script::response(503, &[], b""));
    server.push(Script::default().sse_head()); // closed before any event: nothing reached the caller
    server.push(
        Script::default()
            .sse_head()
            .write(sse(&[json!({"span_id": "s"}), json!({"delta": "a"})]))
            .write("data: {\"delta\""),
    );
    server.fallback(
        Script::default()
            .sse_head()
            .write(sse(&[json!({"delta": "never"})])),
    );
    let mut stream = client(&server.url())
        .call("t")
        .stream::<String>()
        .await
        .unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap().delta, json!("a"));
    assert!(stream.next().await.unwrap().is_err());
    assert_eq!(
        server.received().len(),
        3,
        "never retried after an event reached the caller"
    );
}

#[tokio::test]
async fn the_raw_chunk_stream_yields_every_chunk() {
    let server = RawServer::start().await;
    let body = sse(&[
        json!({"span_id": "s"}),
        json!({"delta": "Ann", "json_path": "response.people[0].name", "chunk_type": "json"}),
        json!({"delta": 3, "json_path": "response.count", "chunk_type": "json"}),
    ]);
    server.push(Script::default().sse_head().write(&body));
    let chunks: Vec<_> = client(&server.url())
        .call("t")
        .stream_raw()
        .await
        .unwrap()
        .collect()
        .await;
    let chunks: Vec<opper::Chunk> = chunks.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        chunks,
        [
            opper::Chunk::SpanId("s".into()),
            opper::Chunk::Delta {
                json_path: Some("response.people[0].name".into()),
                delta: json!("Ann"),
            },
            opper::Chunk::Delta {
                json_path: Some("response.count".into()),
                delta: json!(3),
            },
        ]
    );
}

#[tokio::test]
async fn an_oversized_event_is_a_clear_error() {
    let server = RawServer::start().await;
    let big = "x".repeat(4096);
    server.push(
        Script::default()
            .sse_head()
            .write(sse(&[json!({"delta": "ok"}), json!({"delta": big})])),
    );
    let opper = opper_tests::builder(&server.url())
        .max_event_bytes(1024)
        .build()
        .unwrap();
    let err = opper_tests::text_stream_error(&opper, "t").await;
    assert!(
        matches!(&err, Error::EventTooLarge { limit: 1024, .. }),
        "{err:?}"
    );
    assert_eq!(err.partial(), Some(&json!("ok")));
}

#[tokio::test]
async fn the_key_is_in_no_debug_display_or_error() {
    let server = RawServer::start().await;
    server.push(Script::json(
        401,
        &json!({"type": "UnauthorizedError", "message": "bad key"}),
    ));
    server.push(Script::response(500, &[], b"oops"));
    server.push(
        Script::default()
            .sse_head()
            .write("data: {\"chunk_type\": \"error\", \"error_message\": \"x\"}\n\n"),
    );
    let opper = opper_tests::builder(&server.url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let mut texts = vec![
        format!("{opper:?}"),
        format!("{:?}", opper::Opper::builder().api_key(KEY)),
    ];
    let errors = [
        opper.call("t").send::<String>().await.unwrap_err(),
        opper.call("t").send::<String>().await.unwrap_err(),
        opper_tests::text_stream_error(&opper, "t").await,
        client("http://127.0.0.1:9")
            .call("t")
            .send::<String>()
            .await
            .unwrap_err(),
    ];
    for error in &errors {
        texts.push(format!("{error}"));
        texts.push(format!("{error:?}"));
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            texts.push(format!("{inner} {inner:?}"));
            source = inner.source();
        }
    }
    for text in texts {
        assert!(!text.contains(KEY), "the key leaked: {text}");
    }
    assert_eq!(
        server.received()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

/// Field order reaches the model: a model writes fields in the schema's order, so reasoning
/// declared before the answer must be sent before it.
#[tokio::test]
async fn schemas_keep_the_declaration_order_of_fields() {
    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Reasoned {
        thoughts: String,
        answer: String,
    }
    let server = RawServer::start().await;
    server.push(Script::json(
        200,
        &json!({"span_id": "s", "json_payload": {"thoughts": "t", "answer": "a"}}),
    ));
    client(&server.url())
        .call("t")
        .output_type::<Reasoned>()
        .send::<Reasoned>()
        .await
        .unwrap();
    let body = String::from_utf8(server.received()[0].body.clone()).unwrap();
    let (thoughts, answer) = (
        body.find("\"thoughts\"").unwrap(),
        body.find("\"answer\"").unwrap(),
    );
    assert!(thoughts < answer, "{body}");
}
