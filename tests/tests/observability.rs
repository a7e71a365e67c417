//! Tracing spans (with the OpenTelemetry GenAI names), parent-span nesting, and what traces
//! log, over real HTTP.

use std::time::Duration;

use opper::Opper;
use opper::testing::{MockServer, Reply};
use opper_tests::{KEY, RawServer, Script, capture_logs, client, retrying};
use serde_json::json;

/// The tests of this file take turns: tracing caches per-callsite interest process-wide, so a
/// test without a subscriber running beside one with a subscriber could hide events from it.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs a test body on its own runtime, one test at a time.
fn in_turn(body: impl std::future::Future<Output = ()>) {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(body);
}

fn ok(span: &str) -> Script {
    Script::json(
        200,
        &json!({"span_id": span, "message": "done",
        "usage": {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}}),
    )
}

/// The first line of `logs` that closes a span named `span`; panics with the logs if none.
#[track_caller]
fn close_line<'a>(logs: &'a str, span: &str) -> &'a str {
    logs.lines()
        .find(|l| l.contains(span) && l.contains("close"))
        .unwrap_or_else(|| panic!("{logs}"))
}

/// Asserts that `line` holds every one of `fields`.
#[track_caller]
fn assert_fields<F: AsRef<str>>(line: &str, fields: impl IntoIterator<Item = F>) {
    for field in fields {
        let field = field.as_ref();
        assert!(line.contains(field), "{field} missing in {line}");
    }
}

/// The test server's client, without retries.
fn without_retries(server: &MockServer) -> opper::Opper {
    server
        .client_builder()
        .retry(opper::RetryPolicy::none())
        .build()
        .unwrap()
}

#[test]
fn calls_are_spans_with_task_model_attempts_outcome_and_usage() {
    in_turn(async {
        let (captured, _guard) = capture_logs();
        let server = RawServer::start().await;
        server.push(Script::response(503, &[], b"busy"));
        server.push(ok("span-77"));
        let opper = client(&server.url());
        opper
            .call("summarize")
            .model("openai/gpt-4o-mini")
            .send::<String>()
            .await
            .unwrap();
        server.push(Script::json(
            400,
            &json!({"type": "BadRequestError", "message": "no"}),
        ));
        opper.call("broken").send::<String>().await.unwrap_err();

        let logs = captured.text();
        let success = logs
            .lines()
            .find(|l| {
                l.contains("close") && l.contains("task=\"summarize\"")
                    || l.contains("close") && l.contains("task=summarize")
            })
            .unwrap_or_else(|| panic!("{logs}"));
        for field in [
            "otel.name=\"chat openai/gpt-4o-mini\"",
            "otel.kind=\"client\"",
            "gen_ai.operation.name=\"chat\"",
            "gen_ai.provider.name=\"opper\"",
            "gen_ai.request.model=\"openai/gpt-4o-mini\"",
            "gen_ai.response.id=\"span-77\"",
            "gen_ai.usage.input_tokens=7",
            "gen_ai.usage.output_tokens=3",
            "api=\"v2\"",
            "span_id=\"span-77\"",
            "attempts=2",
            "outcome=\"ok\"",
            "total_tokens=10",
            "latency_ms=",
        ] {
            let bare = field.replace('"', "");
            assert!(
                success.contains(field) || success.contains(&bare),
                "{field} missing in {success}"
            );
        }
        assert!(logs.contains("retrying opper request"), "{logs}");
        let failure = logs
            .lines()
            .find(|l| l.contains("close") && l.contains("broken"))
            .unwrap_or_else(|| panic!("{logs}"));
        assert!(
            failure.contains("outcome=\"error\"") || failure.contains("outcome=error"),
            "{failure}"
        );
        assert!(failure.contains("error.type=\"400\""), "{failure}");
        assert!(!logs.contains(KEY), "the key leaked into the logs");
    });
}

#[test]
fn streams_are_spans_too_and_the_key_stays_out() {
    in_turn(async {
        let (captured, _guard) = capture_logs();
        let server = RawServer::start().await;
        server.push(
            Script::default()
                .sse_head()
                .write("data: {\"span_id\": \"st-1\"}\n\ndata: {\"delta\": \"hi\"}\n\n"),
        );
        let opper = client(&server.url());
        let text = opper
            .call("chat")
            .stream::<String>()
            .await
            .unwrap()
            .finish()
            .await
            .unwrap();
        assert_eq!(text, "hi");
        let logs = captured.text();
        let line = close_line(&logs, "opper.stream");
        assert_fields(
            line,
            [
                "span_id=\"st-1\"",
                "gen_ai.response.id=\"st-1\"",
                "gen_ai.operation.name=\"chat\"",
                "gen_ai.provider.name=\"opper\"",
                "chunks=2",
                "attempts=1",
                "ok",
            ],
        );
        assert!(!logs.contains(KEY));
    });
}

