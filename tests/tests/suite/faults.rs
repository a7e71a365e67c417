//! The fault matrix: one test per row, over the built-in server. Each asserts the error's
//! variant, what it keeps, and how many attempts reached the server.

use std::time::{Duration, Instant};

use futures::StreamExt;
use opper::Api;
use opper::testing::{MockServer, Reply};
use opper::{Error, Opper, RetryPolicy};
use opper_tests::{KEY, RawServer, Script, retrying, retrying_on};
use serde::Deserialize;
use serde_json::{Value, json};

async fn call(server: &MockServer) -> Error {
    call_on(server, Api::V2).await
}

async fn call_on(server: &MockServer, api: Api) -> Error {
    retrying_on(server, api)
        .call("task")
        .send::<Value>()
        .await
        .unwrap_err()
}

/// A row of the status matrix on `api`: the error and how many attempts reached the server.
/// `code` is v3's error code for `status` when the body is an API error (JSON), `None` when it
/// is plain text; on v2 the error's type is the one given.
async fn status_row(api: Api, status: u16, code: Option<&str>) -> (Error, usize) {
    let server = MockServer::start().await;
    let reply = if code.is_some() {
        Reply::api_error(status, "SomeError", "it failed")
    } else {
        Reply::status(status).body("plain failure text")
    };
    server.reply("task", reply);
    let error = call_on(&server, api).await;
    assert_eq!(error.status(), Some(status), "{error:?}");
    let api_error = error.api_error().unwrap();
    if let Some(code) = code {
        let error_type = match api {
            Api::V2 => "SomeError",
            _ => code,
        };
        assert_eq!(api_error.error_type.as_deref(), Some(error_type));
        assert_eq!(api_error.message.as_deref(), Some("it failed"));
    } else {
        assert_eq!(api_error.body, "plain failure text");
        assert_eq!(api_error.error_type, None);
    }
    (error, server.request_count())
}

/// The status matrix: one test a row and a version (`status::v3::status_429_json`).
mod status {
    use opper::{Api, Error};

    macro_rules! status_rows {
        ($($name:ident: $status:expr, $code:expr, $variant:pat, $attempts:expr;)*) => {
            $(
                async fn $name(api: Api) {
                    let (error, attempts) = super::status_row(api, $status, $code).await;
                    assert!(matches!(error, $variant), "{error:?}");
                    assert_eq!(attempts, $attempts, "attempts");
                }
            )*
            opper_tests::each_version!($($name),*);
        };
    }

    status_rows! {
        status_400_json: 400, Some("bad_request"), Error::BadRequest(_), 1;
        status_400_text: 400, None, Error::BadRequest(_), 1;
        status_401_json: 401, Some("unauthorized"), Error::Unauthorized(_), 1;
        status_401_text: 401, None, Error::Unauthorized(_), 1;
        status_404_json: 404, Some("not_found"), Error::NotFound(_), 1;
        status_404_text: 404, None, Error::NotFound(_), 1;
        status_422_json: 422, Some("unprocessable_entity"), Error::RequestValidation(_), 1;
        status_422_text: 422, None, Error::RequestValidation(_), 1;
        status_429_json: 429, Some("rate_limited"), Error::RateLimited(_), 3;
        status_429_text: 429, None, Error::RateLimited(_), 3;
        status_500_json: 500, Some("internal_error"), Error::Api(_), 3;
        status_500_text: 500, None, Error::Api(_), 3;
        status_502_json: 502, Some("bad_gateway"), Error::Api(_), 3;
        status_502_text: 502, None, Error::Api(_), 3;
        status_503_json: 503, Some("service_unavailable"), Error::Api(_), 3;
        status_503_text: 503, None, Error::Api(_), 3;
        status_504_json: 504, Some("gateway_timeout"), Error::Api(_), 3;
        status_504_text: 504, None, Error::Api(_), 3;
        status_418_is_not_retried: 418, None, Error::Api(_), 1;
    }
}

