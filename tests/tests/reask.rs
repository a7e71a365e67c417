//! Validation and re-ask over real HTTP: a rejected output is asked again with the reason, the
//! re-ask is the first request with only `instructions` changed, and streams re-ask on the same
//! `Stream`.

use std::sync::Mutex;

use futures::StreamExt;
use opper::testing::{MockServer, Reply};
use opper::{Error, Rejection};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Sum {
    sum: i64,
    note: String,
}

fn positive(sum: &Sum) -> Result<(), String> {
    if sum.sum > 0 {
        Ok(())
    } else {
        Err(format!("sum must be positive, got {}", sum.sum))
    }
}

const INSTRUCTIONS: &str = "Calculate the sum of two numbers";

/// Calculate the sum of two numbers
#[opper::function(
    validate = positive,
    model = "openai/gpt-4o-mini",
    tags(project = "p1"),
    example(input(x = 1, y = 3), output = Sum { sum: 4, note: "ok".into() }),
)]
async fn add(x: i64, y: i64) -> opper::Result<opper::Response<Sum>>;

/// Calculate the sum of two numbers
#[opper::function(name = "add", validate = positive, reasks = 2)]
async fn add_live(x: i64, y: i64) -> opper::Result<opper::Stream<Sum>>;

/// Calculate the sum of two numbers
#[opper::function(name = "add", validate = |_: &Sum| -> Result<(), String> { panic!("the validator broke") })]
async fn add_panicking(x: i64, y: i64) -> opper::Result<Sum>;

/// Calculate the sum of two numbers
#[opper::function(name = "add", validate = |_: &Sum| -> Result<(), String> { panic!("the validator broke") })]
async fn add_panicking_live(x: i64, y: i64) -> opper::Result<opper::Stream<Sum>>;

/// The tests of this file take turns, each with a subscriber that captures everything: tracing
/// caches per-callsite interest process-wide, so a test without a subscriber could hide events
/// from one with a subscriber.
static TURN: Mutex<()> = Mutex::new(());

/// Runs a test body on its own runtime, one test at a time; returns what it logged.
fn in_turn(body: impl std::future::Future<Output = ()>) -> String {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let (captured, _guard) = opper_tests::capture_logs();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(body);
    captured.text()
}

fn sum(sum: i64) -> Value {
    json!({"sum": sum, "note": "n"})
}

fn bodies(server: &MockServer) -> Vec<serde_json::Map<String, Value>> {
    server
        .requests_for("add")
        .into_iter()
        .map(|request| match request.body {
            Some(Value::Object(body)) => body,
            other => panic!("not a JSON object: {other:?}"),
        })
        .collect()
}

/// The re-ask's body is the first one's, field by field, but for `instructions`: exactly the
/// re-ask wording of the rejected output and the reason.
fn assert_reask_of(
    first: &serde_json::Map<String, Value>,
    reask: &serde_json::Map<String, Value>,
    rejected: &Value,
    reason: &str,
) {
    let keys = |body: &serde_json::Map<String, Value>| body.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(first),
        keys(reask),
        "the same fields, in the same order"
    );
    for (key, value) in first {
        if key != "instructions" {
            assert_eq!(&reask[key], value, "`{key}` changed in the re-ask");
        }
    }
    assert_eq!(
        reask["instructions"],
        Value::String(opper::__private::reask_instructions(
            first["instructions"].as_str(),
            rejected,
            reason
        ))
    );
}

#[test]
fn an_accepted_output_takes_one_request() {
    in_turn(async {
        let server = MockServer::start().await;
        server.reply("add", Reply::json(sum(9)));
        let response = add_with(&server.client(), 4, 5).await.unwrap();
        assert_eq!(response.output.sum, 9);
        assert_eq!(response.reasks, 0);
        assert_eq!(server.requests_for("add").len(), 1);
        assert_eq!(bodies(&server)[0]["instructions"], json!(INSTRUCTIONS));
    });
}

