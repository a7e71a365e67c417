//! The mock server's v3 endpoints over real HTTP, driven with bare reqwest.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use opper::testing::{MockServer, Reply};
use serde_json::{Value, json};

use crate::common::SCHEMA;

/// A RunRequest; `name` only when given (for `/v3/call`).
fn run_request(name: Option<&str>, schema: bool) -> String {
    let mut body = json!({
        "input": {"text": "Ann is the CTO"},
        "instructions": "Do it",
        "model": "openai/gpt-4o-mini",
    });
    if let Some(name) = name {
        body["name"] = json!(name);
    }
    if schema {
        body["output_schema"] = serde_json::from_str(SCHEMA).unwrap();
    }
    body.to_string()
}

async fn post(server: &MockServer, path: &str, body: String) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", server.url()))
        .bearer_auth("secret")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn json_of(response: reqwest::Response) -> Value {
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

/// A v3 stream as its frames: the `content` deltas, the `done` chunk, the `complete` data;
/// checks the framing byte for byte on the way (every event one `data:` line, `complete` with
/// its `event:` line, `[DONE]` last).
struct V3Stream {
    deltas: Vec<String>,
    done: Value,
    complete: Value,
}

fn v3_stream(text: &str) -> V3Stream {
    let events: Vec<&str> = text.split_terminator("\n\n").collect();
    assert!(text.ends_with("\n\n"), "{text:?}");
    let (last, events) = events.split_last().unwrap();
    assert_eq!(*last, "data: [DONE]");
    let (complete, events) = events.split_last().unwrap();
    let complete = complete
        .strip_prefix("event: complete\ndata: ")
        .unwrap_or_else(|| panic!("{complete:?}"));
    let complete: Value = serde_json::from_str(complete).unwrap();
    assert!(complete.get("type").is_none(), "{complete}");
    let (done, events) = events.split_last().unwrap();
    let done: Value = serde_json::from_str(done.strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(done["type"], "done");
    let deltas = events
        .iter()
        .map(|event| {
            let data = event
                .strip_prefix("data: {\"type\":\"content\",\"delta\":")
                .unwrap();
            let data = data.strip_suffix('}').unwrap();
            serde_json::from_str::<String>(data).unwrap()
        })
        .collect();
    V3Stream {
        deltas,
        done,
        complete,
    }
}

fn is_uuid_like(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[tokio::test]
async fn call_answers_generated_data_and_meta_on_both_v3_paths() {
    let server = MockServer::start().await;
    let response = post(
        &server,
        "/v3/functions/extract/call",
        run_request(None, true),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let answer = json_of(response).await;
    let data = &answer["data"];
    assert_eq!(data["people"].as_array().unwrap().len(), 2, "{answer}");
    assert!(data["people"][0]["role"].is_string());
    assert!(data["summary"].as_str().unwrap().contains(' '));
    assert!(data["count"].as_u64().is_some());

    let meta = answer["meta"].as_object().unwrap();
    assert_eq!(meta["function_name"], "extract");
    assert_eq!(meta["script_cached"], false);
    assert!(meta["execution_ms"].as_u64().is_some());
    assert_eq!(meta["llm_calls"], 1);
    assert_eq!(meta["tts_calls"], 0);
    assert_eq!(meta["image_gen_calls"], 0);
    assert!(meta["cost"].as_f64().unwrap() > 0.0);
    assert!(meta["usage"]["input_tokens"].as_u64().unwrap() > 0);
    assert!(meta["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert!(
        is_uuid_like(meta["trace_uuid"].as_str().unwrap()),
        "{answer}"
    );
    assert_eq!(meta["models_used"], json!(["openai/gpt-4o-mini"]));
    assert!(!meta.contains_key("span_id"));
    assert!(answer.get("span_id").is_none() && answer.get("json_payload").is_none());

    // `/v3/call` with the name in the body: the same task, the same output; a fresh trace.
    let again = json_of(post(&server, "/v3/call", run_request(Some("extract"), true)).await).await;
    assert_eq!(&again["data"], data);
    assert_ne!(again["meta"]["trace_uuid"], meta["trace_uuid"]);
    // And v2 generates the same value for the task.
    let v2 = json!({"name": "extract", "input": 1, "output_schema": serde_json::from_str::<Value>(SCHEMA).unwrap()});
    let v2 = json_of(post(&server, "/v2/call", v2.to_string()).await).await;
    assert_eq!(&v2["json_payload"], data);

    // Without an output_schema, `data` is text.
    let text =
        json_of(post(&server, "/v3/functions/chat/call", run_request(None, false)).await).await;
    assert!(text["data"].as_str().unwrap().len() > 10, "{text}");
}

#[tokio::test]
async fn the_same_scripts_answer_both_versions_and_meta_can_be_set() {
    let server = MockServer::start().await;
    server.reply("sum", Reply::json(json!({"sum": 9})));
    server.reply(
        "chat",
        Reply::text("Hello there").usage(json!({"input_tokens": 7, "output_tokens": 2})),
    );
    server.reply(
        "traced",
        Reply::json(json!([1, 2])).meta(json!({
            "trace_uuid": "123e4567-e89b-12d3-a456-426614174000",
            "cost": 0.25,
            "usage": {"input_tokens": 10, "output_tokens": 3, "reasoning_tokens": 1},
            "script_cached": true,
            "models_used": ["a/b", "c/d"],
        })),
    );

    let sum = json_of(post(&server, "/v3/functions/sum/call", run_request(None, true)).await).await;
    assert_eq!(sum["data"], json!({"sum": 9}));
    let v2 = json!({"name": "sum", "input": 1}).to_string();
    let v2 = json_of(post(&server, "/v2/call", v2).await).await;
    assert_eq!(v2["json_payload"], json!({"sum": 9}));

    let chat =
        json_of(post(&server, "/v3/functions/chat/call", run_request(None, false)).await).await;
    assert_eq!(chat["data"], "Hello there");
    assert_eq!(
        chat["meta"]["usage"],
        json!({"input_tokens": 7, "output_tokens": 2})
    );

    let traced = json_of(
        post(
            &server,
            "/v3/functions/traced/call",
            run_request(None, true),
        )
        .await,
    )
    .await;
    let meta = &traced["meta"];
    assert_eq!(meta["trace_uuid"], "123e4567-e89b-12d3-a456-426614174000");
    assert_eq!(meta["cost"], 0.25);
    assert_eq!(meta["script_cached"], true);
    assert_eq!(meta["models_used"], json!(["a/b", "c/d"]));
    assert_eq!(meta["function_name"], "traced");
    assert_eq!(meta["llm_calls"], 1);

    // The stream's `done` carries the usage, `complete` the same meta.
    let text = post(
        &server,
        "/v3/functions/traced/stream",
        run_request(None, true),
    )
    .await
    .text()
    .await
    .unwrap();
    let stream = v3_stream(&text);
    assert_eq!(stream.done["usage"], meta["usage"]);
    assert_eq!(stream.complete["meta"]["trace_uuid"], meta["trace_uuid"]);
    assert_eq!(stream.complete["data"], json!([1, 2]));
}

#[tokio::test]
async fn a_stream_writes_the_json_text_in_small_awkward_deltas_then_done_complete_and_done() {
    let server = MockServer::start().await;
    let value = json!({
        "name": "Zoë \"Z\" \\ 😀",
        "n": [-1.25e-7, 12345, true, null],
        "summary": "One person here",
    });
    server.reply("extract", Reply::json(value.clone()));
    let response = post(
        &server,
        "/v3/functions/extract/stream",
        run_request(None, true),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    let stream = v3_stream(&text);

    assert!(stream.deltas.len() > 10, "{:?}", stream.deltas);
    assert!(
        stream
            .deltas
            .iter()
            .all(|d| (1..=6).contains(&d.chars().count())),
        "{:?}",
        stream.deltas
    );
    let joined = stream.deltas.concat();
    assert_eq!(serde_json::from_str::<Value>(&joined).unwrap(), value);
    assert_eq!(stream.complete["data"], value);
    assert_eq!(stream.complete["meta"]["function_name"], "extract");
    assert_eq!(stream.done["usage"], stream.complete["meta"]["usage"]);
    // Some cut falls inside a string or a number: a delta that is not a whole JSON token.
    let awkward = stream.deltas.iter().any(|d| {
        serde_json::from_str::<Value>(d).is_err()
            && !d.chars().all(|c| "{}[],:".contains(c))
            && !d.starts_with('"')
    });
    assert!(awkward, "{:?}", stream.deltas);

    // A generated output streams too, on `/v3/call/stream` with the name in the body.
    let text = post(
        &server,
        "/v3/call/stream",
        run_request(Some("people"), true),
    )
    .await
    .text()
    .await
    .unwrap();
    let stream = v3_stream(&text);
    let joined = stream.deltas.concat();
    assert_eq!(
        serde_json::from_str::<Value>(&joined).unwrap(),
        stream.complete["data"]
    );
    assert!(stream.complete["data"]["people"].is_array());
}

#[tokio::test]
async fn a_text_task_streams_its_text_in_small_deltas() {
    let server = MockServer::start().await;
    server.reply("chat", Reply::text("Hello there, general Kenobi"));
    let text = post(
        &server,
        "/v3/functions/chat/stream",
        run_request(None, false),
    )
    .await
    .text()
    .await
    .unwrap();
    let stream = v3_stream(&text);
    assert!(stream.deltas.len() >= 4, "{:?}", stream.deltas);
    assert_eq!(stream.deltas.concat(), "Hello there, general Kenobi");
    assert_eq!(stream.complete["data"], "Hello there, general Kenobi");

    // Generated text, when nothing is scripted.
    let text = post(
        &server,
        "/v3/functions/other/stream",
        run_request(None, false),
    )
    .await
    .text()
    .await
    .unwrap();
    let stream = v3_stream(&text);
    assert!(stream.deltas.len() > 4);
    assert_eq!(
        Value::String(stream.deltas.concat()),
        stream.complete["data"]
    );
}

fn assert_v3_error(error: &Value, code: &str) {
    let inner = error["error"]
        .as_object()
        .unwrap_or_else(|| panic!("{error}"));
    assert_eq!(inner["code"], code, "{error}");
    assert!(inner["message"].is_string(), "{error}");
    assert!(inner.contains_key("details"), "{error}");
    assert_eq!(error.as_object().unwrap().len(), 1, "{error}");
}

#[tokio::test]
async fn errors_are_shaped_like_v3_on_v3_paths() {
    let server = MockServer::start().await;
    server.require_api_key("secret");
    let client = reqwest::Client::new();

    for path in ["/v3/functions/t/call", "/v3/call/stream"] {
        let response = client
            .post(format!("{}{path}", server.url()))
            .bearer_auth("wrong")
            .body(run_request(Some("t"), false))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        assert_v3_error(&json_of(response).await, "unauthorized");
    }

    let response = post(&server, "/v3/functions/t/other", run_request(None, false)).await;
    assert_eq!(response.status(), 404);
    assert_v3_error(&json_of(response).await, "not_found");
    let response = post(&server, "/v3/functions//call", run_request(None, false)).await;
    assert_eq!(response.status(), 404);
    assert_v3_error(&json_of(response).await, "not_found");
    let response = client
        .get(format!("{}/v3/functions/t/call", server.url()))
        .bearer_auth("secret")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_v3_error(&json_of(response).await, "method_not_allowed");

    // `/v3/call` needs the name in the body; the function path takes it from the path.
    let response = post(&server, "/v3/call", run_request(None, false)).await;
    assert_eq!(response.status(), 400);
    let error = json_of(response).await;
    assert_v3_error(&error, "bad_request");
    assert_eq!(error["error"]["details"]["field"], "name");
    let response = post(
        &server,
        "/v3/call/stream",
        r#"{"name": 3, "input": 1}"#.into(),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_v3_error(&json_of(response).await, "bad_request");
    for bad in [
        "not json",
        "[1]",
        r#"{"instructions": "x"}"#,
        r#"{"input": 1, "output_schema": 3}"#,
    ] {
        let response = post(&server, "/v3/functions/t/call", bad.to_owned()).await;
        assert_eq!(response.status(), 400, "{bad}");
        assert_v3_error(&json_of(response).await, "bad_request");
    }
    // A schema asking for more than the generator makes.
    let huge = json!({"input": 1, "output_schema": {"type": "array", "minItems": 1_000_000}});
    let response = post(&server, "/v3/functions/t/call", huge.to_string()).await;
    assert_eq!(response.status(), 400);
    let error = json_of(response).await;
    assert_v3_error(&error, "bad_request");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("10000"),
        "{error}"
    );

    // Scripted statuses and API errors take each version's shape.
    server.reply("busy", Reply::status(503).retry_after(2));
    server.reply(
        "slow",
        Reply::api_error(429, "TooManyRequestsError", "slow down"),
    );
    let response = post(&server, "/v3/functions/busy/call", run_request(None, false)).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "2");
    assert_v3_error(&json_of(response).await, "service_unavailable");
    let response = post(
        &server,
        "/v3/functions/slow/stream",
        run_request(None, false),
    )
    .await;
    assert_eq!(response.status(), 429);
    let error = json_of(response).await;
    assert_v3_error(&error, "rate_limited");
    assert_eq!(error["error"]["message"], "slow down");
    let v2 = json!({"name": "slow", "input": 1}).to_string();
    let error = json_of(post(&server, "/v2/call", v2).await).await;
    assert_eq!(
        error,
        json!({"type": "TooManyRequestsError", "message": "slow down", "detail": null})
    );

    // The body limit answers in the v3 shape too.
    server.max_body_bytes(64);
    let response = post(&server, "/v3/functions/t/call", "x".repeat(100)).await;
    assert_eq!(response.status(), 413);
    assert_v3_error(&json_of(response).await, "payload_too_large");
}

#[tokio::test]
async fn the_name_in_the_path_is_percent_decoded_and_requests_are_recorded() {
    let server = MockServer::start().await;
    server.reply("my/fn", Reply::json(json!({"ok": true})));
    let body = json!({
        "input": {"x": 4, "y": 5},
        "input_schema": {"type": "object"},
        "output_schema": {"type": "object"},
        "instructions": "Add",
        "model": {"name": "anthropic/claude", "options": {"temperature": 0}},
        "parent_span_id": "123e4567-e89b-12d3-a456-426614174000",
    });
    let response = post(&server, "/v3/functions/my%2Ffn/call", body.to_string()).await;
    let answer = json_of(response).await;
    assert_eq!(answer["data"], json!({"ok": true}));
    assert_eq!(answer["meta"]["function_name"], "my/fn");
    assert_eq!(answer["meta"]["models_used"], json!(["anthropic/claude"]));

    let recorded = server.requests_for("my/fn");
    assert_eq!(recorded.len(), 1);
    let request = &recorded[0];
    assert_eq!(request.path, "/v3/functions/my%2Ffn/call");
    assert_eq!(request.task(), Some("my/fn"));
    assert!(!request.is_stream());
    assert_eq!(request.bearer(), Some("secret"));
    assert_eq!(request.body.as_ref().unwrap(), &body);

    // On `/v3/call` the body's name is the task.
    post(
        &server,
        "/v3/call/stream",
        run_request(Some("my/fn"), false),
    )
    .await
    .text()
    .await
    .unwrap();
    let recorded = server.requests_for("my/fn");
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[1].path, "/v3/call/stream");
    assert!(recorded[1].is_stream());
}

#[tokio::test]
async fn a_pending_reply_answers_202_with_a_pending_response() {
    let server = MockServer::start().await;
    server.enqueue("image", Reply::pending("art_123", "image"));
    let response = post(
        &server,
        "/v3/functions/image/call",
        run_request(None, false),
    )
    .await;
    assert_eq!(response.status(), 202);
    let answer = json_of(response).await;
    assert_eq!(answer["data"], Value::Null);
    let meta = answer["meta"].as_object().unwrap();
    assert_eq!(meta["function_name"], "image");
    assert_eq!(meta["status"], "pending");
    assert!(meta["execution_ms"].as_u64().is_some());
    assert_eq!(
        meta["pending_operations"],
        json!([{"id": "art_123", "status_url": "/v3/artifacts/art_123/status", "type": "image"}])
    );
    // Used up: the next call is done.
    let response = post(
        &server,
        "/v3/functions/image/call",
        run_request(None, false),
    )
    .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn faults_apply_to_v3() {
    let server = MockServer::start().await;
    server.require_api_key("secret");
    server.fault(Reply::status(503).retry_after(0));
    let response = post(&server, "/v3/functions/t/call", run_request(None, false)).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "0");
    assert_eq!(
        post(&server, "/v3/functions/t/call", run_request(None, false))
            .await
            .status(),
        200
    );

    // An error chunk after two deltas ends the stream.
    server.reply(
        "broken",
        Reply::json(json!({"text": "a long enough value"})).error_after(2, "ServerError", "boom"),
    );
    let text = post(
        &server,
        "/v3/functions/broken/stream",
        run_request(None, true),
    )
    .await
    .text()
    .await
    .unwrap();
    let events: Vec<&str> = text.split_terminator("\n\n").collect();
    assert_eq!(events.len(), 3, "{text:?}");
    assert!(events[0].starts_with("data: {\"type\":\"content\""));
    assert_eq!(events[2], r#"data: {"type":"error","error":"boom"}"#);
    let response = post(
        &server,
        "/v3/functions/broken/call",
        run_request(None, true),
    )
    .await;
    assert_eq!(response.status(), 500);
    let error = json_of(response).await;
    assert_eq!(error["error"]["code"], "ServerError");
    assert_eq!(error["error"]["message"], "boom");

    // A dropped connection mid-stream.
    server.enqueue("cut", Reply::generated().drop_after(1));
    let response = post(&server, "/v3/functions/cut/stream", run_request(None, true)).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.is_err());

    // Raw frames go out as given.
    let raw = [
        ": keep-alive\n\n",
        "data: {\"type\":\"content\",\"delta\":\"{\\\"a\\\":\"}\n\n",
        "data: {\"type\":\"reasoning\",\"delta\":\"hm\"}\n\n",
        "event: complete\ndata: {\"data\":{\"a\":1},\"meta\":{}}\n\n",
    ];
    server.reply(
        "raw",
        Reply::raw_sse(raw).chunk_delay(Duration::from_millis(5)),
    );
    let text = post(&server, "/v3/functions/raw/stream", run_request(None, true))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(text, raw.concat());
}
