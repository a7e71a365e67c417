//! Typed streaming over real HTTP. On v2: random values of a nested type, chunked by the
//! built-in server in random ways (`opper_tests::chunked`), reassemble exactly, and every
//! partial on the way is consistent with the final value. On v3, whose stream carries the
//! model's JSON text: typed updates read from the text (cut anywhere, fenced, preceded by a
//! sentence, not fitting the type), the final output from `complete`, the bounds, error frames,
//! cuts, frames to skip, text tasks and the raw chunk stream, from raw scripted servers
//! (`opper_tests::v3`); random texts cut anywhere in [`json_text`]. On both versions
//! (`each_version!`), from raw scripted servers: a text stream's updates and span, an error
//! frame, cuts, the read timeout, retries before the first event and the event cap; on v2 only:
//! every SSE framing, a line that is not JSON and the raw chunks of a JSON stream.

use std::collections::BTreeMap;
use std::time::Duration;

use opper::{Api, Error, RetryPolicy};
use opper_tests::v3::{
    DONE, client as v3_client, complete, content, read, stream, sum_stream, sum_stream_of,
};
use opper_tests::{
    RawServer, Script, Sum, Team, builder, client, client_on, team_json, team_stream,
};

use futures::StreamExt;
use opper::testing::{MockServer, Reply};
use opper_tests::chunked::Chunked;
use proptest::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

mod json_text;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Author {
    name: String,
    age: u32,
    active: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Inner {
    depth: i16,
    label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Doc {
    title: String,
    count: i64,
    ratio: f64,
    flag: bool,
    tags: Vec<String>,
    authors: Vec<Author>,
    meta: BTreeMap<String, String>,
    note: Option<String>,
    nested: Inner,
    grid: Vec<Vec<i32>>,
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 é😀漢\"\\\\\n\t/]{0,14}"
}

fn doc() -> impl Strategy<Value = Doc> {
    let author = (text(), any::<u32>(), any::<bool>()).prop_map(|(name, age, active)| Author {
        name,
        age,
        active,
    });
    let inner = (any::<i16>(), text()).prop_map(|(depth, label)| Inner { depth, label });
    (
        (
            text(),
            any::<i64>(),
            (-4000i32..4000).prop_map(|q| f64::from(q) / 8.0),
            any::<bool>(),
        ),
        proptest::collection::vec(text(), 0..4),
        proptest::collection::vec(author, 0..3),
        proptest::collection::btree_map("[a-z_]{1,6}", text(), 0..3),
        proptest::option::of(text()),
        inner,
        // An empty inner array at the end is never announced by the service: not representable.
        proptest::collection::vec(proptest::collection::vec(any::<i32>(), 1..3), 0..3),
    )
        .prop_map(
            |((title, count, ratio, flag), tags, authors, meta, note, nested, grid)| Doc {
                title,
                count,
                ratio,
                flag,
                tags,
                authors,
                meta,
                note,
                nested,
                grid,
            },
        )
}

/// `partial` holds nothing the final value lacks; its strings are prefixes of the final ones.
fn consistent(partial: &Value, last: &Value) -> Result<(), String> {
    match (partial, last) {
        (Value::String(p), Value::String(f)) if f.starts_with(p.as_str()) => Ok(()),
        (Value::Number(_), Value::Number(_)) => Ok(()),
        (Value::Bool(p), Value::Bool(f)) if p == f => Ok(()),
        (Value::Null, _) => Ok(()),
        (Value::Array(p), Value::Array(f)) if p.len() <= f.len() => {
            p.iter().zip(f).try_for_each(|(p, f)| consistent(p, f))
        }
        (Value::Object(p), Value::Object(f)) => {
            p.iter().try_for_each(|(key, p)| match f.get(key) {
                Some(f) => consistent(p, f),
                None => Err(format!("the partial has `{key}`, the final does not")),
            })
        }
        _ => Err(format!("{partial} does not lead to {last}")),
    }
}

#[test]
fn random_values_chunked_randomly_reassemble_exactly() {
    Chunked::new("doc", 256)
        .max_piece(1..9)
        .check(doc(), consistent);
}

#[test]
fn the_documented_stream_gives_typed_updates_and_completed_fields() {
    use opper_tests::Team;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = MockServer::start().await;
        server.reply(
            "extract_team",
            Reply::events([
                json!({"span_id": "123e4567"}),
                json!({"delta": "Ann", "json_path": "response.people[0].name", "chunk_type": "json"}),
                json!({"delta": " Lee", "json_path": "response.people[0].name", "chunk_type": "json"}),
                json!({"delta": "CTO", "json_path": "response.people[0].role", "chunk_type": "json"}),
                json!({"delta": "Bo", "json_path": "people[1].name", "chunk_type": "json"}),
                json!({"delta": "docs", "json_path": "people[1].role", "chunk_type": "json"}),
                json!({"delta": "Two people.", "json_path": "response.summary", "chunk_type": "json"}),
            ]),
        );
        let mut stream = server.client().call("extract_team").output_type::<Team>().stream::<Team>().await.unwrap();
        assert_eq!(stream.span_id(), Some("123e4567"));
        let mut seen = Vec::new();
        while let Some(update) = stream.next().await {
            let update = update.unwrap();
            seen.push((update.json_path.clone(), update.delta.clone(), update.completed.clone()));
            if update.json_path == "response.people[0].role" {
                let people = update.partial.people.as_ref().unwrap();
                assert_eq!(people[0].name.as_deref(), Some("Ann Lee"));
                assert_eq!(people[0].role.as_deref(), Some("CTO"));
                assert!(update.partial.summary.is_none());
            }
        }
        assert!(seen[1].2.is_empty(), "the name is still open");
        assert_eq!(seen[2].2, ["response.people[0].name"]);
        assert_eq!(
            seen[3].2,
            ["response.people[0].role", "response.people[0]"],
            "the item completes with its last field"
        );
        let team = stream.finish().await.unwrap();
        assert_eq!(team.people.len(), 2);
        assert_eq!(team.people[1].role, "docs");
        assert_eq!(team.summary, "Two people.");
    });
}