#[test]
fn a_rejected_output_is_asked_again_with_only_the_instructions_changed() {
    in_turn(async {
        let server = MockServer::start().await;
        server
            .enqueue("add", Reply::json(sum(-1)).span_id("first"))
            .enqueue("add", Reply::json(sum(9)).span_id("second"));
        let client = server.client();
        let response = opper::with_parent_span("parent-1", add_with(&client, 4, 5))
            .await
            .unwrap();
        assert_eq!(
            response.output,
            Sum {
                sum: 9,
                note: "n".into()
            }
        );
        assert_eq!(response.reasks, 1);
        assert_eq!(
            response.span_id.as_deref(),
            Some("second"),
            "the accepted attempt's span"
        );

        let bodies = bodies(&server);
        assert_eq!(bodies.len(), 2);
        for key in [
            "name",
            "input",
            "input_schema",
            "output_schema",
            "model",
            "examples",
            "tags",
            "parent_span_id",
        ] {
            assert!(
                bodies[0].contains_key(key),
                "the first request has no `{key}`"
            );
        }
        assert_reask_of(
            &bodies[0],
            &bodies[1],
            &sum(-1),
            "sum must be positive, got -1",
        );
    });
}

#[test]
fn an_output_never_accepted_is_asked_one_plus_reasks_times_and_every_reason_is_kept() {
    in_turn(async {
        let server = MockServer::start().await;
        server
            .enqueue("add", Reply::json(sum(-1)))
            .enqueue("add", Reply::json(sum(-2)))
            .enqueue("add", Reply::json(sum(-3)))
            .reply("add", Reply::json(sum(9)));
        let error = add_with(&server.client(), 4, 5).await.unwrap_err();
        let Error::Rejected { attempts } = &error else {
            panic!("expected Error::Rejected, got {error:?}")
        };
        assert_eq!(
            attempts,
            &[-1, -2, -3]
                .map(|n| Rejection::new(sum(n), format!("sum must be positive, got {n}")))
                .to_vec()
        );
        assert_eq!(
            error.to_string(),
            "the output was rejected after 3 attempts: sum must be positive, got -3"
        );
        let bodies = bodies(&server);
        assert_eq!(bodies.len(), 3, "1 + reasks requests, no more");
        // Each re-ask shows the output it answers, after the original instructions.
        assert_reask_of(
            &bodies[0],
            &bodies[1],
            &sum(-1),
            "sum must be positive, got -1",
        );
        assert_reask_of(
            &bodies[0],
            &bodies[2],
            &sum(-2),
            "sum must be positive, got -2",
        );
    });
}

#[test]
fn an_output_that_does_not_fit_the_type_is_asked_again_with_the_path_and_reason() {
    in_turn(async {
        let server = MockServer::start().await;
        server
            .enqueue("add", Reply::json(json!({"sum": "nine", "note": "n"})))
            .enqueue("add", Reply::json(sum(9)));
        let client = server.client();
        let response = client
            .call("add")
            .instructions(INSTRUCTIONS)
            .output_type::<Sum>()
            .input(&json!({"x": 4, "y": 5}))
            .reasks(1)
            .send::<Sum>()
            .await
            .unwrap();
        assert_eq!(response.output.sum, 9);
        assert_eq!(response.reasks, 1);
        let bodies = bodies(&server);
        assert_reask_of(
            &bodies[0],
            &bodies[1],
            &json!({"sum": "nine", "note": "n"}),
            "the output does not fit the expected type at `sum`: invalid type: string \"nine\", expected i64",
        );
    });
}

#[test]
fn without_reasks_an_output_that_does_not_fit_fails_at_once() {
    in_turn(async {
        let server = MockServer::start().await;
        server.reply("add", Reply::json(json!({"sum": "nine", "note": "n"})));
        let error = server
            .client()
            .call("add")
            .input(&json!({}))
            .send::<Sum>()
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::Output { path, .. } if path == "sum"),
            "{error:?}"
        );
        assert_eq!(server.requests_for("add").len(), 1);
    });
}

