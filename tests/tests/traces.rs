//! Traces over loopback: `opper::trace` and `opper::Trace` against the built-in server's spans
//! endpoints, one test per rule: the bodies, nesting and the enclosing span made current again,
//! explicit parents, concurrency, failures that leave the work untraced, dropped traces, and
//! calls and streams of both API versions under the span.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use opper::testing::{MockServer, RecordedSpan, Reply};
use opper::{Api, Cache, Opper, RetryPolicy, Trace};
use opper_tests::{TempDir, builder};
use serde_json::{Value, json};

/// A client of `server` speaking `api`, without retries.
fn client(server: &MockServer, api: Api) -> Opper {
    builder(&server.url())
        .api(api)
        .retry(RetryPolicy::none())
        .build()
        .expect("a client")
}

/// The `parent_span_id` each call (or stream) of the server's log sent, by task name, in order.
fn parents(server: &MockServer) -> Vec<(String, Option<String>)> {
    server
        .requests()
        .into_iter()
        .filter(|r| !r.path.starts_with("/v3/spans"))
        .map(|r| {
            let body = r.body.clone().unwrap_or_default();
            let parent = body
                .get("parent_span_id")
                .map(|p| p.as_str().unwrap().to_owned());
            (r.task().unwrap_or_default().to_owned(), parent)
        })
        .collect()
}

fn expect(name: &str, parent: Option<&str>) -> (String, Option<String>) {
    (name.to_owned(), parent.map(str::to_owned))
}

/// The requests to the spans endpoints, as `METHOD path body`.
fn span_requests(server: &MockServer) -> Vec<(String, String, Value)> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v3/spans"))
        .map(|r| (r.method.clone(), r.path.clone(), r.body.unwrap_or_default()))
        .collect()
}

/// The methods of the span requests `server` received, in order.
fn span_methods(server: &MockServer) -> Vec<String> {
    span_requests(server)
        .into_iter()
        .map(|(m, _, _)| m)
        .collect()
}

/// The only root span, and the whole tree below it.
fn only_root(server: &MockServer) -> RecordedSpan {
    let mut roots = server.spans();
    assert_eq!(roots.len(), 1, "{roots:#?}");
    roots.remove(0)
}

/// Whether `text` is `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`.
fn is_rfc3339_utc_micros(text: &str) -> bool {
    // `d` stands for any ASCII digit; every other byte for itself.
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd.dddddd+00:00";
    text.len() == SHAPE.len()
        && text.bytes().zip(SHAPE).all(|(byte, &shape)| {
            if shape == b'd' {
                byte.is_ascii_digit()
            } else {
                byte == shape
            }
        })
}

#[tokio::test]
async fn a_trace_sends_the_official_clients_bodies_and_ends_before_it_returns() {
    let server = MockServer::start().await;
    let opper = client(&server, Api::V2);
    let output = Trace::new("plan-trip")
        .input(&json!({"city": "Paris", "days": 2}))
        .tags([("user", "u_123")])
        .tags([("vip", true)])
        .meta(json!({"release": "1.4"}))
        .client(&opper)
        .run(async { opper.call("plan").send::<String>().await.map(|_| 42) })
        .await;
    // The output comes back as it was.
    assert_eq!(output.unwrap(), 42);

    let requests: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v3/spans"))
        .collect();
    assert_eq!(requests.len(), 2);
    let (start, end) = (&requests[0], &requests[1]);
    assert_eq!(
        (start.method.as_str(), start.path.as_str()),
        ("POST", "/v3/spans")
    );
    assert_eq!(start.header("content-type"), Some("application/json"));
    assert_eq!(start.header("accept"), Some("application/json"));
    assert_eq!(start.bearer(), Some(opper_tests::KEY));
    // The official client's keys, in its order.
    let raw = std::str::from_utf8(&start.raw_body).unwrap();
    let keys: Vec<_> = [
        "\"name\"",
        "\"input\"",
        "\"start_time\"",
        "\"meta\"",
        "\"tags\"",
    ]
    .iter()
    .map(|key| raw.find(key).unwrap_or_else(|| panic!("{key} in {raw}")))
    .collect();
    assert!(keys.is_sorted(), "{raw}");
    let body = start.body.clone().unwrap();
    let start_time = body["start_time"].as_str().unwrap();
    assert!(is_rfc3339_utc_micros(start_time), "{start_time}");
    assert_eq!(
        body,
        json!({
            "name": "plan-trip",
            "input": r#"{"city":"Paris","days":2}"#,
            "start_time": start_time,
            "meta": {"release": "1.4"},
            "tags": {"user": "u_123", "vip": true},
        })
    );

    // The end, sent before `run` returned: only the end time.
    let span = only_root(&server);
    assert_eq!(end.method, "PATCH");
    assert_eq!(end.path, format!("/v3/spans/{}", span.id));
    let end_body = end.body.clone().unwrap();
    let end_time = end_body["end_time"].as_str().unwrap();
    assert!(is_rfc3339_utc_micros(end_time), "{end_time}");
    assert!(end_time >= start_time);
    assert_eq!(end_body, json!({"end_time": end_time}));
    assert_eq!(span.end_time.as_deref(), Some(end_time));
    assert_eq!(span.error, None);
}

