//! The mock server over real HTTP, driven with bare reqwest: v2's paths, then v3's (the same
//! scripts answer both; each version's framing and error shape).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use opper::testing::{ChunkOptions, MockServer, Reply, chunks_for};
use serde_json::{Value, json};

use crate::common::SCHEMA;

fn body(name: &str, schema: bool) -> String {
    let mut body =
        json!({"name": name, "instructions": "Do it", "input": {"text": "Ann is the CTO"}});
    if schema {
        body["output_schema"] = serde_json::from_str(SCHEMA).unwrap();
    }
    body.to_string()
}

async fn post(server: &MockServer, path: &str, body: String) -> reqwest::Response {
    post_with(&reqwest::Client::new(), server, path, body).await
}

async fn post_with(
    client: &reqwest::Client,
    server: &MockServer,
    path: &str,
    body: String,
) -> reqwest::Response {
    client
        .post(format!("{}{path}", server.url()))
        .bearer_auth("secret")
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The body of a POST of `body` to `path`, read to its end as text.
async fn post_text(server: &MockServer, path: &str, body: String) -> String {
    post(server, path, body).await.text().await.unwrap()
}

async fn json_of(response: reqwest::Response) -> Value {
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

/// The `data:` payloads of a complete SSE body framed with `\n\n`.
fn events(text: &str) -> Vec<Value> {
    assert!(text.ends_with("\n\n"), "{text:?}");
    text.split_terminator("\n\n")
        .map(|event| {
            let data = event
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("{event:?}"));
            serde_json::from_str(data).unwrap()
        })
        .collect()
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
async fn call_answers_a_schema_valid_generated_output() {
    let server = MockServer::start().await;
    let response = post(&server, "/v2/call", body("extract", true)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let answer = json_of(response).await;
    assert!(
        is_uuid_like(answer["span_id"].as_str().unwrap()),
        "{answer}"
    );
    assert_eq!(answer["message"], Value::Null);
    assert_eq!(answer["cached"], false);
    let payload = &answer["json_payload"];
    assert_eq!(payload["people"].as_array().unwrap().len(), 2);
    assert!(payload["people"][0]["role"].is_string());
    assert!(payload["summary"].as_str().unwrap().contains(' '));
    assert!(payload["count"].as_u64().is_some());
    let usage = &answer["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["input_tokens"].as_u64().unwrap() + usage["output_tokens"].as_u64().unwrap()
    );
    assert!(answer["cost"]["total"].as_f64().unwrap() > 0.0);

    // Same task, same output; the short path works too.
    let again = json_of(post(&server, "/call", body("extract", true)).await).await;
    assert_eq!(&again["json_payload"], payload);
    assert_ne!(again["span_id"], answer["span_id"]);
}

#[tokio::test]
async fn call_answers_text_without_output_schema_and_scripted_replies() {
    let server = MockServer::start().await;
    let answer = json_of(post(&server, "/v2/call", body("chat", false)).await).await;
    assert!(answer["message"].as_str().unwrap().len() > 10);
    assert_eq!(answer["json_payload"], Value::Null);

    server.reply(
        "chat",
        Reply::text("Hello there").span_id("span-1").cached(true),
    );
    server.reply("sum", Reply::json(json!({"sum": 9})));
    let answer = json_of(post(&server, "/v2/call", body("chat", false)).await).await;
    assert_eq!(answer["message"], "Hello there");
    assert_eq!(answer["span_id"], "span-1");
    assert_eq!(answer["cached"], true);
    let answer = json_of(post(&server, "/v2/call", body("sum", true)).await).await;
    assert_eq!(answer["json_payload"], json!({"sum": 9}));
}

#[tokio::test]
async fn stream_is_framed_and_chunked_like_the_service() {
    let server = MockServer::start().await;
    let value = json!({"people": [{"name": "Ann Lee", "role": "CTO"}], "summary": "One person here", "count": 1, "tags": []});
    server.reply("extract", Reply::json(value.clone()));
    let response = post(&server, "/v2/call/stream", body("extract", true)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let text = response.text().await.unwrap();
    let events = events(&text);
    let first = events[0].as_object().unwrap();
    assert_eq!(first.len(), 1);
    assert!(is_uuid_like(first["span_id"].as_str().unwrap()));
    let expected: Vec<Value> = chunks_for(&value, &ChunkOptions::new())
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    assert_eq!(&events[1..], &expected[..]);
    assert!(events[1..].iter().all(|e| e["chunk_type"] == "json"));
    assert!(
        events
            .iter()
            .any(|e| e["json_path"] == "response.people[0].name" && e["delta"] == " Lee")
    );
    assert!(
        events
            .iter()
            .any(|e| e["json_path"] == "response.count" && e["delta"] == 1)
    );
    assert!(!events.iter().any(|e| e["json_path"] == "response.tags"));
}

#[tokio::test]
async fn text_stream_and_raw_sse() {
    let server = MockServer::start().await;
    let text = post_text(&server, "/call/stream", body("chat", false)).await;
    let events = events(&text);
    assert!(events.len() > 4);
    assert!(
        events[1..]
            .iter()
            .all(|e| e["chunk_type"] == "text" && e.get("json_path").is_none())
    );

    let pieces = [
        ": comment\r\n",
        "event: message\r\nid: 7\r\nretry: 10\r\ndata: {\"span_id\": \"s\"}\r\n\r\n",
        "data: {\"delta\": \"Hel",
        "lo\", \"chunk_type\": \"text\"}\n\n",
    ];
    server.reply(
        "raw",
        Reply::raw_sse(pieces).chunk_delay(Duration::from_millis(20)),
    );
    let mut response = post(&server, "/v2/call/stream", body("raw", false)).await;
    let mut received = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        received.push(String::from_utf8(chunk.to_vec()).unwrap());
    }
    assert_eq!(received.concat(), pieces.concat());
    assert!(received.len() >= 3, "{received:?}");
}

#[tokio::test]
async fn unauthorized_not_found_and_validation_errors_are_shaped_like_the_api() {
    let server = MockServer::start().await;
    server.require_api_key("secret");

    let response = reqwest::Client::new()
        .post(format!("{}/v2/call", server.url()))
        .bearer_auth("wrong")
        .body(body("t", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let error = json_of(response).await;
    assert_eq!(error["type"], "UnauthorizedError");
    assert!(error["message"].is_string());
    assert!(error.get("detail").is_some());
    let response = reqwest::Client::new()
        .post(format!("{}/v2/call/stream", server.url()))
        .body(body("t", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        post(&server, "/v2/call", body("t", false)).await.status(),
        200
    );

    let response = post(&server, "/v2/other", body("t", false)).await;
    assert_eq!(response.status(), 404);
    assert_eq!(json_of(response).await["type"], "NotFoundError");

    let response = post(&server, "/v2/call", r#"{"input": 1}"#.to_owned()).await;
    assert_eq!(response.status(), 422);
    let error = json_of(response).await;
    assert_eq!(error["type"], "RequestValidationError");
    assert_eq!(error["detail"]["loc"], json!(["body", "name"]));
    assert_eq!(error["detail"]["type"], "missing");
    assert!(error["detail"]["msg"].is_string());
    assert_eq!(error["detail"]["input"], json!({"input": 1}));

    let response = post(&server, "/v2/call/stream", "not json".to_owned()).await;
    assert_eq!(response.status(), 422);
    assert_eq!(json_of(response).await["detail"]["type"], "json_invalid");
    assert_eq!(server.request_count(), 6);
}

#[tokio::test]
async fn fault_queue_then_per_task_queue_then_sticky() {
    let server = MockServer::start().await;
    server
        .fault(Reply::status(503).retry_after(1).times(2))
        .fault(Reply::api_error(429, "TooManyRequestsError", "slow down"))
        .enqueue("t", Reply::text("queued"))
        .reply("t", Reply::text("sticky"));

    for _ in 0..2 {
        let response = post(&server, "/v2/call", body("t", false)).await;
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "1");
        let error = json_of(response).await;
        assert_eq!(error["type"], "ServiceUnavailableError");
    }
    let response = post(&server, "/v2/call", body("other", false)).await;
    assert_eq!(response.status(), 429);
    assert_eq!(json_of(response).await["message"], "slow down");
    for expected in ["queued", "sticky", "sticky"] {
        let answer = json_of(post(&server, "/v2/call", body("t", false)).await).await;
        assert_eq!(answer["message"], expected);
    }
    assert_eq!(server.request_count(), 6);
    assert_eq!(server.requests_for("t").len(), 5);

    server.fault(Reply::status(502).body("upstream down"));
    let response = post(&server, "/v2/call/stream", body("t", false)).await;
    assert_eq!(response.status(), 502);
    assert_eq!(response.text().await.unwrap(), "upstream down");
}

#[tokio::test]
async fn error_chunk_and_dropped_connection_mid_stream() {
    let server = MockServer::start().await;
    server.enqueue(
        "t",
        Reply::text("one two three four").error_after(3, "ServerError", "boom"),
    );
    let text = post_text(&server, "/v2/call/stream", body("t", false)).await;
    let events = events(&text);
    assert_eq!(events.len(), 4);
    assert_eq!(
        events[3],
        json!({"chunk_type": "error", "error_type": "ServerError", "error_message": "boom"})
    );

    server.enqueue("t", Reply::text("one two three four").drop_after(2));
    let mut response = post(&server, "/v2/call/stream", body("t", false)).await;
    let mut received = String::new();
    let error = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received.push_str(std::str::from_utf8(&chunk).unwrap()),
            Ok(None) => panic!("the stream ended cleanly: {received:?}"),
            Err(error) => break error,
        }
    };
    assert!(error.is_body() || error.is_decode(), "{error:?}");
    assert_eq!(received.matches("data: ").count(), 2, "{received:?}");

    server.enqueue("t", Reply::generated().drop_connection());
    let result = reqwest::Client::new()
        .post(format!("{}/v2/call", server.url()))
        .body(body("t", false))
        .send()
        .await;
    assert!(result.is_err());
    assert!(!server.requests()[2].client_disconnected());
}

#[tokio::test]
async fn delays_and_stalls() {
    let server = MockServer::start().await;
    server.enqueue("t", Reply::generated().delay(Duration::from_millis(200)));
    let started = Instant::now();
    assert_eq!(
        post(&server, "/v2/call", body("t", true)).await.status(),
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(200));

    server.enqueue("t", Reply::generated().stall());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let result = client
        .post(format!("{}/v2/call", server.url()))
        .body(body("t", true))
        .send()
        .await;
    assert!(result.unwrap_err().is_timeout());
    let stalled = server.requests().pop().unwrap();
    assert!(stalled.wait_disconnected(Duration::from_secs(5)).await);

    server.enqueue(
        "t",
        Reply::text("a b c d").chunk_delay(Duration::from_millis(50)),
    );
    let started = Instant::now();
    let text = post_text(&server, "/v2/call/stream", body("t", false)).await;
    assert_eq!(events(&text).len(), 5);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn a_dropped_stream_is_seen_as_a_client_disconnect() {
    let server = MockServer::start().await;
    server.reply("t", Reply::text("one two three").stall_after(2));
    let mut response = post(&server, "/v2/call/stream", body("t", false)).await;
    let mut received = String::new();
    while received.matches("\n\n").count() < 2 {
        received.push_str(std::str::from_utf8(&response.chunk().await.unwrap().unwrap()).unwrap());
    }
    let request = server.requests_for("t").pop().unwrap();
    assert!(!request.client_disconnected());
    assert_eq!(server.closed_connections(), 0);
    drop(response);
    assert!(request.wait_disconnected(Duration::from_secs(5)).await);
    assert!(
        server
            .wait_for_closed_connections(1, Duration::from_secs(5))
            .await
    );
    assert_eq!(server.open_connections(), 0);

    // A stream read to its end is not a disconnect.
    server.reply("t", Reply::text("done"));
    post_text(&server, "/v2/call/stream", body("t", false)).await;
    assert!(
        !server
            .requests_for("t")
            .pop()
            .unwrap()
            .client_disconnected()
    );
}

/// Without `record_last`, the server keeps the documented last 1,000 requests.
#[tokio::test]
async fn the_last_1000_requests_are_kept_by_default() {
    let server = MockServer::start().await;
    let client = reqwest::Client::new();
    for i in 0..1_001 {
        post_with(&client, &server, "/v2/call", body(&format!("t{i}"), false))
            .await
            .bytes()
            .await
            .unwrap();
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 1_000);
    assert_eq!(requests[0].task(), Some("t1"), "the first is dropped");
    assert_eq!(requests[999].task(), Some("t1000"));
}

#[tokio::test]
async fn requests_are_recorded() {
    let server = MockServer::start().await;
    post_text(&server, "/v2/call/stream?x=1", body("extract", true)).await;
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v2/call/stream");
    assert_eq!(request.query.as_deref(), Some("x=1"));
    assert!(request.is_stream());
    assert_eq!(request.task(), Some("extract"));
    assert_eq!(request.bearer(), Some("secret"));
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    let body = request.body.as_ref().unwrap();
    assert_eq!(body["input"]["text"], "Ann is the CTO");
    assert_eq!(
        body["output_schema"]["required"],
        json!(["people", "summary", "count"])
    );
    assert!(!request.raw_body.is_empty());
    assert!(server.requests_for("other").is_empty());
}

#[tokio::test]
async fn keep_alive_concurrency_and_shutdown() {
    let server = MockServer::start().await;
    let client = reqwest::Client::new();
    for _ in 0..3 {
        assert_eq!(
            post_with(&client, &server, "/v2/call", body("t", true))
                .await
                .status(),
            200
        );
    }
    assert_eq!(server.accepted_connections(), 1);

    let calls = (0..300).map(|i| {
        let client = client.clone();
        let url = format!("{}/v2/call", server.url());
        async move {
            let response = client
                .post(url)
                .body(body(&format!("task{i}"), true))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.bytes().await.unwrap();
        }
    });
    futures::future::join_all(calls).await;
    assert_eq!(server.request_count(), 303);

    let url = server.url();
    server.shutdown().await;
    let result = reqwest::Client::new()
        .post(format!("{url}/v2/call"))
        .body(body("t", true))
        .send()
        .await;
    assert!(result.is_err());
}

#[tokio::test]
async fn the_crate_client_works_against_it() {
    let server = MockServer::start().await;
    server.require_api_key("k-123");
    let client = server.client();
    let schema =
        json!({"type": "object", "properties": {"sum": {"type": "integer"}}, "required": ["sum"]});

    server
        .fault(Reply::status(503).times(2))
        .reply("add", Reply::json(json!({"sum": 9})));
    let response: opper::Response<Value> = client
        .call("add")
        .output_schema(schema.clone())
        .input(&json!({"x": 4, "y": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.output, json!({"sum": 9}));
    assert_eq!(server.requests_for("add").len(), 3);
    assert_eq!(server.requests()[0].bearer(), Some("k-123"));

    let stream = client
        .call("gen")
        .output_schema(json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}))
        .stream::<Value>()
        .await
        .unwrap();
    let value = stream.finish().await.unwrap();
    assert!(value["text"].as_str().unwrap().contains(' '));

    server.reply("slow", Reply::text("a b c").stall_after(2));
    let mut stream = client.call("slow").stream::<String>().await.unwrap();
    futures::StreamExt::next(&mut stream)
        .await
        .unwrap()
        .unwrap();
    drop(stream);
    let request = server.requests_for("slow").pop().unwrap();
    assert!(request.wait_disconnected(Duration::from_secs(5)).await);
}

#[tokio::test]
async fn the_waits_take_any_timeout_even_duration_max() {
    let server = MockServer::start().await;
    server.reply("t", Reply::text("one two three").stall_after(1));
    let waits = async {
        let mut response = post(&server, "/v2/call/stream", body("t", false)).await;
        response.chunk().await.unwrap();
        assert!(server.wait_for_requests(1, Duration::MAX).await);
        drop(response);
        assert!(server.wait_for_closed_connections(1, Duration::MAX).await);
        let request = server.requests_for("t").pop().unwrap();
        assert!(request.wait_disconnected(Duration::MAX).await);
    };
    // `Duration::MAX` is no deadline; the conditions come true within this one.
    tokio::time::timeout(Duration::from_secs(10), waits)
        .await
        .unwrap();
}

// v3 paths.

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
    let text = post_text(
        &server,
        "/v3/functions/traced/stream",
        run_request(None, true),
    )
    .await;
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
    let text = post_text(
        &server,
        "/v3/call/stream",
        run_request(Some("people"), true),
    )
    .await;
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
    let text = post_text(
        &server,
        "/v3/functions/chat/stream",
        run_request(None, false),
    )
    .await;
    let stream = v3_stream(&text);
    assert!(stream.deltas.len() >= 4, "{:?}", stream.deltas);
    assert_eq!(stream.deltas.concat(), "Hello there, general Kenobi");
    assert_eq!(stream.complete["data"], "Hello there, general Kenobi");

    // Generated text, when nothing is scripted.
    let text = post_text(
        &server,
        "/v3/functions/other/stream",
        run_request(None, false),
    )
    .await;
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

/// Checks that `response` is a v3 error of `status` and `code`; returns its body.
async fn expect_v3_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let error = json_of(response).await;
    assert_v3_error(&error, code);
    error
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
        expect_v3_error(response, 401, "unauthorized").await;
    }

    for path in ["/v3/functions/t/other", "/v3/functions//call"] {
        let response = post(&server, path, run_request(None, false)).await;
        expect_v3_error(response, 404, "not_found").await;
    }
    let response = client
        .get(format!("{}/v3/functions/t/call", server.url()))
        .bearer_auth("secret")
        .send()
        .await
        .unwrap();
    expect_v3_error(response, 405, "method_not_allowed").await;

    // `/v3/call` needs the name in the body; the function path takes it from the path.
    let response = post(&server, "/v3/call", run_request(None, false)).await;
    let error = expect_v3_error(response, 400, "bad_request").await;
    assert_eq!(error["error"]["details"]["field"], "name");
    let response = post(
        &server,
        "/v3/call/stream",
        r#"{"name": 3, "input": 1}"#.into(),
    )
    .await;
    expect_v3_error(response, 400, "bad_request").await;
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
    let error = expect_v3_error(response, 400, "bad_request").await;
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
    post_text(
        &server,
        "/v3/call/stream",
        run_request(Some("my/fn"), false),
    )
    .await;
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
    let text = post_text(
        &server,
        "/v3/functions/broken/stream",
        run_request(None, true),
    )
    .await;
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
    let text = post_text(&server, "/v3/functions/raw/stream", run_request(None, true)).await;
    assert_eq!(text, raw.concat());
}

/// A span's body has a `name` too: a trace's span requests (`POST /v3/spans`, `PATCH
/// /v3/spans/{id}`) are not a task's, while the calls inside it still are.
#[tokio::test]
async fn span_requests_are_not_a_task_s_requests() {
    let server = MockServer::start().await;
    server.reply("inner", Reply::json(json!({"ok": true})));
    let opper = server.client();
    opper::Trace::new("inner")
        .client(&opper)
        .run(async {
            opper
                .call("inner")
                .send::<Value>()
                .await
                .map(|reply| reply.output)
        })
        .await
        .unwrap();
    let requests = server.requests();
    let spans: Vec<_> = requests
        .iter()
        .filter(|request| request.path.starts_with("/v3/spans"))
        .collect();
    assert_eq!(spans.len(), 2, "{requests:#?}");
    assert_eq!(spans[0].method, "POST");
    assert_eq!(spans[0].body.as_ref().unwrap()["name"], "inner");
    for span in spans {
        assert_eq!(span.task(), None, "{span:?}");
    }
    let tasks = server.requests_for("inner");
    assert_eq!(tasks.len(), 1, "{tasks:#?}");
    assert!(!tasks[0].path.starts_with("/v3/spans"), "{tasks:#?}");
    assert_eq!(tasks[0].task(), Some("inner"));
}
