//! The client against hostile servers on loopback: bodies that never end, huge error bodies,
//! redirects, streams that only keep alive, inputs JSON cannot carry, secrets, a query or a
//! fragment in a base URL, a `Retry-After` or timeouts past what a `Duration` or an `Instant`
//! holds, and usage sums that would overflow. Each test asserts the error and a bound: bytes kept in the error,
//! bytes the server could write, requests made, or that the call ends at all (under a generous
//! `tokio::time::timeout`, never a tight timing assertion).

use std::time::Duration;

use opper::{Api, ApiError, Error, RetryPolicy};
use opper_tests::{RawServer, Script, builder, chain, client, client_on};
use serde_json::{Value, json};

const MIB: usize = 1024 * 1024;
/// What the kernel and the HTTP stack may buffer on loopback beyond what the client keeps:
/// socket buffers on both sides and hyper's read buffer. Generous, and still far below what the
/// servers here would send if nobody stopped reading.
const BUFFERS: u64 = 48 * MIB as u64;
/// Longer than any of these calls should take; only a hang reaches it.
const HANG: Duration = Duration::from_secs(60);

async fn bounded<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(HANG, future)
        .await
        .expect("the call should end on its own")
}

/// A script writing `chunk` forever after `head`.
fn endless(head: Script, chunk: &[u8]) -> Script {
    head.forever(Script::default().write(chunk))
}

/// A response of `status` announcing `length` bytes of `content_type`, then `byte` forever.
fn endless_with_length(status: u16, content_type: &str, length: &str, byte: u8) -> Script {
    let head = Script::default().head(
        status,
        &[("content-type", content_type), ("content-length", length)],
        None,
    );
    endless(head, &[byte; 64 * 1024])
}