#[test]
fn the_client_validates_without_the_macro_and_sums_usage_and_cost() {
    in_turn(async {
        let server = MockServer::start().await;
        let usage = json!({"input_tokens": 10, "output_tokens": 4, "total_tokens": 14});
        let cost = json!({"generation": 0.25, "platform": 0.125, "total": 0.375});
        server
            .enqueue(
                "add",
                Reply::json(sum(0)).usage(usage.clone()).cost(cost.clone()),
            )
            .enqueue(
                "add",
                Reply::json(sum(-5)).usage(usage.clone()).cost(cost.clone()),
            )
            .enqueue(
                "add",
                Reply::json(sum(3)).usage(usage).cost(cost).span_id("third"),
            );
        let client = server.client();
        // The validator fixes the output type: no turbofish on `send`.
        let response = client
            .call("add")
            .input(&json!({"x": 1, "y": 2}))
            .validate(positive)
            .reasks(2)
            .send()
            .await
            .unwrap();
        assert_eq!(response.output.sum, 3);
        assert_eq!(response.reasks, 2);
        assert_eq!(response.span_id.as_deref(), Some("third"));
        let usage = response.usage.unwrap();
        assert_eq!(
            (usage.input_tokens, usage.output_tokens, usage.total_tokens),
            (30, 12, 42)
        );
        let cost = response.cost.unwrap();
        assert_eq!(
            (cost.generation, cost.platform, cost.total),
            (0.75, 0.375, 1.125)
        );

        // A closure whose error is any `Display`.
        server.enqueue("add", Reply::json(sum(12)));
        let error = client
            .call("add")
            .input(&json!({}))
            .validate(|s: &Sum| {
                if s.sum < 10 {
                    Ok(())
                } else {
                    Err(std::fmt::Error)
                }
            })
            .reasks(0)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the output was rejected after 1 attempt: an error occurred when formatting an argument"
        );
    });
}

#[test]
fn a_stream_is_asked_again_on_the_same_stream_with_attempt_two_and_an_empty_partial() {
    in_turn(async {
        let server = MockServer::start().await;
        server
            .enqueue("add", Reply::json(sum(-1)).span_id("first"))
            .enqueue(
                "add",
                Reply::json(json!({"sum": 7, "note": "seven"})).span_id("second"),
            );
        let client = server.client();
        // Opened inside a parent-span scope, read outside it: the re-ask keeps the parent.
        let mut stream = opper::with_parent_span("parent-1", add_live_with(&client, 3, 4))
            .await
            .unwrap();
        assert_eq!(stream.span_id(), Some("first"));
        let mut seen = Vec::new();
        while let Some(update) = stream.next().await {
            let update = update.unwrap();
            seen.push((
                update.attempt,
                update.json_path.clone(),
                serde_json::to_value(&*update.partial).unwrap(),
            ));
        }
        let attempts: Vec<u32> = seen.iter().map(|(attempt, ..)| *attempt).collect();
        let first_of_second = attempts
            .iter()
            .position(|a| *a == 2)
            .expect("a second attempt");
        assert!(first_of_second > 0, "{seen:?}");
        assert!(
            attempts[..first_of_second].iter().all(|a| *a == 1),
            "{seen:?}"
        );
        assert!(
            attempts[first_of_second..].iter().all(|a| *a == 2),
            "{seen:?}"
        );
        // The re-ask's partial starts empty: nothing of the rejected output is carried over.
        let (_, _, last_of_first) = &seen[first_of_second - 1];
        assert_eq!(last_of_first, &sum(-1));
        let (_, path, partial) = &seen[first_of_second];
        assert_eq!(path, "response.sum");
        // Empty: the typed `7` shows once its field completes (more digits could follow).
        assert_eq!(partial, &json!({}));
        let (_, path, partial) = &seen[first_of_second + 1];
        assert_eq!(path, "response.note");
        assert_eq!(partial["sum"], 7);
        assert_eq!(
            stream.span_id(),
            Some("second"),
            "the accepted attempt's span"
        );
        let output = stream.finish().await.unwrap();
        assert_eq!(
            output,
            Sum {
                sum: 7,
                note: "seven".into()
            }
        );

        let bodies = bodies(&server);
        assert_eq!(bodies.len(), 2);
        assert_eq!(bodies[0]["parent_span_id"], json!("parent-1"));
        assert_reask_of(
            &bodies[0],
            &bodies[1],
            &sum(-1),
            "sum must be positive, got -1",
        );
    });
}