#[tokio::test]
async fn an_input_string_is_sent_as_it_is_and_anything_else_as_its_json_text() {
    let server = MockServer::start().await;
    let opper = client(&server, Api::V2);
    let traced = |input: Trace| input.client(&opper).run(async {});
    traced(Trace::new("text").input("plain \"text\"")).await;
    traced(Trace::new("number").input(&7)).await;
    traced(Trace::new("list").input(&vec!["a", "b"])).await;
    traced(Trace::new("none")).await;
    let inputs: Vec<_> = server
        .spans()
        .into_iter()
        .map(|span| (span.name, span.input))
        .collect();
    assert_eq!(
        inputs,
        vec![
            ("text".to_owned(), Some(json!("plain \"text\""))),
            ("number".to_owned(), Some(json!("7"))),
            ("list".to_owned(), Some(json!(r#"["a","b"]"#))),
            ("none".to_owned(), None),
        ]
    );
}

#[derive(Debug, PartialEq)]
struct TripError(&'static str);

impl std::fmt::Display for TripError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no trip: {}", self.0)
    }
}

#[tokio::test]
async fn an_err_output_ends_the_span_with_its_display_and_is_returned_unchanged() {
    let server = MockServer::start().await;
    let opper = client(&server, Api::V2);
    let failed: Result<u8, TripError> = Trace::new("failing")
        .client(&opper)
        .run(async { Err(TripError("the city is closed")) })
        .await;
    assert_eq!(failed, Err(TripError("the city is closed")));
    let fine: Option<u8> = Trace::new("fine").client(&opper).run(async { None }).await;
    assert_eq!(fine, None);

    let spans = server.spans();
    assert_eq!(
        spans[0].error.as_deref(),
        Some("no trip: the city is closed")
    );
    let patch = spans[0].received[1].clone();
    let end_time = patch["end_time"].clone();
    assert_eq!(
        patch,
        json!({"error": "no trip: the city is closed", "end_time": end_time})
    );
    // Keys in the official order: error, then end_time.
    let raw: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| String::from_utf8(r.raw_body.to_vec()).unwrap())
        .collect();
    assert!(raw[0].starts_with("{\"error\":"), "{}", raw[0]);
    assert_eq!(spans[1].error, None);
    assert!(spans[1].end_time.is_some());
}

#[tokio::test]
async fn calls_and_streams_inside_are_nested_under_the_span_on_v2_and_v3() {
    for api in [Api::V2, Api::V3] {
        let server = MockServer::start().await;
        server.reply("count", Reply::json(json!({"n": 3})));
        // A base URL that names the version's root: spans still go to `/v3/spans`.
        let base = format!("{}/{api}", server.url());
        let opper = builder(&base).api(api).build().unwrap();
        let here = Trace::new("block")
            .client(&opper)
            .run(async {
                let span = opper::current_span().expect("inside a trace");
                opper.call("ask").send::<String>().await.unwrap();
                let mut stream = opper.call("count").stream::<Value>().await.unwrap();
                while let Some(update) = stream.next().await {
                    update.unwrap();
                }
                span
            })
            .await;
        let span = only_root(&server);
        assert_eq!(
            (here.id(), here.trace_id()),
            (span.id.as_str(), span.trace_id.as_str())
        );
        assert_eq!(
            parents(&server),
            vec![
                expect("ask", Some(&span.id)),
                expect("count", Some(&span.id))
            ],
            "{api}"
        );
        let paths: Vec<_> = span_requests(&server)
            .into_iter()
            .map(|(m, p, _)| (m, p))
            .collect();
        assert_eq!(
            paths,
            vec![
                ("POST".to_owned(), "/v3/spans".to_owned()),
                ("PATCH".to_owned(), format!("/v3/spans/{}", span.id)),
            ],
            "{api}"
        );
        assert!(opper::current_span().is_none());
    }
}

#[tokio::test]
async fn nested_traces_nest_and_the_enclosing_span_is_current_again_when_one_ends() {
    let server = MockServer::start().await;
    let opper = client(&server, Api::V3);
    let call = |name: &'static str| {
        let opper = opper.clone();
        async move { opper.call(name).send::<String>().await.unwrap() }
    };
    let trace = |name: &'static str| Trace::new(name).client(&opper);
    trace("outer")
        .run(async {
            call("fn-a").await;
            trace("inner").run(call("fn-b")).await;
            // The official 2.1.1 client sends this one without a parent.
            call("fn-c").await;
            trace("inner-2")
                .run(async {
                    trace("deepest").run(call("fn-d")).await;
                    call("fn-e").await;
                })
                .await;
            call("fn-f").await;
        })
        .await;
    call("fn-g").await;

    let outer = only_root(&server);
    let names: Vec<_> = outer.flatten().iter().map(|s| s.name.clone()).collect();
    assert_eq!(names, ["outer", "inner", "inner-2", "deepest"]);
    let (inner, inner_2) = (&outer.children[0], &outer.children[1]);
    let deepest = &inner_2.children[0];
    for span in [inner, inner_2, deepest] {
        assert_eq!(span.trace_id, outer.trace_id, "{}", span.name);
        assert!(span.end_time.is_some());
    }
    assert_eq!(inner.parent_id.as_deref(), Some(outer.id.as_str()));
    assert_eq!(deepest.parent_id.as_deref(), Some(inner_2.id.as_str()));
    assert_eq!(outer.parent_id, None);
    assert_eq!(
        parents(&server),
        vec![
            expect("fn-a", Some(&outer.id)),
            expect("fn-b", Some(&inner.id)),
            expect("fn-c", Some(&outer.id)),
            expect("fn-d", Some(&deepest.id)),
            expect("fn-e", Some(&inner_2.id)),
            expect("fn-f", Some(&outer.id)),
            expect("fn-g", None),
        ]
    );
    // The nested span's start body carries the enclosing trace and parent.
    let inner_start = &inner.received[0];
    assert_eq!(inner_start["trace_id"], outer.trace_id.as_str());
    assert_eq!(inner_start["parent_id"], outer.id.as_str());
}