#[test]
fn a_path_not_in_the_type_and_a_close_before_a_valid_value_keep_what_arrived() {
    #[derive(Debug, Deserialize, JsonSchema, opper::Partial)]
    #[allow(dead_code)]
    struct Answer {
        text: String,
        score: u8,
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = MockServer::start().await;
        server.reply(
            "wrong-path",
            Reply::events([
                json!({"delta": "so far", "json_path": "response.text"}),
                json!({"delta": 1, "json_path": "response.nope"}),
            ]),
        );
        server.reply(
            "cut",
            Reply::events([json!({"delta": "half", "json_path": "response.text"})]),
        );
        let opper = server.client();
        let error = opper_tests::typed_stream_error::<Answer>(&opper, "wrong-path").await;
        assert!(
            matches!(error, opper::Error::InvalidChunk { .. }),
            "{error:?}"
        );
        assert_eq!(error.partial(), Some(&json!({"text": "so far"})));
        let error = opper_tests::typed_stream_error::<Answer>(&opper, "cut").await;
        assert!(
            matches!(error, opper::Error::Incomplete { .. }),
            "{error:?}"
        );
        assert_eq!(error.partial(), Some(&json!({"text": "half"})));
    });
}

// v3: typed updates from the JSON text.

#[tokio::test]
async fn typed_updates_from_the_json_text_one_character_per_delta() {
    let server = RawServer::start().await;
    let text = r#"{"people": [{"name": "Ann", "role": "CTO"}], "summary": "Ann leads."}"#;
    server.push(stream(text, &team_json()));
    let opper = v3_client(&server.url());
    let (updates, team) = read(team_stream(&opper).await).await;
    let team = team.unwrap();
    assert_eq!(
        (team.people[0].name.as_str(), team.summary.as_str()),
        ("Ann", "Ann leads.")
    );
    let paths: Vec<&str> = updates.iter().map(|(path, ..)| path.as_str()).collect();
    assert_eq!(paths.first(), Some(&"response.people[0].name"));
    assert!(paths.contains(&"response.people[0].role"));
    assert_eq!(paths.last(), Some(&"response.summary"));
    // Strings grow by prefix, one character at a time; nothing is shown that is not there.
    let names: Vec<&Value> = updates
        .iter()
        .filter(|(path, ..)| path == "response.people[0].name")
        .map(|(_, _, partial)| &partial["people"][0]["name"])
        .collect();
    assert_eq!(names, [&json!("A"), &json!("An"), &json!("Ann")]);
    assert_eq!(updates.last().unwrap().2, team_json());
}