#[test]
fn finish_alone_drives_the_reask_and_returns_the_accepted_value() {
    in_turn(async {
        let server = MockServer::start().await;
        server
            .enqueue("add", Reply::json(sum(-1)))
            .enqueue("add", Reply::json(sum(-2)))
            .enqueue("add", Reply::json(sum(5)));
        let stream = add_live_with(&server.client(), 3, 4).await.unwrap();
        assert_eq!(stream.finish().await.unwrap().sum, 5);
        assert_eq!(server.requests_for("add").len(), 3);

        server
            .enqueue("add", Reply::json(sum(-1)))
            .enqueue("add", Reply::json(sum(-2)))
            .enqueue("add", Reply::json(sum(-3)));
        server.clear_requests();
        let error = add_live_with(&server.client(), 3, 4)
            .await
            .unwrap()
            .finish()
            .await
            .unwrap_err();
        let Error::Rejected { attempts } = &error else {
            panic!("expected Error::Rejected, got {error:?}")
        };
        assert_eq!(attempts.len(), 3);
        assert_eq!(
            attempts[2],
            Rejection::new(sum(-3), "sum must be positive, got -3")
        );
        assert_eq!(server.requests_for("add").len(), 3);
    });
}

#[test]
fn a_stream_that_fails_otherwise_is_not_asked_again() {
    in_turn(async {
        let server = MockServer::start().await;
        server.reply(
            "add",
            Reply::json(sum(-1)).error_after(2, "ServerError", "boom"),
        );
        let error = add_live_with(&server.client(), 3, 4)
            .await
            .unwrap()
            .finish()
            .await
            .unwrap_err();
        assert!(matches!(error, Error::StreamChunk { .. }), "{error:?}");
        assert_eq!(
            server.requests_for("add").len(),
            1,
            "an error chunk is not re-asked"
        );

        server.clear_requests();
        server.reply("add", Reply::json(sum(-1)).drop_after(2));
        let error = add_live_with(&server.client(), 3, 4)
            .await
            .unwrap()
            .finish()
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Incomplete { .. }), "{error:?}");
        assert_eq!(
            server.requests_for("add").len(),
            1,
            "a cut stream is not re-asked"
        );
    });
}

#[test]
fn a_validator_that_panics_panics_the_callers_future() {
    in_turn(async {
        let server = MockServer::start().await;
        server.reply("add", Reply::json(sum(1)));
        let client = server.client();
        let call = tokio::spawn({
            let client = client.clone();
            async move { add_panicking_with(&client, 1, 2).await }
        });
        let error = call.await.unwrap_err();
        assert!(error.is_panic(), "{error:?}");
        let stream =
            tokio::spawn(
                async move { add_panicking_live_with(&client, 1, 2).await?.finish().await },
            );
        let error = stream.await.unwrap_err();
        assert!(error.is_panic(), "{error:?}");
        assert_eq!(
            server.requests_for("add").len(),
            2,
            "one request each, never re-asked"
        );
    });
}