async fn validation_detail_is_kept(api: Api) {
    let server = MockServer::start().await;
    // A body without `name` is rejected by the server itself, as the API does.
    let response = reqwest::Client::new()
        .post(format!("{}/v2/call", server.url()))
        .bearer_auth(KEY)
        .body("{\"input\": 1}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let server = MockServer::start().await;
    server.reply(
        "task",
        Reply::status(422).json_body(json!({"type": "RequestValidationError", "message": "invalid",
            "detail": {"loc": ["body", "input", "x"], "msg": "not an int", "type": "int_parsing", "input": "a"}})),
    );
    match call_on(&server, api).await {
        Error::RequestValidation(e) => {
            let detail = e.detail.unwrap();
            assert_eq!(detail["loc"], json!(["body", "input", "x"]));
            assert_eq!(detail["msg"], "not an int");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.request_count(), 1);
}

opper_tests::each_version!(
    validation_detail_is_kept,
    an_error_after_retries_says_how_many_attempts_and_the_retry_after,
    dropped_before_headers_is_retried,
    dropped_mid_stream_keeps_what_arrived_and_is_not_retried,
    a_stalled_stream_hits_the_read_timeout,
    an_error_chunk_ends_the_stream_and_keeps_the_text,
    output_that_does_not_fit_names_its_path,
    only_the_listed_statuses_are_retried,
    a_stream_is_not_retried_once_an_update_reached_the_caller,
    dropping_a_call_future_closes_its_connection,
    dropping_a_stream_mid_way_closes_its_connection_and_leaves_no_task,
);

#[tokio::test]
async fn retry_after_in_seconds_is_waited() {
    let server = MockServer::start().await;
    server.fault(Reply::status(429).retry_after(1));
    server.reply("task", Reply::json(json!({"ok": true})));
    let started = Instant::now();
    let reply = retrying(&server)
        .call("task")
        .send::<Value>()
        .await
        .unwrap();
    assert_eq!(reply.output, json!({"ok": true}));
    assert!(
        started.elapsed() >= Duration::from_millis(990),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_waited() {
    let server = MockServer::start().await;
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    server.fault(Reply::status(503).header("retry-after", date));
    server.reply("task", Reply::json(json!({"ok": true})));
    let started = Instant::now();
    retrying(&server)
        .call("task")
        .send::<Value>()
        .await
        .unwrap();
    // The date has whole seconds: the wait is between one and two seconds.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.request_count(), 2);
}

async fn an_error_after_retries_says_how_many_attempts_and_the_retry_after(api: Api) {
    let server = MockServer::start().await;
    server.reply(
        "task",
        Reply::api_error(429, "RateLimitError", "slow down").retry_after(0),
    );
    let error = call_on(&server, api).await;
    assert!(matches!(error, Error::RateLimited(_)), "{error:?}");
    assert_eq!(server.request_count(), 3);
    assert_eq!(error.attempts(), Some(3));
    assert_eq!(error.retry_after(), Some(Duration::ZERO));
    assert_eq!(error.to_string(), "rate limited (after 3 attempts)");
    // The server's words are the source's, one layer down.
    // (v3's error body names the status's code, not the type given.)
    let error_type = match api {
        Api::V2 => "RateLimitError",
        _ => "rate_limited",
    };
    assert_eq!(
        std::error::Error::source(&error).unwrap().to_string(),
        format!("HTTP 429 {error_type}: slow down")
    );

    // A stream that could not open says the same.
    let error = retrying_on(&server, api)
        .call("task")
        .stream::<String>()
        .await
        .unwrap_err();
    assert_eq!(error.attempts(), Some(3));
    assert!(error.to_string().ends_with("(after 3 attempts)"), "{error}");

    // An error that was not retried was one attempt, and says nothing of it.
    server.reply("task", Reply::api_error(400, "BadRequestError", "no"));
    let error = call_on(&server, api).await;
    assert_eq!((error.attempts(), error.retry_after()), (Some(1), None));
    assert_eq!(error.to_string(), "bad request");
    // Neither does an error that is not a request's.
    let error = Error::MissingApiKey;
    assert_eq!((error.attempts(), error.retry_after()), (None, None));
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let opper = Opper::builder()
        .api_key(KEY)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry(
            RetryPolicy::default()
                .initial_delay(Duration::from_millis(50))
                .jitter(false),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let error = opper.call("task").send::<Value>().await.unwrap_err();
    assert!(
        matches!(&error, Error::Transport(e) if e.is_connect()),
        "{error:?}"
    );
    assert_eq!(error.attempts(), Some(3));
    assert!(
        error.to_string().ends_with(" (after 3 attempts)"),
        "{error}"
    );
    // Two retries: 50 ms, then 75 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(125),
        "{:?}",
        started.elapsed()
    );
}

async fn dropped_before_headers_is_retried(api: Api) {
    let server = MockServer::start().await;
    server.fault(Reply::generated().drop_connection().times(2));
    server.reply("task", Reply::json(json!({"ok": 1})));
    let reply = retrying_on(&server, api)
        .call("task")
        .send::<Value>()
        .await
        .unwrap();
    assert_eq!(reply.output, json!({"ok": 1}));
    assert_eq!(server.request_count(), 3);

    let server = MockServer::start().await;
    server.reply("task", Reply::generated().drop_connection());
    let error = call_on(&server, api).await;
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn dropped_after_headers_is_a_transport_error_after_retries() {
    // Headers promise 100 bytes, 10 arrive, then the connection closes.
    let server = RawServer::start().await;
    server.fallback(
        Script::default()
            .head(200, &[("content-type", "application/json")], Some(100))
            .write("{\"span_id\""),
    );
    let opper = opper_tests::client(&server.url());
    let error = opper.call("task").send::<Value>().await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(server.received().len(), 3);
}

async fn dropped_mid_stream_keeps_what_arrived_and_is_not_retried(api: Api) {
    let server = MockServer::start().await;
    server.reply(
        "task",
        Reply::text("one two three four five six").drop_after(3),
    );
    let mut stream = retrying_on(&server, api)
        .call("task")
        .stream::<String>()
        .await
        .unwrap();
    let mut seen = String::new();
    let error = loop {
        match stream.next().await {
            Some(Ok(update)) => seen.push_str(update.delta.as_str().unwrap()),
            Some(Err(error)) => break error,
            None => panic!("the stream ended without an error"),
        }
    };
    assert!(matches!(error, Error::Incomplete { .. }), "{error:?}");
    assert!(!seen.is_empty());
    assert_eq!(error.partial(), Some(&Value::String(seen)));
    assert_eq!(server.request_count(), 1);
}

async fn a_stalled_stream_hits_the_read_timeout(api: Api) {
    let server = MockServer::start().await;
    server.reply("task", Reply::text("alpha beta gamma delta").stall_after(2));
    let opper = opper_tests::builder(&server.url())
        .api(api)
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = opper_tests::text_stream_error(&opper, "task").await;
    assert!(error.is_timeout(), "{error:?}");
    assert!(matches!(error, Error::Incomplete { .. }));
    assert!(
        !error.partial().unwrap().as_str().unwrap().is_empty(),
        "{error:?}"
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn a_server_that_never_answers_hits_the_request_timeout() {
    let server = MockServer::start().await;
    server.reply("task", Reply::generated().stall());
    let opper = opper_tests::builder(&server.url())
        .request_timeout(Duration::from_millis(200))
        .retry(
            RetryPolicy::default()
                .max_retries(1)
                .initial_delay(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let error = opper.call("task").send::<Value>().await.unwrap_err();
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(
        server.request_count(),
        1,
        "a timeout once connected is not retried: the service may still be working"
    );
    let error = opper.call("task").stream::<String>().await.unwrap_err();
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
}

async fn an_error_chunk_ends_the_stream_and_keeps_the_text(api: Api) {
    let server = MockServer::start().await;
    server.reply(
        "task",
        Reply::text("alpha beta gamma").error_after(3, "ProviderError", "overloaded"),
    );
    let error = opper_tests::text_stream_error(&retrying_on(&server, api), "task").await;
    let (error_type, error_message, partial) = opper_tests::stream_chunk(&error);
    // v3's error frame carries a message, no type.
    assert_eq!(error_type, (api == Api::V2).then_some("ProviderError"));
    assert_eq!(error_message, Some("overloaded"));
    assert!(!partial.as_str().unwrap().is_empty());
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn a_line_that_is_not_json_is_an_invalid_chunk() {
    let server = MockServer::start().await;
    server.reply(
        "task",
        Reply::raw_sse([
            "data: {\"delta\": \"ok\"}\n\n",
            "data: <html>oops</html>\n\n",
        ]),
    );
    let error = opper_tests::text_stream_error(&retrying(&server), "task").await;
    match &error {
        Error::InvalidChunk { data, partial, .. } => {
            assert_eq!(data, "<html>oops</html>");
            assert_eq!(partial, &json!("ok"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn invalid_utf8_is_an_invalid_chunk() {
    let server = MockServer::start().await;
    server.reply(
        "task",
        Reply::raw_sse([
            bytes::Bytes::from_static(b"data: {\"delta\": \"ok\"}\n\n"),
            bytes::Bytes::from_static(b"data: {\"delta\": \"\xff\xfe\"}\n\n"),
        ]),
    );
    let error = opper_tests::text_stream_error(&retrying(&server), "task").await;
    assert!(
        matches!(&error, Error::InvalidChunk { reason, .. } if reason.contains("UTF-8")),
        "{error:?}"
    );
    assert_eq!(error.partial(), Some(&json!("ok")));
}

#[tokio::test]
async fn an_event_over_the_cap_is_refused_with_bounded_memory() {
    let server = MockServer::start().await;
    // 8 MiB of data in one event that never ends: the decoder must stop at the cap.
    let piece = bytes::Bytes::from(vec![b'a'; 64 * 1024]);
    let mut pieces = vec![bytes::Bytes::from_static(
        b"data: {\"delta\": \"ok\"}\n\ndata: \"",
    )];
    pieces.extend(std::iter::repeat_n(piece, 128));
    server.reply("task", Reply::raw_sse(pieces));
    let opper = opper_tests::builder(&server.url())
        .max_event_bytes(256 * 1024)
        .build()
        .unwrap();
    let error = opper_tests::text_stream_error(&opper, "task").await;
    assert!(
        matches!(error, Error::EventTooLarge { limit: 262_144, .. }),
        "{error:?}"
    );
    assert_eq!(error.partial(), Some(&json!("ok")));
}

/// Without `max_event_bytes`, the cap is the documented default, 16 MiB: an event that never
/// ends is refused there, before the 64 MiB response limit.
#[tokio::test]
async fn the_default_event_cap_is_16_mib() {
    let server = MockServer::start().await;
    let piece = bytes::Bytes::from(vec![b'a'; 1024 * 1024]);
    let mut pieces = vec![bytes::Bytes::from_static(
        b"data: {\"delta\": \"ok\"}\n\ndata: \"",
    )];
    pieces.extend(std::iter::repeat_n(piece, 17));
    server.reply("task", Reply::raw_sse(pieces));
    let opper = opper_tests::client(&server.url());
    let error = opper_tests::text_stream_error(&opper, "task").await;
    assert!(
        matches!(error, Error::EventTooLarge { limit, .. } if limit == 16 * 1024 * 1024),
        "{error:?}"
    );
    assert_eq!(error.partial(), Some(&json!("ok")));
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Person {
    name: String,
    age: u32,
}

async fn output_that_does_not_fit_names_its_path(api: Api) {
    let server = MockServer::start().await;
    server.reply(
        "task",
        Reply::json(json!({"people": [{"name": "Ann", "age": 40}, {"name": "Bo", "age": "old"}]})),
    );
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Team {
        people: Vec<Person>,
    }
    let error = retrying_on(&server, api)
        .call("task")
        .send::<Team>()
        .await
        .unwrap_err();
    match &error {
        Error::Output { path, json, .. } => {
            assert_eq!(path, "people[1].age");
            assert_eq!(json["people"][1]["age"], "old");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn a_200_with_an_empty_body_is_an_invalid_response() {
    let server = MockServer::start().await;
    server.reply("task", Reply::status(200).body(""));
    let error = call(&server).await;
    assert!(matches!(error, Error::InvalidResponse { .. }), "{error:?}");
    assert_eq!(server.request_count(), 1);
}

async fn only_the_listed_statuses_are_retried(api: Api) {
    for status in [400u16, 401, 403, 404, 409, 422, 501, 505] {
        let server = MockServer::start().await;
        server.reply("task", Reply::status(status));
        let error = call_on(&server, api).await;
        assert_eq!(error.status(), Some(status));
        assert_eq!(
            server.request_count(),
            1,
            "status {status} must not be retried"
        );
    }
}

#[tokio::test]
async fn backoff_waits_grow_and_respect_the_budget() {
    let server = MockServer::start().await;
    server.reply("task", Reply::status(503));
    let opper = opper_tests::builder(&server.url())
        .retry(
            RetryPolicy::default()
                .max_retries(4)
                .initial_delay(Duration::from_millis(40))
                .multiplier(2.0)
                .max_delay(Duration::from_millis(200)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    opper.call("task").send::<Value>().await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(server.request_count(), 5);
    // Nominal waits 40, 80, 160, 200 (capped); jitter draws each in [half, all].
    assert!(elapsed >= Duration::from_millis(240), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(480 + 400), "{elapsed:?}");
}

async fn a_stream_is_not_retried_once_an_update_reached_the_caller(api: Api) {
    let server = MockServer::start().await;
    server.fault(Reply::status(503));
    server.fault(Reply::text("one two three four").drop_after(2));
    server.reply("task", Reply::text("fine"));
    let mut stream = retrying_on(&server, api)
        .call("task")
        .stream::<String>()
        .await
        .unwrap();
    assert!(stream.next().await.unwrap().is_ok());
    let rest: Vec<_> = stream.collect().await;
    assert!(rest.iter().any(Result::is_err));
    assert_eq!(
        server.request_count(),
        2,
        "the 503 was retried, the broken stream was not"
    );
}

async fn dropping_a_call_future_closes_its_connection(api: Api) {
    let server = MockServer::start().await;
    server.reply("task", Reply::generated().delay(Duration::from_secs(30)));
    let opper = retrying_on(&server, api);
    let call = opper.call("task").send::<Value>();
    let _ = tokio::time::timeout(Duration::from_millis(200), call).await;
    assert!(
        server
            .wait_for_closed_connections(1, Duration::from_secs(5))
            .await,
        "the server saw no close"
    );
    assert_eq!(server.open_connections(), 0);
}

async fn dropping_a_stream_mid_way_closes_its_connection_and_leaves_no_task(api: Api) {
    let server = MockServer::start().await;
    server.reply(
        "task",
        Reply::text("one two three four five six seven eight")
            .chunk_delay(Duration::from_millis(50)),
    );
    let opper = retrying_on(&server, api);
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    let mut stream = opper.call("task").stream::<String>().await.unwrap();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    let request = server.requests().pop().unwrap();
    assert!(
        request.wait_disconnected(Duration::from_secs(5)).await,
        "the server saw no close"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while metrics.num_alive_tasks() > before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        metrics.num_alive_tasks() <= before,
        "{} tasks alive, {before} before",
        metrics.num_alive_tasks()
    );
}

#[tokio::test]
async fn clones_of_a_client_share_one_connection_pool() {
    let server = MockServer::start().await;
    server.reply("task", Reply::json(json!({"ok": true})));
    let opper = retrying(&server);
    let clone = opper.clone();
    for client in [&opper, &clone, &opper, &clone] {
        client.call("task").send::<Value>().await.unwrap();
    }
    assert_eq!(server.request_count(), 4);
    assert_eq!(
        server.accepted_connections(),
        1,
        "one kept-alive connection served all four"
    );
}

// v2 only: its reply is v2 chunks (`Reply::events`).
#[tokio::test]
async fn a_cut_stream_keeps_its_typed_partial_on_the_stream() {
    let api = Api::V2;
    let chunk = |path: &str, delta: Value| json!({"json_path": path, "delta": delta});
    let events = [
        chunk("response.people[0].name", json!("Ann")),
        chunk("response.people[0].role", json!("CTO")),
        chunk("response.people[1].name", json!("Bo")),
        chunk("response.summary", json!("Ann le")),
        chunk("response.summary", json!("ads.")),
    ];
    let server = MockServer::start().await;
    server
        .enqueue("team", Reply::events(events.clone()).drop_after(4))
        .enqueue(
            "team",
            Reply::events(events).error_after(4, "ProviderError", "overloaded"),
        );
    for expected in ["Incomplete", "StreamChunk"] {
        let mut stream = retrying_on(&server, api)
            .call("team")
            .output_type::<opper_tests::Team>()
            .stream::<opper_tests::Team>()
            .await
            .unwrap();
        let error = loop {
            match stream.next().await {
                Some(Ok(_)) => {}
                Some(Err(error)) => break error,
                None => panic!("the stream ended without its error"),
            }
        };
        assert!(format!("{error:?}").starts_with(expected), "{error:?}");
        // What arrived, typed: the part of the team a program can still use.
        let partial = stream.partial();
        let people = partial.people.as_deref().unwrap_or_default();
        assert_eq!(people.len(), 2, "{partial:?}");
        assert_eq!(people[0].name.as_deref(), Some("Ann"));
        assert_eq!(people[0].role.as_deref(), Some("CTO"));
        assert_eq!(people[1].name.as_deref(), Some("Bo"));
        assert_eq!(partial.summary.as_deref(), Some("Ann le"));
        // The same value the error keeps as JSON.
        assert_eq!(
            Some(&serde_json::to_value(&*partial).unwrap()),
            error.partial()
        );
    }
}