#[test]
fn a_parent_span_scope_reaches_every_call_inside_it_and_an_explicit_one_wins() {
    in_turn(async {
        let (_captured, _guard) = capture_logs();
        let server = RawServer::start().await;
        server.fallback(ok("child"));
        let opper = client(&server.url());
        opper.call("outside").send::<String>().await.unwrap();
        opper::with_parent_span("parent-1", async {
            opper.call("inside").send::<String>().await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
            opper.call("after-await").send::<String>().await.unwrap();
            opper
                .call("explicit")
                .parent_span_id("mine")
                .send::<String>()
                .await
                .unwrap();
            let parent = opper::current_parent_span().unwrap();
            let spawned = opper.clone();
            tokio::spawn(opper::with_parent_span(parent, async move {
                spawned.call("spawned").send::<String>().await.unwrap();
            }))
            .await
            .unwrap();
            opper::with_parent_span("nested", async {
                opper.call("nested").send::<String>().await.unwrap();
            })
            .await;
            opper.call("restored").send::<String>().await.unwrap();
        })
        .await;
        opper.call("outside-again").send::<String>().await.unwrap();

        let parents: Vec<(String, Option<String>)> = server
            .received()
            .iter()
            .map(|r| {
                let body = r.json();
                (
                    body["name"].as_str().unwrap().to_owned(),
                    body.get("parent_span_id")
                        .map(|p| p.as_str().unwrap().to_owned()),
                )
            })
            .collect();
        let expect =
            |name: &str, parent: Option<&str>| (name.to_owned(), parent.map(str::to_owned));
        assert_eq!(
            parents,
            vec![
                expect("outside", None),
                expect("inside", Some("parent-1")),
                expect("after-await", Some("parent-1")),
                expect("explicit", Some("mine")),
                expect("spawned", Some("parent-1")),
                expect("nested", Some("nested")),
                expect("restored", Some("parent-1")),
                expect("outside-again", None),
            ]
        );
    });
}

#[test]
fn a_previous_response_can_be_the_parent() {
    in_turn(async {
        let server = RawServer::start().await;
        server.push(ok("plan-span"));
        server.fallback(ok("child"));
        let opper = client(&server.url());
        let plan = opper.call("plan").send::<String>().await.unwrap();
        opper::with_parent_span(&plan, async {
            opper.call("draft").send::<String>().await.unwrap();
        })
        .await;
        let bodies: Vec<_> = server.received().iter().map(|r| r.json()).collect();
        assert_eq!(bodies[0].get("parent_span_id"), None);
        assert_eq!(bodies[1]["parent_span_id"], "plan-span");
    });
}

#[test]
fn the_key_appears_in_no_log_line_debug_display_or_error_through_faults_and_retries() {
    in_turn(async {
        let (sink, _guard) = capture_logs();

        let server = MockServer::start().await;
        server.require_api_key(KEY);
        server.fault(Reply::status(503).times(2));
        server.enqueue("stream", Reply::text("a b c").error_after(2, "E", "m"));
        let opper = retrying(&server);
        let mut texts = vec![format!("{opper:?}")];
        let ok = opper.call("ok").send::<String>().await.unwrap();
        texts.push(format!("{ok:?}"));
        let errors = vec![
            opper_tests::text_stream_error(&opper, "stream").await,
            Opper::builder()
                .api_key("wrong")
                .base_url(server.url())
                .build()
                .unwrap()
                .call("x")
                .send::<String>()
                .await
                .unwrap_err(),
            Opper::builder()
                .api_key(KEY)
                .base_url("http://example.com")
                .build()
                .unwrap_err(),
            Opper::builder()
                .api_key(format!("{KEY}\u{1}x"))
                .base_url(server.url())
                .build()
                .unwrap_err(),
        ];
        for error in &errors {
            texts.push(format!("{error} / {error:?}"));
        }
        texts.push(sink.text());
        assert!(
            texts.last().unwrap().contains("retrying"),
            "the retries were logged"
        );
        for text in texts {
            assert!(!text.contains(KEY), "the key leaked: {text}");
        }
        assert_eq!(server.requests()[0].bearer(), Some(KEY));
    });
}