#[test]
fn each_attempt_is_a_span_with_its_number_and_a_rejection_warns_with_its_reason() {
    let logs = in_turn(async {
        let server = MockServer::start().await;
        server.require_api_key("secret-key-123");
        server
            .enqueue("add", Reply::json(sum(-1)))
            .enqueue("add", Reply::json(sum(9)));
        add_with(&server.client(), 424_242, 5).await.unwrap();
        server
            .enqueue("add", Reply::json(sum(-1)))
            .enqueue("add", Reply::json(sum(9)));
        add_live_with(&server.client(), 424_242, 5)
            .await
            .unwrap()
            .finish()
            .await
            .unwrap();
    });
    let closes: Vec<&str> = logs.lines().filter(|l| l.contains("close")).collect();
    for name in ["opper.call", "opper.stream"] {
        let spans: Vec<&&str> = closes.iter().filter(|l| l.contains(name)).collect();
        assert_eq!(spans.len(), 2, "{name}: one span per attempt\n{logs}");
        assert!(spans[0].contains("attempt=1"), "{}", spans[0]);
        assert!(spans[1].contains("attempt=2"), "{}", spans[1]);
    }
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("opper output rejected"))
        .collect();
    assert_eq!(warnings.len(), 2, "{logs}");
    for warning in &warnings {
        assert!(warning.contains("attempt=1"), "{warning}");
        assert!(
            warning.contains("sum must be positive, got -1"),
            "{warning}"
        );
    }
    assert!(
        !logs.contains("secret-key-123"),
        "the key leaked into the logs"
    );
    assert!(!logs.contains("424242"), "the input leaked into the logs");
}

/// The forms `clippy::ptr_arg` asks for: `&[T]` for a `Vec<T>` output.
fn some_names(names: &[String]) -> Result<(), String> {
    if names.is_empty() {
        Err("list at least one name".into())
    } else {
        Ok(())
    }
}

/// `&str` for a `String` output.
fn short(text: &str) -> Result<(), String> {
    if text.len() <= 5 {
        Ok(())
    } else {
        Err(format!("at most 5 bytes, got {}", text.len()))
    }
}

/// List the names in the text.
#[opper::function(name = "names", validate = some_names)]
async fn names(text: String) -> opper::Result<opper::Response<Vec<String>>>;

/// Summarize the text.
#[opper::function(name = "summary", validate = short)]
async fn summary(text: String) -> opper::Result<opper::Response<String>>;

/// A validation trait as garde's, implemented for a `Vec` and its slice alike.
trait Check {
    fn check(&self) -> Result<(), String>;
}

impl Check for Vec<String> {
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

impl Check for [String] {
    fn check(&self) -> Result<(), String> {
        Err("the slice's check, not the Vec's".into())
    }
}

/// List the names in the text.
#[opper::function(name = "names", validate = Check::check, reasks = 0)]
async fn names_checked(text: String) -> opper::Result<Vec<String>>;

#[test]
fn a_trait_method_validates_the_output_type_itself_not_its_slice() {
    in_turn(async {
        let server = MockServer::start().await;
        server.reply("names", Reply::json(json!(["Ann"])));
        let names = names_checked_with(&server.client(), "Ann came.".into()).await;
        assert_eq!(names.unwrap(), ["Ann"]);
    });
}

#[test]
fn validators_of_a_slice_and_a_str_check_vec_and_string_outputs() {
    in_turn(async {
        let server = MockServer::start().await;
        server
            .enqueue("names", Reply::json(json!([])))
            .enqueue("names", Reply::json(json!(["Ann"])))
            .enqueue("summary", Reply::text("far too long"))
            .enqueue("summary", Reply::text("short"));
        let client = server.client();
        let names = names_with(&client, "Ann came.".into()).await.unwrap();
        assert_eq!(names.output, ["Ann"]);
        assert_eq!(names.reasks, 1);
        let reask = &server.requests_for("names")[1];
        let instructions = reask.body.as_ref().unwrap()["instructions"].to_string();
        assert!(
            instructions.contains("list at least one name"),
            "{instructions}"
        );

        let summary = summary_with(&client, "A long text.".into()).await.unwrap();
        assert_eq!(summary.output, "short");
        assert_eq!(summary.reasks, 1);
        let reask = &server.requests_for("summary")[1];
        let instructions = reask.body.as_ref().unwrap()["instructions"].to_string();
        assert!(
            instructions.contains("at most 5 bytes, got 12"),
            "{instructions}"
        );
    });
}