/// A client of `api` whose streams time out after 300 ms without an event.
fn idle_after_300_ms(server: &RawServer, api: Api) -> opper::Opper {
    builder(&server.url())
        .api(api)
        .stream_idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

/// Opens a text stream of `task` and reads it to the end, expecting it to time out.
async fn stream_timeout(opper: &opper::Opper) -> Error {
    let stream = bounded(opper.call("task").stream::<String>())
        .await
        .unwrap();
    bounded(stream.finish())
        .await
        .expect_err("the stream should time out")
}

async fn call(opper: &opper::Opper) -> Error {
    bounded(opper.call("task").send::<Value>())
        .await
        .expect_err("the call should fail")
}

// A 200 with a huge or endless body.

opper_tests::each_version!(
    an_endless_200_body_stops_at_max_response_bytes_and_is_not_retried,
    a_content_length_over_the_limit_fails_before_the_body_is_read,
    an_endless_200_body_stops_at_the_default_limit,
    a_body_at_the_limit_is_accepted,
    a_huge_5xx_body_keeps_8_kib_and_is_retried_without_reading_it,
    a_huge_error_body_on_a_stream_is_cut_too,
    a_small_error_body_is_kept_whole,
    an_error_body_that_stalls_is_kept_as_far_as_it_arrived,
    redirects_are_errors_and_nothing_is_sent_to_their_target,
    a_redirect_without_location_is_an_error_too,
    a_stream_that_only_keeps_alive_hits_the_idle_timeout,
    keepalives_before_the_first_event_hit_the_idle_timeout,
    the_request_timeout_bounds_a_whole_stream,
    comments_sent_without_pause_still_time_out,
    the_request_timeout_bounds_a_dribbled_call_body,
);

async fn an_endless_200_body_stops_at_max_response_bytes_and_is_not_retried(api: Api) {
    let server = RawServer::start().await;
    let head = Script::default()
        .head(200, &[("content-type", "application/json")], None)
        .write(br#"{"span_id":"s","message":""#);
    server.fallback(endless(head, &[b'a'; 64 * 1024]));
    let opper = builder(&server.url())
        .api(api)
        .max_response_bytes(MIB)
        .build()
        .unwrap();

    let error = call(&opper).await;
    assert!(
        matches!(error, Error::ResponseTooLarge { limit } if limit == MIB),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert!(format!("{error:?}").len() < 200, "{error:?}");
    assert_eq!(server.received().len(), 1, "not retried");
    let written = server.written();
    assert!(
        written < MIB as u64 + BUFFERS,
        "the server could write {written} bytes: reading went on past the limit"
    );
}

async fn a_content_length_over_the_limit_fails_before_the_body_is_read(api: Api) {
    let server = RawServer::start().await;
    server.fallback(endless_with_length(
        200,
        "application/json",
        "2147483648",
        b' ',
    ));
    // The default limit: at most 64 MiB.
    let opper = client_on(&server.url(), api);

    let error = call(&opper).await;
    assert!(
        matches!(error, Error::ResponseTooLarge { limit } if limit <= 64 * MIB),
        "{error:?}"
    );
    assert!(error.to_string().contains("max_response_bytes"), "{error}");
    assert_eq!(server.received().len(), 1, "not retried");
    assert!(server.written() < BUFFERS, "{}", server.written());
}

async fn an_endless_200_body_stops_at_the_default_limit(api: Api) {
    let server = RawServer::start().await;
    let head = Script::default().head(200, &[("content-type", "application/json")], None);
    server.fallback(endless(head, &[b' '; 256 * 1024]));
    let opper = client_on(&server.url(), api);

    let error = call(&opper).await;
    let Error::ResponseTooLarge { limit } = error else {
        panic!("{error:?}")
    };
    assert_eq!(limit, 64 * MIB, "the documented default");
    let written = server.written();
    assert!(written < (64 * MIB) as u64 + BUFFERS, "{written}");
    assert_eq!(server.received().len(), 1);
}

async fn a_body_at_the_limit_is_accepted(api: Api) {
    let server = RawServer::start().await;
    let body = match api {
        Api::V2 => json!({"span_id": "s", "message": "x".repeat(1000)}),
        _ => json!({"data": "x".repeat(1000)}),
    }
    .to_string();
    server.fallback(Script::response(
        200,
        &[("content-type", "application/json")],
        body.as_bytes(),
    ));
    let opper = builder(&server.url())
        .api(api)
        .max_response_bytes(body.len())
        .build()
        .unwrap();
    let reply = bounded(opper.call("task").send::<String>()).await.unwrap();
    assert_eq!(reply.output.len(), 1000);
    let opper = builder(&server.url())
        .api(api)
        .max_response_bytes(body.len() - 1)
        .build()
        .unwrap();
    assert!(matches!(call(&opper).await, Error::ResponseTooLarge { .. }));
}

// An error status with a huge body.

async fn a_huge_5xx_body_keeps_8_kib_and_is_retried_without_reading_it(api: Api) {
    let server = RawServer::start().await;
    server.fallback(endless_with_length(500, "text/plain", "536870912", b'e'));
    let opper = client_on(&server.url(), api);

    let error = call(&opper).await;
    let api = error.api_error().expect("an API error");
    assert_eq!(api.status, 500);
    assert!(api.truncated, "{api:?}");
    assert_eq!(api.body.len(), ApiError::MAX_BODY_BYTES);
    assert!(chain(&error).contains("cut at 8192 bytes"), "{error}");
    let kept = format!("{error:?}").len();
    assert!(
        kept < ApiError::MAX_BODY_BYTES + 1024,
        "{kept} bytes in the error"
    );
    assert_eq!(
        server.received().len(),
        3,
        "a 500 is retried twice by default"
    );
    let written = server.written();
    assert!(
        written < 3 * BUFFERS,
        "the server could write {written} bytes over 3 attempts: bodies were read on"
    );
}

async fn a_huge_error_body_on_a_stream_is_cut_too(api: Api) {
    let server = RawServer::start().await;
    let head = Script::default().head(400, &[("content-type", "application/json")], None);
    server.fallback(endless(
        head.write(br#"{"type":"BadRequestError","message":""#),
        &[b'm'; 64 * 1024],
    ));
    let opper = client_on(&server.url(), api);
    let error = bounded(opper.call("task").stream::<String>())
        .await
        .expect_err("the stream should not open");
    let Error::BadRequest(api) = &error else {
        panic!("{error:?}")
    };
    assert!(api.truncated);
    assert!(api.body.len() <= ApiError::MAX_BODY_BYTES);
    assert_eq!(api.message, None, "a cut body is not parsed as JSON");
    assert_eq!(server.received().len(), 1, "a 400 is not retried");
}

async fn a_small_error_body_is_kept_whole(api: Api) {
    let server = RawServer::start().await;
    server.fallback(Script::json(
        404,
        &json!({"type": "NotFoundError", "message": "no such task"}),
    ));
    let error = call(&client_on(&server.url(), api)).await;
    let Error::NotFound(api) = &error else {
        panic!("{error:?}")
    };
    assert!(!api.truncated);
    assert_eq!(api.message.as_deref(), Some("no such task"));
    assert!(!chain(&error).contains("cut at"), "{error}");
}

async fn an_error_body_that_stalls_is_kept_as_far_as_it_arrived(api: Api) {
    let server = RawServer::start().await;
    server.fallback(
        Script::default()
            .head(502, &[("content-type", "text/plain")], Some(1000))
            .write("upstream is")
            .stall(),
    );
    let opper = builder(&server.url())
        .api(api)
        .request_timeout(Duration::from_millis(300))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let error = call(&opper).await;
    let api = error.api_error().expect("an API error");
    assert_eq!((api.status, api.body.as_str()), (502, "upstream is"));
    assert!(!api.truncated);
}

// Redirects.

async fn redirects_are_errors_and_nothing_is_sent_to_their_target(api: Api) {
    let target = RawServer::start().await;
    target.fallback(Script::json(
        200,
        &json!({"span_id": "s", "json_payload": 1}),
    ));
    let elsewhere = format!("{}/v2/call", target.url().replace("127.0.0.1", "localhost"));
    let locations = [
        elsewhere.clone(),
        format!("{}/v2/call", target.url()),
        "http://example.com/v2/call".to_owned(),
    ];
    for status in [301, 302, 303, 307, 308] {
        for location in &locations {
            let server = RawServer::start().await;
            server.fallback(Script::response(status, &[("location", location)], b""));
            let opper = client_on(&server.url(), api);

            let error = call(&opper).await;
            match &error {
                Error::Redirect {
                    status: got,
                    location: Some(got_location),
                } => {
                    assert_eq!(*got, status);
                    assert_eq!(got_location, location);
                }
                other => panic!("{status} to {location}: {other:?}"),
            }
            assert_eq!(error.status(), Some(status));
            assert!(!error.is_retryable());
            assert!(error.to_string().contains(location.as_str()), "{error}");

            let error = bounded(opper.call("task").stream::<String>())
                .await
                .expect_err("a redirected stream does not open");
            assert!(matches!(error, Error::Redirect { .. }), "{error:?}");
            assert_eq!(
                server.received().len(),
                2,
                "one call and one stream, not retried"
            );
        }
    }
    assert!(
        target.received().is_empty(),
        "a redirect was followed: {:?}",
        target.received()
    );
}

async fn a_redirect_without_location_is_an_error_too(api: Api) {
    let server = RawServer::start().await;
    server.fallback(Script::response(307, &[], b"moved"));
    let error = call(&client_on(&server.url(), api)).await;
    assert!(
        matches!(
            error,
            Error::Redirect {
                status: 307,
                location: None
            }
        ),
        "{error:?}"
    );
}

// Timeouts a stream obeys.

/// The head of a stream and its first event on `api`: the text "Hello".
fn first_event(api: Api) -> Script {
    let event = match api {
        Api::V2 => "data: {\"span_id\": \"s\", \"delta\": \"Hello\", \"chunk_type\": \"text\"}\n\n"
            .to_owned(),
        _ => opper_tests::v3::content("Hello"),
    };
    Script::default().sse_head().write(event)
}

async fn a_stream_that_only_keeps_alive_hits_the_idle_timeout(api: Api) {
    let server = RawServer::start().await;
    server.fallback(
        first_event(api).forever(
            Script::default()
                .write(": keepalive\n\n")
                .write("data:\n\n")
                .sleep(10),
        ),
    );
    let opper = idle_after_300_ms(&server, api);
    let error = stream_timeout(&opper).await;
    assert!(matches!(error, Error::Incomplete { .. }), "{error:?}");
    assert!(error.is_timeout(), "{error:?}");
    assert!(chain(&error).contains("idle timeout"), "{error}");
    assert_eq!(
        error.partial(),
        Some(&json!("Hello")),
        "what arrived is kept"
    );
    assert_eq!(server.received().len(), 1);
}

async fn keepalives_before_the_first_event_hit_the_idle_timeout(api: Api) {
    let server = RawServer::start().await;
    server.fallback(
        Script::default()
            .sse_head()
            .forever(Script::default().write(": keepalive\n\n").sleep(10)),
    );
    let opper = idle_after_300_ms(&server, api);
    let error = bounded(opper.call("task").stream::<String>())
        .await
        .expect_err("the stream should not open");
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    assert!(chain(&error).contains("idle timeout"), "{error}");
    assert_eq!(
        server.received().len(),
        1,
        "a timeout once connected is not retried"
    );
}

async fn the_request_timeout_bounds_a_whole_stream(api: Api) {
    let server = RawServer::start().await;
    // Data events forever, none of them idle for long.
    let again = match api {
        Api::V2 => "data: {\"delta\": \" again\", \"chunk_type\": \"text\"}\n\n".to_owned(),
        _ => opper_tests::v3::content(" again"),
    };
    server.fallback(first_event(api).forever(Script::default().write(again).sleep(20)));
    let opper = builder(&server.url())
        .api(api)
        .request_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let error = stream_timeout(&opper).await;
    assert!(error.is_timeout(), "{error:?}");
    assert!(chain(&error).contains("request timeout"), "{error}");
    let text = error.partial().and_then(Value::as_str).unwrap_or_default();
    assert!(text.starts_with("Hello again"), "{text:?}");
    assert_eq!(server.received().len(), 1);
}

async fn comments_sent_without_pause_still_time_out(api: Api) {
    let server = RawServer::start().await;
    server.fallback(first_event(api).forever(Script::default().write(": x\n".repeat(4096))));
    let opper = idle_after_300_ms(&server, api);
    let error = stream_timeout(&opper).await;
    assert!(chain(&error).contains("idle timeout"), "{error}");
}

async fn the_request_timeout_bounds_a_dribbled_call_body(api: Api) {
    let server = RawServer::start().await;
    let head = Script::default()
        .head(200, &[("content-type", "application/json")], None)
        .write("{");
    server.fallback(head.forever(Script::default().write(" ").sleep(20)));
    let opper = builder(&server.url())
        .api(api)
        .request_timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let error = call(&opper).await;
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    assert!(chain(&error).contains("request timeout"), "{error}");
    assert_eq!(server.received().len(), 1);
}

// Inputs JSON cannot carry.

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Reading {
    value: f64,
    history: Vec<f32>,
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct Verdict {
    #[allow(dead_code)]
    ok: bool,
}

/// Judge a reading.
#[opper::function]
async fn judge(reading: f64, scale: Option<f64>) -> opper::Result<Verdict>;

#[tokio::test]
async fn nan_and_infinities_in_an_input_are_refused_before_any_request() {
    let server = RawServer::start().await;
    server.fallback(Script::json(
        200,
        &json!({"span_id": "s", "json_payload": {"ok": true}}),
    ));
    let opper = client(&server.url());

    for reading in [
        Reading {
            value: f64::NAN,
            history: vec![],
        },
        Reading {
            value: 1.0,
            history: vec![0.5, f32::INFINITY],
        },
    ] {
        let error = bounded(opper.call("task").input(&reading).send::<Value>())
            .await
            .expect_err("the input cannot be sent");
        assert!(matches!(error, Error::Input(_)), "{error:?}");
        assert!(chain(&error).contains("NaN or infinities"), "{error}");
        let error = bounded(opper.call("task").input(&reading).stream::<String>())
            .await
            .expect_err("the input cannot be sent");
        assert!(matches!(error, Error::Input(_)), "{error:?}");
    }
    for (reading, scale) in [(f64::NEG_INFINITY, None), (1.0, Some(f64::NAN))] {
        let error = bounded(judge_with(&opper, reading, scale))
            .await
            .expect_err("the input cannot be sent");
        assert!(matches!(error, Error::Input(_)), "{error:?}");
    }
    assert!(server.received().is_empty(), "{:?}", server.received());

    // Finite numbers still go.
    let verdict = bounded(judge_with(&opper, 2.5, Some(1.0))).await.unwrap();
    assert!(verdict.ok);
    assert_eq!(
        server.received()[0].json()["input"],
        json!({"reading": 2.5, "scale": 1.0})
    );
}

#[test]
fn an_example_with_nan_is_refused() {
    let error = opper::Example::from_values(&json!({"x": 1}), &f64::NAN).unwrap_err();
    assert!(matches!(error, Error::Input(_)), "{error:?}");
}

// Secrets in the base URL.

#[tokio::test]
async fn userinfo_in_the_base_url_is_redacted() {
    let builder = opper::Opper::builder()
        .api_key(opper_tests::KEY)
        .base_url("http://user:hunter2@127.0.0.1:1")
        .retry(RetryPolicy::none());
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("user:"),
        "{shown}"
    );
    assert!(shown.contains("<redacted>@127.0.0.1:1"), "{shown}");
    let opper = builder.build().unwrap();
    let shown = format!("{opper:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("user:"),
        "{shown}"
    );
    assert!(!shown.contains(opper_tests::KEY), "{shown}");

    let error = call(&opper).await;
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("hunter2"), "{shown}");

    let error = opper::Opper::builder()
        .api_key("k")
        .base_url("http://user:hunter2@[bad")
        .build()
        .unwrap_err();
    assert!(
        !format!("{error} {error:?}").contains("hunter2"),
        "{error:?}"
    );
}

// A base URL with a query or a fragment.

/// Set in the child process of [`a_base_url_with_a_query_is_refused`].
const CHILD: &str = "OPPER_HOSTILE_CLIENT_CHILD";

#[test]
fn a_base_url_with_a_query_is_refused() {
    for base in [
        "http://127.0.0.1:1/?a=1",
        "http://127.0.0.1:1?a=1",
        "http://127.0.0.1:1/v2#top",
        "http://127.0.0.1:1/?",
    ] {
        let built = builder(base).build();
        assert!(
            matches!(&built, Err(Error::Config { message, .. }) if message.contains("query or a fragment")),
            "{base}: {built:?}"
        );
    }
    assert!(builder("http://127.0.0.1:1/v2/").build().is_ok());
    // From the environment, in a child process (the environment is the process's).
    if std::env::var_os(CHILD).is_some() {
        let built = opper::Opper::from_env();
        assert!(matches!(built, Err(Error::Config { .. })), "{built:?}");
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "hostile_client::a_base_url_with_a_query_is_refused",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("OPPER_API_KEY", "k")
        .env("OPPER_BASE_URL", "https://example.com/?a=1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

// A `Retry-After` too large for a `Duration`.

#[tokio::test]
async fn a_retry_after_past_any_duration_is_capped_and_not_waited_out() {
    for huge in ["1e20", "18446744073709551616", "1e308", "inf"] {
        let server = RawServer::start().await;
        server.fallback(Script::response(
            429,
            &[("retry-after", huge)],
            b"{\"message\": \"slow down\"}",
        ));
        let error = call(&client(&server.url())).await;
        let Error::RateLimited(api) = &error else {
            panic!("{huge}: {error:?}")
        };
        assert_eq!(api.retry_after, Some(ApiError::MAX_RETRY_AFTER), "{huge}");
        assert_eq!(server.received().len(), 1, "{huge}: longer than max_delay");
    }
    // Unreadable waits are ignored: the policy's own backoff applies.
    for unreadable in ["-1", "NaN", "-inf"] {
        let server = RawServer::start().await;
        server.fallback(Script::response(429, &[("retry-after", unreadable)], b"{}"));
        let opper = builder(&server.url())
            .retry(
                RetryPolicy::default()
                    .max_retries(1)
                    .initial_delay(Duration::from_millis(1)),
            )
            .build()
            .unwrap();
        let error = call(&opper).await;
        assert_eq!(error.api_error().unwrap().retry_after, None, "{unreadable}");
        assert_eq!(server.received().len(), 2, "{unreadable}: retried");
    }
}

// Timeouts too large for an `Instant`.

#[tokio::test]
async fn timeouts_of_duration_max_mean_no_limit() {
    use futures::StreamExt;
    use opper::testing::{MockServer, Reply};

    let server = MockServer::start().await;
    server.reply("task", Reply::json(json!({"n": 1})));
    let opper = server
        .client_builder()
        .connect_timeout(Duration::MAX)
        .request_timeout(Duration::MAX)
        .read_timeout(Duration::MAX)
        .stream_idle_timeout(Duration::MAX)
        .build()
        .unwrap();
    let reply = bounded(opper.call("task").send::<Value>()).await.unwrap();
    assert_eq!(reply.output, json!({"n": 1}));
    let mut chunks = bounded(opper.call("task").stream_raw()).await.unwrap();
    let mut count = 0;
    while let Some(chunk) = bounded(chunks.next()).await {
        chunk.unwrap();
        count += 1;
    }
    assert!(count > 0);
    assert_eq!(server.request_count(), 2);
}

// Usage and cost sums over re-asks.

#[tokio::test]
async fn usage_and_cost_sums_saturate() {
    use opper::testing::{MockServer, Reply};

    let server = MockServer::start().await;
    let huge = |n: u64| {
        Reply::json(json!({"n": n}))
            .usage(json!({
                "input_tokens": u64::MAX,
                "output_tokens": 1,
                "total_tokens": u64::MAX,
                "output_tokens_details": {"reasoning_tokens": u64::MAX},
            }))
            .cost(json!({"generation": 1e308, "platform": -1e308, "total": 1.7e308}))
    };
    server.enqueue("task", huge(1)).enqueue("task", huge(2));
    let reply = bounded(
        server
            .client()
            .call("task")
            .validate(|output: &Value| match output["n"] == 2 {
                true => Ok(()),
                false => Err("not 2"),
            })
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(reply.reasks, 1);
    let usage = reply.usage.unwrap();
    assert_eq!(usage.input_tokens, u64::MAX);
    assert_eq!(usage.output_tokens, 2);
    assert_eq!(usage.total_tokens, u64::MAX);
    assert_eq!(usage.reasoning_tokens, Some(u64::MAX));
    let cost = reply.cost.unwrap();
    assert_eq!(cost.generation, f64::MAX);
    assert_eq!(cost.platform, -f64::MAX);
    assert_eq!(cost.total, f64::MAX);
}