#[tokio::test]
async fn numbers_cut_across_deltas_appear_whole() {
    let server = RawServer::start().await;
    server.push(stream("{\"sum\": 42}", &json!({"sum": 42})));
    let opper = v3_client(&server.url());
    let stream = sum_stream(&opper).await;
    let (updates, sum) = read(stream).await;
    assert_eq!(sum.unwrap(), Sum { sum: 42 });
    assert_eq!(updates.len(), 2, "{updates:?}");
    assert_eq!(updates[0].0, "response.sum");
    assert_eq!(updates[0].1, json!(42));
    // Shown once its field completes: by the final answer's update.
    assert_eq!(updates[0].2, json!({}));
    assert_eq!(
        updates[1],
        ("response".into(), Value::Null, json!({"sum": 42}))
    );
}

#[tokio::test]
async fn fenced_json_streams_too() {
    let server = RawServer::start().await;
    server.push(stream("```json\n{\"sum\": 9}\n```", &json!({"sum": 9})));
    let opper = v3_client(&server.url());
    let stream = sum_stream(&opper).await;
    let (updates, sum) = read(stream).await;
    assert_eq!(sum.unwrap(), Sum { sum: 9 });
    assert_eq!(updates.len(), 2, "{updates:?}");
    assert_eq!(
        (updates[0].0.as_str(), &updates[0].1),
        ("response.sum", &json!(9))
    );
    // A number is shown only once its field completes (here: at the end, by the update of
    // the final answer).
    assert_eq!(updates[0].2, json!({}));
    assert_eq!(updates[1].2, json!({"sum": 9}));
}

#[tokio::test]
async fn a_sentence_first_means_no_partials_and_the_final_output_from_complete() {
    let server = RawServer::start().await;
    server.push(stream(
        "Here is the team: {\"people\": [], \"summary\": \"wrong\"}",
        &team_json(),
    ));
    let opper = v3_client(&server.url());
    let (updates, team) = read(team_stream(&opper).await).await;
    // Nothing from the text; one update when the final answer comes.
    assert_eq!(
        updates,
        [("response".into(), Value::Null, team_json())],
        "{updates:?}"
    );
    assert_eq!(team.unwrap().summary, "Ann leads.");
}

#[tokio::test]
async fn the_final_output_is_complete_data_when_it_differs_from_the_text_and_the_last_update_shows_it()
 {
    let server = RawServer::start().await;
    server.push(stream(
        r#"{"people": [{"name": "Ann", "role": "cto"}], "summary": "draft"}"#,
        &team_json(),
    ));
    let opper = v3_client(&server.url());
    let (updates, team) = read(team_stream(&opper).await).await;
    let (last, text) = updates.split_last().unwrap();
    assert_eq!(text.last().unwrap().2["summary"], "draft");
    // The last update is the final output's, whole: it never keeps showing the text's.
    assert_eq!(last, &("response".into(), Value::Null, team_json()));
    let team = team.unwrap();
    assert_eq!(
        (team.people[0].role.as_str(), team.summary.as_str()),
        ("CTO", "Ann leads.")
    );
}

#[tokio::test]
async fn text_that_does_not_fit_the_type_silences_partials_without_failing() {
    let server = RawServer::start().await;
    // `people` is an array in `Team`: an object there is refused by the assembler.
    server.push(stream(
        r#"{"summary": "s", "people": {"x": 1}}"#,
        &team_json(),
    ));
    let opper = v3_client(&server.url());
    let (updates, team) = read(team_stream(&opper).await).await;
    let (last, text) = updates.split_last().unwrap();
    assert!(
        text.iter().all(|(path, ..)| path == "response.summary"),
        "{updates:?}"
    );
    assert_eq!(last.2, team_json());
    assert_eq!(team.unwrap().summary, "Ann leads.");
}

