//! Tracing spans and parent-span nesting, over real HTTP.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opper_tests::{RawServer, Script, client};
use serde_json::json;

const KEY: &str = "test-key-0123456789";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

fn ok(span: &str) -> Script {
    Script::json(
        200,
        &json!({"span_id": span, "message": "done",
        "usage": {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}}),
    )
}

#[tokio::test(flavor = "current_thread")]
async fn calls_are_spans_with_task_model_attempts_outcome_and_usage() {
    let (captured, _guard) = capture();
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
        "model=\"openai/gpt-4o-mini\"",
        "span_id=\"span-77\"",
        "attempts=2",
        "outcome=\"ok\"",
        "input_tokens=7",
        "output_tokens=3",
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
    assert!(!logs.contains(KEY), "the key leaked into the logs");
}

#[tokio::test(flavor = "current_thread")]
async fn streams_are_spans_too_and_the_key_stays_out() {
    let (captured, _guard) = capture();
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
    let line = logs
        .lines()
        .find(|l| l.contains("opper.stream") && l.contains("close"))
        .unwrap_or_else(|| panic!("{logs}"));
    for field in ["span_id", "st-1", "chunks=2", "attempts=1", "ok"] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
    assert!(!logs.contains(KEY));
}

#[tokio::test]
async fn a_parent_span_scope_reaches_every_call_inside_it_and_an_explicit_one_wins() {
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
        tokio::spawn(opper::with_parent_span(parent.to_string(), async move {
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
    let expect = |name: &str, parent: Option<&str>| (name.to_owned(), parent.map(str::to_owned));
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
}