#[tokio::test]
async fn an_explicit_parent_inside_a_trace_wins_for_what_it_wraps() {
    let server = MockServer::start().await;
    let opper = client(&server, Api::V2);
    let call = |name: &'static str| {
        let opper = opper.clone();
        async move { opper.call(name).send::<String>().await.unwrap() }
    };
    Trace::new("traced")
        .client(&opper)
        .run(async {
            opper::with_parent_span("explicit", async {
                call("wrapped").await;
                // The trace is still the current span; the parent of calls is the scope's.
                assert_eq!(opper::current_span().unwrap().id(), server.spans()[0].id);
            })
            .await;
            opper
                .call("own")
                .parent_span_id("mine")
                .send::<String>()
                .await
                .unwrap();
            call("after").await;
        })
        .await;
    // A trace inside a `with_parent_span` scope (no trace around): the scope's span is its
    // parent, and no trace id is guessed.
    opper::with_parent_span(
        "external",
        Trace::new("under-external").client(&opper).run(async {}),
    )
    .await;

    let spans = server.spans();
    let traced = &spans[0];
    assert_eq!(
        parents(&server),
        vec![
            expect("wrapped", Some("explicit")),
            expect("own", Some("mine")),
            expect("after", Some(&traced.id)),
        ]
    );
    let external = &spans[1];
    assert_eq!(external.parent_id.as_deref(), Some("external"));
    assert!(external.received[0].get("trace_id").is_none());
    assert_ne!(external.trace_id, traced.trace_id);
}

