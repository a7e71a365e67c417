//! Typed streaming over real HTTP: random values of a nested type, chunked by the built-in
//! server in random ways (`opper_tests::chunked`), reassemble exactly, and every partial on
//! the way is consistent with the final value.

use std::collections::BTreeMap;

use futures::StreamExt;
use opper::testing::{MockServer, Reply};
use opper_tests::chunked::Chunked;
use proptest::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

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
