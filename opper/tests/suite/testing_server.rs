//! The mock server over real HTTP, driven with bare reqwest.
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
    let text = post(&server, "/call/stream", body("chat", false))
        .await
        .text()
        .await
        .unwrap();
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
    let text = post(&server, "/v2/call/stream", body("t", false))
        .await
        .text()
        .await
        .unwrap();
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
    let text = post(&server, "/v2/call/stream", body("t", false))
        .await
        .text()
        .await
        .unwrap();
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
    post(&server, "/v2/call/stream", body("t", false))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !server
            .requests_for("t")
            .pop()
            .unwrap()
            .client_disconnected()
    );
}

#[tokio::test]
async fn requests_are_recorded() {
    let server = MockServer::start().await;
    post(&server, "/v2/call/stream?x=1", body("extract", true))
        .await
        .text()
        .await
        .unwrap();
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