/// A future that is pending once (so that futures polled beside it interleave), then ready.
fn yield_once() -> impl Future<Output = ()> {
    tokio::task::yield_now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_traces_never_see_each_others_spans() {
    let server = MockServer::start().await;
    let opper = client(&server, Api::V2);
    let traced = |name: &'static str| {
        let opper = opper.clone();
        Trace::new(name).client(&opper.clone()).run(async move {
            let mut seen = Vec::new();
            for step in 0..3 {
                seen.push(opper::current_span().unwrap());
                opper
                    .call(format!("{name}-{step}"))
                    .send::<String>()
                    .await
                    .unwrap();
                yield_once().await;
            }
            seen
        })
    };
    // join!: both run on this task, polled in turn.
    let (a, b) = tokio::join!(traced("a"), traced("b"));
    // select!: the first to finish wins, the other is dropped.
    let c = tokio::select! {
        c = traced("c") => c,
        () = std::future::pending::<()>() => unreachable!(),
    };
    // A spawned task carries the scope when its future is wrapped in the span.
    let spawned = Trace::new("spawner")
        .client(&opper)
        .run(async {
            let span = opper::current_span().unwrap();
            let (carried, bare) = (opper.clone(), opper.clone());
            let carried = tokio::spawn(opper::with_parent_span(span.clone(), async move {
                carried
                    .call("spawned-carried")
                    .send::<String>()
                    .await
                    .unwrap();
            }));
            let bare = tokio::spawn(async move {
                bare.call("spawned-bare").send::<String>().await.unwrap();
            });
            carried.await.unwrap();
            bare.await.unwrap();
            span
        })
        .await;

    let spans = server.spans();
    let id_of = |name: &str| spans.iter().find(|s| s.name == name).unwrap().id.clone();
    for (name, seen) in [("a", a), ("b", b), ("c", c)] {
        let id = id_of(name);
        assert!(seen.iter().all(|span| span.id() == id), "{name}: {seen:?}");
    }
    assert_eq!(spawned.id(), id_of("spawner"));
    for (task, parent) in parents(&server) {
        let expected = match task.split('-').next().unwrap() {
            "spawned" if task == "spawned-bare" => None,
            "spawned" => Some(id_of("spawner")),
            trace => Some(id_of(trace)),
        };
        assert_eq!(parent, expected, "{task}");
    }
    // Every trace is a root of its own: none saw another as its parent.
    assert_eq!(spans.len(), 4);
    assert!(
        spans
            .iter()
            .all(|s| s.parent_id.is_none() && s.children.is_empty())
    );
}

#[tokio::test]
async fn a_span_that_cannot_be_created_leaves_the_work_untraced() {
    let faults = [
        ("status", Reply::status(500)),
        ("unauthorized", Reply::api_error(401, "unauthorized", "no")),
        ("bad-body", Reply::status(200).body("not json")),
        (
            "no-ids",
            Reply::status(200).json_body(json!({"data": {"name": "x"}})),
        ),
        ("slow", Reply::status(200).stall()),
    ];
    for (label, fault) in faults {
        let server = MockServer::start().await;
        let opper = builder(&server.url())
            .retry(RetryPolicy::none())
            .request_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        server.fault(fault);
        let output = Trace::new(label)
            .client(&opper)
            .run(async {
                assert!(opper::current_span().is_none(), "{label}");
                opper.call("work").send::<String>().await.map(|_| label)
            })
            .await;
        assert_eq!(output.unwrap(), label);
        // No parent sent, and no end.
        assert_eq!(parents(&server), vec![expect("work", None)], "{label}");
        let sent = span_requests(&server);
        assert_eq!(sent.len(), 1, "{label}: {sent:?}");
        assert_eq!(sent[0].0, "POST", "{label}");
    }
}

#[tokio::test]
async fn a_nested_trace_that_cannot_start_keeps_the_enclosing_span() {
    let server = MockServer::start().await;
    let opper = client(&server, Api::V2);
    Trace::new("outer")
        .client(&opper)
        .run(async {
            server.fault(Reply::status(503));
            Trace::new("inner")
                .client(&opper)
                .run(async {
                    opper.call("inside").send::<String>().await.unwrap();
                })
                .await;
        })
        .await;
    let outer = only_root(&server);
    assert!(outer.children.is_empty());
    assert_eq!(parents(&server), vec![expect("inside", Some(&outer.id))]);
}

#[tokio::test]
async fn a_failed_end_does_not_change_the_output() {
    let server = MockServer::start().await;
    let opper = client(&server, Api::V2);
    let output = Trace::new("ends-badly")
        .client(&opper)
        .run(async {
            // The next request is the span's end.
            server.fault(Reply::status(500));
            Ok::<_, TripError>("done")
        })
        .await;
    assert_eq!(output, Ok("done"));
    let span = only_root(&server);
    assert_eq!(span.end_time, None);
    let sent = span_methods(&server);
    assert_eq!(sent, ["POST", "PATCH"]);
}