#[tokio::test]
async fn the_bounds_hold_on_v3_too() {
    let server = RawServer::start().await;
    // Nested far deeper than any partial may go, in one delta: the updates stop there, the
    // stream goes on, and the output is `complete`'s.
    let deep = format!(r#"{{"summary": "a", "x": {}"#, "[".repeat(100_000));
    server.push(
        Script::default()
            .sse_head()
            .write(content(&deep))
            .write(complete(&team_json()))
            .write(DONE),
    );
    // An event over the limit ends the stream, as on v2.
    server.push(
        Script::default()
            .sse_head()
            .write(content(&"a".repeat(4096)))
            .write(complete(&team_json())),
    );
    let opper = builder(&server.url())
        .api(Api::V3)
        .retry(RetryPolicy::none())
        .max_event_bytes(2048)
        .build()
        .unwrap();
    let (updates, team) = read(team_stream(&v3_client(&server.url())).await).await;
    assert_eq!(updates.len(), 2, "{updates:?}");
    assert_eq!(updates[0].0, "response.summary");
    assert_eq!(updates[1].2, team_json());
    assert_eq!(team.unwrap().summary, "Ann leads.");
    let error = match opper
        .call("extract_team")
        .output_type::<Team>()
        .stream::<Team>()
        .await
    {
        Ok(stream) => read(stream).await.1.unwrap_err(),
        Err(error) => error,
    };
    assert!(
        matches!(error, Error::EventTooLarge { limit: 2048, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_error_frame_ends_the_stream_with_its_message_and_the_partial() {
    let server = RawServer::start().await;
    let long = "x\n".repeat(opper::ApiError::MAX_BODY_BYTES);
    server.push(
        Script::default()
            .sse_head()
            .write(content("{\"summary\": \"An"))
            .write(format!(
                "data: {}\n\n",
                json!({"type": "error", "error": format!("boom {long}")})
            )),
    );
    let opper = v3_client(&server.url());
    let (updates, team) = read(team_stream(&opper).await).await;
    assert_eq!(updates.len(), 1);
    let error = team.unwrap_err();
    let Error::StreamChunk {
        error_message: Some(message),
        partial,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert!(message.starts_with("boom"));
    assert!(message.len() <= opper::ApiError::MAX_BODY_BYTES);
    assert_eq!(partial["summary"], "An");
    assert!(!error.to_string().contains('\n'));
}

#[tokio::test]
async fn a_stream_without_complete_is_cut() {
    let server = RawServer::start().await;
    server.push(
        Script::default()
            .sse_head()
            .write(content("{\"summary\": \"An"))
            .write(content("n\", \"people\": []}")),
    );
    server.push(
        Script::default()
            .sse_head()
            .write(content("{\"summary\": \"Ann\"}"))
            .write(DONE),
    );
    let opper = v3_client(&server.url());
    for _ in 0..2 {
        let (updates, team) = read(team_stream(&opper).await).await;
        assert!(!updates.is_empty());
        let error = team.unwrap_err();
        assert!(matches!(error, Error::Incomplete { .. }), "{error:?}");
        assert_eq!(error.partial().unwrap()["summary"], "Ann");
    }
}

#[tokio::test]
async fn unknown_frames_comments_and_bad_lines_are_skipped_and_done_ends_it() {
    let server = RawServer::start().await;
    server.push(
        Script::default()
            .sse_head()
            .write(": keep-alive\n\n")
            .write("data: {\"type\":\"reasoning\",\"delta\":\"thinking\"}\n\n")
            .write(content("{\"sum\": "))
            .write("data: not json\n\n")
            .write("data: {\"type\":\"tool_call_start\",\"tool_call_index\":0}\n\n")
            .write(content("9}"))
            .write(
                "data: {\"type\":\"done\",\"usage\":{\"input_tokens\":10,\"output_tokens\":3}}\n\n",
            )
            .write(complete(&json!({"sum": 9})))
            .write(DONE)
            .write(content("ignored"))
            .write(complete(&json!({"sum": 1}))),
    );
    let opper = v3_client(&server.url());
    let stream = sum_stream(&opper).await;
    let (updates, sum) = read(stream).await;
    assert_eq!(sum.unwrap(), Sum { sum: 9 });
    // The number, then the final answer's update showing it.
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[1].2, json!({"sum": 9}));
}

/// Every update of the text task `hello` whose text is "Hello, " and "Ann!" and whose final
/// answer is `answer`, and how it ended.
async fn hello(answer: &str) -> (Vec<(String, Value, Value)>, opper::Result<String>) {
    let server = RawServer::start().await;
    server.push(
        Script::default()
            .sse_head()
            .write(content("Hello, "))
            .write(content("Ann!"))
            .write(complete(&json!(answer)))
            .write(DONE),
    );
    let opper = v3_client(&server.url());
    read(opper.call("hello").stream::<String>().await.unwrap()).await
}

#[tokio::test]
async fn a_text_task_streams_its_text() {
    let (updates, text) = hello("Hello, Ann!").await;
    assert_eq!(text.unwrap(), "Hello, Ann!");
    let deltas: Vec<(&str, &Value)> = updates.iter().map(|(p, d, _)| (p.as_str(), d)).collect();
    assert_eq!(deltas, [("", &json!("Hello, ")), ("", &json!("Ann!"))]);
    assert_eq!(updates[1].2, json!("Hello, Ann!"));
}

#[tokio::test]
async fn the_raw_chunk_stream_yields_text_chunks_and_keeps_the_output() {
    let server = RawServer::start().await;
    server.push(stream("{\"sum\":9}", &json!({"sum": 9})));
    let opper = v3_client(&server.url());
    let mut chunks = opper.call("add").stream_raw().await.unwrap();
    let mut text = String::new();
    while let Some(chunk) = chunks.next().await {
        // Text, with no json_path: a piece of the model's JSON document.
        let opper::Chunk::Text(piece) = chunk.unwrap() else {
            panic!("v3 yields text chunks")
        };
        text.push_str(&piece);
    }
    assert_eq!(text, "{\"sum\":9}");
    assert_eq!(chunks.output(), Some(&json!({"sum": 9})));
    assert_eq!(chunks.span_id(), None);
}

#[tokio::test]
async fn a_long_text_frame_is_read_piece_by_piece_across_characters() {
    let server = RawServer::start().await;
    let summary = "é".repeat(5000);
    let text = format!(r#"{{"people": [], "summary": "{summary}"}}"#);
    let data = json!({"people": [], "summary": summary});
    server.push(
        Script::default()
            .sse_head()
            .write(content(&text))
            .write(complete(&data))
            .write(DONE),
    );
    let opper = v3_client(&server.url());
    let (updates, team) = read(team_stream(&opper).await).await;
    assert_eq!(team.unwrap().summary, summary);
    // One frame, read in pieces: the string grows by prefix, piece by piece, to the whole.
    assert!(updates.len() > 1, "{}", updates.len());
    let mut shown = String::new();
    for (path, delta, partial) in &updates {
        assert_eq!(path, "response.summary");
        shown.push_str(delta.as_str().unwrap());
        assert_eq!(partial["summary"], shown.as_str());
    }
    assert_eq!(shown, summary);
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema, opper::Partial)]
struct Repeated {
    n: Option<i64>,
    m: Option<String>,
    xs: Option<Vec<i64>>,
    inner: Option<Box<Repeated>>,
    items: Option<Vec<Repeated>>,
}

/// Whether `partial` shows only what `reference` holds: strings by prefix, arrays by their
/// first items, objects by some of their keys, anything else equal.
fn shows_only(partial: &Value, reference: &Value) -> bool {
    match (partial, reference) {
        (Value::String(shown), Value::String(whole)) => whole.starts_with(shown.as_str()),
        (Value::Array(shown), Value::Array(whole)) => {
            shown.len() <= whole.len() && shown.iter().zip(whole).all(|(a, b)| shows_only(a, b))
        }
        (Value::Object(shown), Value::Object(whole)) => shown
            .iter()
            .all(|(key, value)| whole.get(key).is_some_and(|w| shows_only(value, w))),
        (shown, whole) => shown == whole,
    }
}

/// (text with a repeated key, what its first occurrences say, `complete`'s data)
fn repeated_keys() -> Vec<(&'static str, Value, Value)> {
    vec![
        (
            r#"{"n": 1, "n": 2, "m": "x"}"#,
            json!({"n": 1}),
            json!({"n": 2, "m": "x"}),
        ),
        (
            r#"{"m": "ab", "m": "cd"}"#,
            json!({"m": "ab"}),
            json!({"m": "cd"}),
        ),
        (
            r#"{"xs": [1], "xs": [2]}"#,
            json!({"xs": [1]}),
            json!({"xs": [2]}),
        ),
        (
            r#"{"n": 1, "m": "y", "n": 3}"#,
            json!({"n": 1, "m": "y"}),
            json!({"n": 3, "m": "y"}),
        ),
        (
            r#"{"inner": {"inner": {"m": "ab", "n": 1, "m": "cd"}}}"#,
            json!({"inner": {"inner": {"m": "ab", "n": 1}}}),
            json!({"inner": {"inner": {"m": "cd", "n": 1}}}),
        ),
        (
            r#"{"items": [{"n": 1, "m": "a"}, {"m": "b", "n": 2, "m": "c"}]}"#,
            json!({"items": [{"n": 1, "m": "a"}, {"m": "b", "n": 2}]}),
            json!({"items": [{"n": 1, "m": "a"}, {"m": "c", "n": 2}]}),
        ),
    ]
}

#[tokio::test]
async fn a_repeated_key_never_joins_two_values_in_a_partial() {
    let server = RawServer::start().await;
    for (text, _, data) in repeated_keys() {
        server.push(stream(text, &data));
    }
    let opper = v3_client(&server.url());
    for (text, first, data) in repeated_keys() {
        let stream = opper
            .call("r")
            .output_type::<Repeated>()
            .stream::<Repeated>()
            .await;
        let (updates, output) = read(stream.unwrap()).await;
        let expected: Repeated = serde_json::from_value(data.clone()).unwrap();
        assert_eq!(output.unwrap(), expected, "{text}");
        // Before `complete`, only what the text said before the repeated key.
        let (last, before) = updates.split_last().expect("updates");
        for (path, _, partial) in before {
            assert!(
                shows_only(partial, &first),
                "{text}: {path} shows {partial}"
            );
        }
        // Then the final output, whole.
        assert_eq!(last, &("response".into(), Value::Null, data), "{text}");
    }
}

#[tokio::test]
async fn text_after_complete_changes_no_partial() {
    let server = RawServer::start().await;
    let script = |after: &str| {
        Script::default()
            .sse_head()
            .write(content("{\"m\": \"A"))
            .write(complete(&json!({"m": "A"})))
            .write(content(after))
            .write(DONE)
    };
    server.push(script("BC\"}"));
    // Text after it that would complete the document, or break it.
    server.push(script("\", \"n\": 1}"));
    server.push(script("] not json"));
    let opper = v3_client(&server.url());
    for _ in 0..3 {
        let stream = opper
            .call("r")
            .output_type::<Repeated>()
            .stream::<Repeated>()
            .await;
        let (updates, output) = read(stream.unwrap()).await;
        assert_eq!(output.unwrap().m.as_deref(), Some("A"));
        for (path, _, partial) in &updates {
            assert!(
                shows_only(partial, &json!({"m": "A"})),
                "{path} shows {partial}"
            );
        }
        assert_eq!(updates.last().unwrap().2, json!({"m": "A"}));
    }
}

#[tokio::test]
async fn a_text_task_whose_final_answer_differs_ends_with_an_update_showing_it() {
    let (updates, text) = hello("Hello, Bob!").await;
    assert_eq!(text.unwrap(), "Hello, Bob!");
    assert_eq!(updates.len(), 3, "{updates:?}");
    assert_eq!(
        updates[2],
        (String::new(), Value::Null, json!("Hello, Bob!"))
    );
}

#[tokio::test]
async fn a_complete_event_that_cannot_be_read_says_so_and_why() {
    let server = RawServer::start().await;
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let events = [
        (
            r#"{"data": {"sum": NaN}, "meta": {}}"#.to_owned(),
            "NaN or Infinity",
        ),
        (
            format!(r#"{{"data": {{"sum": {deep}}}, "meta": {{}}}}"#),
            "nests more than 127",
        ),
        (r#"{"meta": {}}"#.to_owned(), "no `data`"),
    ];
    for (event, _) in &events {
        server.push(
            Script::default()
                .sse_head()
                .write(content("{\"sum\": 9}"))
                .write(format!("event: complete\ndata: {event}\n\n"))
                .write(DONE),
        );
    }
    let opper = v3_client(&server.url());
    for (_, why) in &events {
        let stream = sum_stream_of(&opper).await;
        let (_, sum) = read(stream.unwrap()).await;
        let error = sum.unwrap_err();
        let shown = error.to_string();
        assert!(matches!(error, Error::InvalidChunk { .. }), "{error:?}");
        assert!(
            shown.contains("the final answer could not be read"),
            "{shown}"
        );
        assert!(shown.contains(why), "{shown}");
        assert!(!shown.contains("without its final answer"), "{shown}");
    }
}

// Text streams and their framing, on both versions where both apply (`each_version!`).

fn sse(events: &[Value]) -> String {
    events.iter().map(|e| format!("data: {e}\n\n")).collect()
}

/// The frames of a text stream's `pieces` on `api`: v2's text chunks, v3's `content` frames.
fn deltas(api: Api, pieces: &[&str]) -> String {
    match api {
        Api::V3 => pieces.iter().map(|piece| content(piece)).collect(),
        _ => sse(&pieces
            .iter()
            .map(|piece| json!({"delta": piece, "chunk_type": "text"}))
            .collect::<Vec<_>>()),
    }
}

opper_tests::each_version!(
    a_text_stream_concatenates_and_keeps_the_span,
    an_error_chunk_ends_the_stream_and_keeps_the_text,
    a_stream_cut_mid_event_keeps_what_arrived,
    a_stream_cut_inside_a_character_is_incomplete_not_invalid,
    a_stalled_stream_hits_the_read_timeout_and_keeps_what_arrived,
    a_stream_is_retried_before_its_first_event_only,
    an_oversized_event_is_a_clear_error,
);

async fn a_text_stream_concatenates_and_keeps_the_span(api: Api) {
    let server = RawServer::start().await;
    // v2 opens with the span's id; v3 has none, and ends with `complete`.
    let body = match api {
        Api::V3 => format!(
            "{}{}{DONE}",
            deltas(api, &["Hello", " wörld"]),
            complete(&json!("Hello wörld"))
        ),
        _ => format!(
            "{}{}",
            sse(&[json!({"span_id": "span-9"})]),
            deltas(api, &["Hello", " wörld"])
        ),
    };
    server.push(Script::default().sse_head().write(&body));
    let opper = client_on(&server.url(), api);
    let mut stream = opper.call("t").stream::<String>().await.unwrap();
    let span = (api == Api::V2).then_some("span-9");
    assert_eq!(stream.span_id(), span);
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
    let path = match api {
        Api::V3 => "/v3/functions/t/stream",
        _ => "/v2/call/stream",
    };
    assert_eq!(request.path, path);
    assert_eq!(request.header("accept"), Some("text/event-stream"));
    // v2 names the task in the body; v3 in the path, and always sends `input`.
    let body = match api {
        Api::V3 => json!({"input": null}),
        _ => json!({"name": "t"}),
    };
    assert_eq!(request.json(), body, "no stream field in the body");
}

async fn an_error_chunk_ends_the_stream_and_keeps_the_text(api: Api) {
    let server = RawServer::start().await;
    // v2's error chunk has a type and a message; v3's error frame a message only.
    let error = match api {
        Api::V3 => format!(
            "data: {}\n\n",
            json!({"type": "error", "error": "model overloaded"})
        ),
        _ => sse(&[
            json!({"chunk_type": "error", "error_type": "ProviderError", "error_message": "model overloaded"}),
        ]),
    };
    let body = format!(
        "{}{error}{}",
        deltas(api, &["par"]),
        deltas(api, &["never"])
    );
    server.push(Script::default().sse_head().write(&body));
    let mut stream = client_on(&server.url(), api)
        .call("t")
        .stream::<String>()
        .await
        .unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap().delta, json!("par"));
    let error = stream.next().await.unwrap().unwrap_err();
    let (error_type, error_message, partial) = opper_tests::stream_chunk(&error);
    assert_eq!(error_type, (api == Api::V2).then_some("ProviderError"));
    assert_eq!(error_message, Some("model overloaded"));
    assert_eq!(partial, &json!("par"));
    assert!(stream.next().await.is_none());
    let err = stream.finish().await.unwrap_err();
    assert_eq!(err.partial(), Some(&json!("par")));
}

/// A text stream on `api` whose `before` arrives whole and whose next delta is cut after
/// `cut` (the bytes of its text that arrived): an `Incomplete` error keeping `before`.
async fn cut_keeps_what_arrived(api: Api, before: &str, cut: &[u8]) {
    let server = RawServer::start().await;
    let head: &[u8] = match api {
        Api::V3 => b"data: {\"type\": \"content\", \"delta\": \"",
        _ => b"data: {\"delta\": \"",
    };
    server.push(
        Script::default()
            .sse_head()
            .write(deltas(api, &[before]))
            .write([head, cut].concat()),
    );
    let err = opper_tests::text_stream_error(&client_on(&server.url(), api), "t").await;
    assert!(matches!(&err, Error::Incomplete { .. }), "{err:?}");
    assert_eq!(err.partial(), Some(&json!(before)));
}

async fn a_stream_cut_mid_event_keeps_what_arrived(api: Api) {
    cut_keeps_what_arrived(api, "first ", b"sec").await;
}

async fn a_stream_cut_inside_a_character_is_incomplete_not_invalid(api: Api) {
    // The first byte of "é" (0xC3 0xA9), then the connection closes.
    cut_keeps_what_arrived(api, "caf", b"caf\xC3").await;
}

async fn a_stalled_stream_hits_the_read_timeout_and_keeps_what_arrived(api: Api) {
    let server = RawServer::start().await;
    let span = match api {
        Api::V3 => String::new(),
        _ => sse(&[json!({"span_id": "s"})]),
    };
    server.push(
        Script::default()
            .sse_head()
            .write(format!("{span}{}", deltas(api, &["so far"])))
            .stall(),
    );
    let opper = opper_tests::builder(&server.url())
        .api(api)
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = opper_tests::text_stream_error(&opper, "t").await;
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.partial(), Some(&json!("so far")));
}

async fn a_stream_is_retried_before_its_first_event_only(api: Api) {
    let server = RawServer::start().await;
    server.push(Script::response(503, &[], b""));
    server.push(Script::default().sse_head()); // closed before any event: nothing reached the caller
    let (first, cut) = match api {
        Api::V3 => (content("a"), "data: {\"type\""),
        _ => (
            sse(&[json!({"span_id": "s"}), json!({"delta": "a"})]),
            "data: {\"delta\"",
        ),
    };
    server.push(Script::default().sse_head().write(first).write(cut));
    server.fallback(Script::default().sse_head().write(deltas(api, &["never"])));
    let mut stream = client_on(&server.url(), api)
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

async fn an_oversized_event_is_a_clear_error(api: Api) {
    let server = RawServer::start().await;
    let big = "x".repeat(4096);
    server.push(
        Script::default()
            .sse_head()
            .write(deltas(api, &["ok", &big])),
    );
    let opper = opper_tests::builder(&server.url())
        .api(api)
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

// On v2 only: SSE framing, a line that is not JSON (v3 skips it: see
// `unknown_frames_comments_and_bad_lines_are_skipped_and_done_ends_it`), and the raw chunks of a
// JSON stream.

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

/// A v2 chunk that carries nothing yields nothing; one with both a span id and a delta yields
/// the delta, and the stream's `span_id()` has the id.
#[tokio::test]
async fn the_raw_chunk_stream_skips_empty_chunks_and_keeps_a_span_id_sent_with_a_delta() {
    let server = RawServer::start().await;
    let body = sse(&[
        json!({}),
        json!({"span_id": "s", "delta": "Ann", "json_path": "response.name", "chunk_type": "json"}),
        json!({}),
    ]);
    server.push(Script::default().sse_head().write(&body));
    let mut chunks = client(&server.url()).call("t").stream_raw().await.unwrap();
    let mut seen = Vec::new();
    while let Some(chunk) = chunks.next().await {
        seen.push(chunk.unwrap());
    }
    assert_eq!(
        seen,
        [opper::Chunk::Delta {
            json_path: Some("response.name".into()),
            delta: json!("Ann"),
        }]
    );
    assert_eq!(chunks.span_id(), Some("s"));
}

/// Code written before the raw stream yielded `Chunk`s still compiles: v2's wire types keep
/// their old root paths (hidden), naming the types the built-in server scripts.
#[test]
fn the_v2_wire_types_keep_their_old_root_paths() {
    use std::any::TypeId;
    assert_eq!(
        TypeId::of::<opper::StreamingChunk>(),
        TypeId::of::<opper::testing::StreamingChunk>()
    );
    assert_eq!(
        TypeId::of::<opper::ChunkType>(),
        TypeId::of::<opper::testing::ChunkType>()
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