#[test]
fn the_test_servers_client_sleeps_a_fiftieth_of_each_wait_even_a_retry_after() {
    in_turn(async {
        let (logs, _guard) = capture_logs();
        let server = MockServer::start().await;
        server.fault(Reply::status(429).retry_after(1).times(2));
        server.reply("task", Reply::json(json!({"ok": true})));
        server
            .client()
            .call("task")
            .send::<serde_json::Value>()
            .await
            .unwrap();
        assert_eq!(server.request_count(), 3);
        // The waits it slept, as its retry log says them: 1/50 of `Retry-After: 1`, not 1 s.
        let text = logs.text();
        let waits: Vec<u64> = text
            .lines()
            .filter(|line| line.contains("retrying opper request"))
            .filter_map(|line| line.split("wait_ms=").nth(1))
            .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
            .collect();
        assert_eq!(waits, [20, 20], "{text}");

        // Its decisions are the default policy's: a wait past its 30 s cap is not waited out.
        server.fault(Reply::status(429).retry_after(3600));
        let error = server
            .client()
            .call("task")
            .send::<serde_json::Value>()
            .await
            .unwrap_err();
        assert_eq!((error.attempts(), server.request_count()), (Some(1), 4));
    });
}

#[test]
fn v3_answers_give_their_trace_uuid_as_the_response_id() {
    in_turn(async {
        let (captured, _guard) = capture_logs();
        let server = MockServer::start().await;
        server.reply(
            "v3-task",
            Reply::text("hi").meta(json!({"trace_uuid": "trace-9"})),
        );
        let opper = opper_tests::builder(&server.url())
            .api(opper::Api::V3)
            .build()
            .unwrap();
        opper.call("v3-task").send::<String>().await.unwrap();
        let logs = captured.text();
        let line = close_line(&logs, "opper.call");
        assert_fields(
            line,
            [
                "gen_ai.response.id=\"trace-9\"",
                "trace_uuid=\"trace-9\"",
                "api=\"v3\"",
                "gen_ai.usage.input_tokens=",
            ],
        );
    });
}

#[test]
fn a_trace_is_a_tracing_span_around_its_calls() {
    in_turn(async {
        let (captured, _guard) = capture_logs();
        let server = MockServer::start().await;
        let opper = server.client();
        let span = opper::Trace::new("plan-trip")
            .client(&opper)
            .run(async {
                opper.call("inside").send::<String>().await.unwrap();
                opper::current_span().unwrap()
            })
            .await;
        let logs = captured.text();
        let call = close_line(&logs, "opper.call");
        // fmt writes the enclosing spans first: the call is inside the trace's span.
        assert!(call.contains("opper.trace{"), "{call}");
        let trace = logs
            .lines()
            .find(|l| l.contains("opper.trace") && l.contains("close") && !l.contains("opper.call"))
            .unwrap_or_else(|| panic!("{logs}"));
        assert_fields(
            trace,
            [
                "otel.name=plan-trip".to_owned(),
                format!("span_id=\"{}\"", span.id()),
                format!("trace_id=\"{}\"", span.trace_id()),
            ],
        );
    });
}

#[test]
fn a_span_that_cannot_be_created_is_logged_once_per_trace_name() {
    in_turn(async {
        let (captured, _guard) = capture_logs();
        let server = MockServer::start().await;
        let opper = without_retries(&server);
        server.fault(Reply::status(503).times(3));
        for name in ["logged-once", "logged-once", "logged-too"] {
            opper::Trace::new(name).client(&opper).run(async {}).await;
        }
        let logs = captured.text();
        let warnings: Vec<_> = logs
            .lines()
            .filter(|l| l.contains("WARN") && l.contains("could not be created"))
            .collect();
        assert_eq!(warnings.len(), 2, "{logs}");
        assert!(warnings[0].contains("logged-once"), "{}", warnings[0]);
        assert!(warnings[1].contains("logged-too"), "{}", warnings[1]);
        assert!(warnings[0].contains("503"), "{}", warnings[0]);
        assert!(!logs.contains("mock-api-key"), "the key leaked");
    });
}

#[test]
fn a_failed_end_is_logged() {
    in_turn(async {
        let (captured, _guard) = capture_logs();
        let server = MockServer::start().await;
        let opper = without_retries(&server);
        let span = opper::Trace::new("end-fails")
            .client(&opper)
            .run(async {
                server.fault(Reply::status(500));
                opper::current_span().unwrap()
            })
            .await;
        let logs = captured.text();
        let warning = logs
            .lines()
            .find(|l| l.contains("WARN") && l.contains("could not be sent"))
            .unwrap_or_else(|| panic!("{logs}"));
        assert!(warning.contains(span.id()), "{warning}");
        assert!(warning.contains("end-fails"), "{warning}");
    });
}