#[tokio::test]
async fn a_dropped_trace_sends_nothing_more() {
    let server = MockServer::start().await;
    let opper = client(&server, Api::V2);
    let never_ends = Trace::new("dropped")
        .client(&opper)
        .run(std::future::pending::<()>());
    // Poll the trace until its span exists, then drop it (as a `select!` or a timeout does).
    let created = async {
        while server.spans().is_empty() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    tokio::select! {
        () = never_ends => unreachable!(),
        () = created => {}
    }
    // Nothing was spawned: once another request has been answered, nothing else can come.
    opper.call("after").send::<String>().await.unwrap();
    tokio::task::yield_now().await;
    let span = only_root(&server);
    assert_eq!(span.end_time, None);
    let sent = span_methods(&server);
    assert_eq!(sent, ["POST"]);
    assert_eq!(parents(&server), vec![expect("after", None)]);
}

#[tokio::test]
async fn a_client_that_only_replays_sends_no_span() {
    let server = MockServer::start().await;
    let dir = TempDir::new("trace-replay");
    let replaying = Opper::builder()
        .base_url(server.url())
        .cache(Cache::dir(dir.path()).replay_only())
        .build()
        .unwrap();
    let output = Trace::new("offline")
        .client(&replaying)
        .run(async { 5 })
        .await;
    assert_eq!(output, 5);
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn the_built_in_server_reads_and_refuses_spans_in_v3_shapes() {
    let server = MockServer::start().await;
    let opper = client(&server, Api::V2);
    let handle = Trace::new("read-back")
        .client(&opper)
        .input("in")
        .run(async { opper::current_span().unwrap() })
        .await;
    let http = reqwest::Client::new();
    let url = |id: &str| format!("{}/v3/spans/{id}", server.url());
    let got: Value = serde_json::from_slice(
        &http
            .get(url(handle.id()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(got["data"]["id"], handle.id());
    assert_eq!(got["data"]["trace_id"], handle.trace_id());
    assert_eq!(got["data"]["input"], "in");
    assert!(got["data"]["end_time"].is_string());
    let unknown = http
        .patch(url("no-such-span"))
        .header("content-type", "application/json")
        .body(r#"{"end_time": "2026-01-01T00:00:00+00:00"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    let body: Value = serde_json::from_slice(&unknown.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    // A key is required on spans too when the server requires one.
    server.require_api_key("k");
    let refused = Trace::new("refused")
        .client(&opper)
        .run(async { opper::current_span() })
        .await;
    assert_eq!(refused, None);
}

#[tokio::test]
async fn opper_trace_uses_the_default_client() {
    let server = MockServer::start().await;
    // The only test of this binary that sets the default client.
    server.client().set_default();
    let span = opper::trace("with-default", async { opper::current_span() })
        .await
        .expect("a span");
    assert_eq!(only_root(&server).id, span.id());
}

#[tokio::test]
async fn a_trace_cut_off_while_its_span_is_being_created_leaves_no_request_running() {
    let server = MockServer::start().await;
    let opper = client(&server, Api::V2);
    // The span's creation never gets an answer; the caller's own timeout gives up on it.
    server.fault(Reply::status(200).stall());
    let cut = tokio::time::timeout(
        Duration::from_millis(100),
        Trace::new("cut-off").client(&opper).run(async { 1 }),
    )
    .await;
    assert!(cut.is_err());
    // The abandoned request's connection is closed: nothing carries on in the background.
    assert!(
        server
            .wait_for_closed_connections(1, Duration::from_secs(10))
            .await
    );
    assert_eq!(server.request_count(), 1);
    assert!(server.spans().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_trace_can_run_on_a_spawned_task() {
    let server = MockServer::start().await;
    let opper = client(&server, Api::V3);
    let inner = opper.clone();
    // The trace's future is `Send`: it moves to another thread with its scope.
    let span = tokio::spawn(Trace::new("spawned").client(&opper).run(async move {
        inner.call("far").send::<String>().await.unwrap();
        opper::current_span().unwrap()
    }))
    .await
    .unwrap();
    assert_eq!(only_root(&server).id, span.id());
    assert_eq!(parents(&server), vec![expect("far", Some(span.id()))]);
}
