//! How the testing server splits a value into stream chunks ([`opper::testing::chunks_for`]).

#![allow(clippy::unwrap_used)]

use crate::common::Team;
use opper::testing::{ChunkOptions, chunks_for, generate};
use opper::testing::{ChunkType, StreamingChunk};
use serde_json::{Map, Value, json};

/// Reassembles chunks into a value, as a client does (reference implementation for tests).
fn reassemble(chunks: &[StreamingChunk]) -> Value {
    let mut text: Vec<(String, String)> = Vec::new();
    let mut root = Value::Null;
    for chunk in chunks {
        let path = chunk.json_path.clone().unwrap_or_default();
        let path = path.strip_prefix("response").unwrap_or(&path).to_owned();
        let delta = chunk.delta.clone().unwrap();
        match delta {
            Value::String(piece) => match text.iter_mut().find(|(p, _)| *p == path) {
                Some((_, acc)) => acc.push_str(&piece),
                None => text.push((path, piece)),
            },
            other => set(&mut root, &path, other),
        }
    }
    for (path, acc) in text {
        set(&mut root, &path, Value::String(acc));
    }
    root
}

fn set(root: &mut Value, path: &str, value: Value) {
    let mut current = root;
    let mut rest = path.trim_start_matches('.');
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').unwrap();
            let index: usize = after[..end].parse().unwrap();
            rest = after[end + 1..].trim_start_matches('.');
            if !current.is_array() {
                *current = Value::Array(Vec::new());
            }
            let items = current.as_array_mut().unwrap();
            while items.len() <= index {
                items.push(Value::Null);
            }
            current = &mut items[index];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let key = rest[..end].to_owned();
            rest = rest[end..].trim_start_matches('.');
            if !current.is_object() {
                *current = Value::Object(Map::new());
            }
            current = current
                .as_object_mut()
                .unwrap()
                .entry(key)
                .or_insert(Value::Null);
        }
    }
    *current = value;
}

/// The value without what a stream never announces: nulls, empty arrays and objects.
fn prune(value: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Array(items) if items.is_empty() => None,
        Value::Object(map) if map.is_empty() => None,
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .map(|i| prune(i).unwrap_or(Value::Null))
                .collect(),
        )),
        Value::Object(map) => {
            let kept: Map<String, Value> = map
                .iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k.clone(), v)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        other => Some(other.clone()),
    }
}

#[test]
fn chunks_reassemble_to_the_value() {
    let schema = serde_json::to_value(schemars::schema_for!(Team)).unwrap();
    let options = [
        ChunkOptions::new(),
        ChunkOptions::new().prefix(false),
        ChunkOptions::new().random_splits(9).max_piece(3),
        ChunkOptions::new().whole_strings(),
    ];
    for seed in 0..10 {
        let value = generate(&schema, seed);
        for options in &options {
            let chunks = chunks_for(&value, options);
            assert!(chunks.iter().all(|c| c.chunk_type == Some(ChunkType::Json)));
            assert_eq!(Some(reassemble(&chunks)), prune(&value), "{options:?}");
        }
    }
}

#[test]
fn numbers_as_text_reassemble() {
    let value = json!({"count": 12345, "ratio": 0.125, "ok": true, "items": [{"n": -7}], "none": null, "empty": []});
    let options = ChunkOptions::new()
        .numbers_as_text(true)
        .booleans_as_text(true)
        .random_splits(3)
        .max_piece(2);
    let chunks = chunks_for(&value, &options);
    assert!(chunks.iter().all(|c| c.delta.as_ref().unwrap().is_string()));
    assert!(
        chunks
            .iter()
            .filter(|c| c.json_path.as_deref() == Some("response.count"))
            .count()
            > 1
    );
    let mut joined = std::collections::BTreeMap::<String, String>::new();
    for chunk in &chunks {
        let piece = chunk.delta.as_ref().unwrap().as_str().unwrap();
        joined
            .entry(chunk.json_path.clone().unwrap())
            .or_default()
            .push_str(piece);
    }
    assert_eq!(joined["response.count"], "12345");
    assert_eq!(joined["response.ratio"], "0.125");
    assert_eq!(joined["response.ok"], "true");
    assert_eq!(joined["response.items[0].n"], "-7");
    assert!(!joined.contains_key("response.none"));
    assert!(!joined.contains_key("response.empty"));
}

#[test]
fn scalars_are_whole_and_typed_by_default() {
    let chunks = chunks_for(
        &json!({"a": 1.5, "b": false, "c": {}, "d": null}),
        &ChunkOptions::new(),
    );
    assert_eq!(
        chunks,
        vec![
            StreamingChunk::json("response.a", 1.5),
            StreamingChunk::json("response.b", false)
        ]
    );
}

#[test]
fn text_mode_and_word_splits() {
    let chunks = chunks_for(
        &json!("Hello brave new world"),
        &ChunkOptions::new().text_mode(true),
    );
    let deltas: Vec<&str> = chunks
        .iter()
        .map(|c| c.delta.as_ref().unwrap().as_str().unwrap())
        .collect();
    assert_eq!(deltas, ["Hello", " brave", " new", " world"]);
    assert!(
        chunks
            .iter()
            .all(|c| c.json_path.is_none() && c.chunk_type == Some(ChunkType::Text))
    );

    let long = "internationalization ok";
    let pieces = text_pieces(long, ChunkOptions::new());
    assert_eq!(pieces.concat(), long);
    assert!(pieces.iter().all(|p| p.trim().chars().count() <= 8));
    let unicode = "häagen dazs — ünïcödé ✓";
    for options in [ChunkOptions::new(), ChunkOptions::new().random_splits(1)] {
        assert_eq!(text_pieces(unicode, options).concat(), unicode);
    }
    assert_eq!(text_pieces("", ChunkOptions::new()), vec![String::new()]);
}

#[test]
fn chunk_json_is_framed_like_the_service() {
    assert_eq!(
        StreamingChunk::span("s-1").to_sse(),
        "data: {\"span_id\": \"s-1\"}\n\n"
    );
    assert_eq!(
        StreamingChunk::text("Hi").to_sse(),
        "data: {\"delta\": \"Hi\", \"chunk_type\": \"text\"}\n\n"
    );
    assert_eq!(
        serde_json::to_value(StreamingChunk::error("ServerError", "boom")).unwrap(),
        json!({"chunk_type": "error", "error_type": "ServerError", "error_message": "boom"})
    );
    assert_eq!(
        StreamingChunk::json("response.a", json!("x\"y")).to_sse(),
        "data: {\"delta\": \"x\\\"y\", \"json_path\": \"response.a\", \"chunk_type\": \"json\"}\n\n"
    );
}

/// The deltas of `text` chunked in text mode with `options`.
fn text_pieces(text: &str, options: ChunkOptions) -> Vec<String> {
    chunks_for(&json!(text), &options.text_mode(true))
        .into_iter()
        .map(|chunk| chunk.delta.unwrap().as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn keys_that_cannot_be_written_plainly_are_quoted() {
    let value = json!({"a.b": 1, "say \"hi\"": {"c": true}, "$x": 2, "": 3, "plain": 4});
    let paths: Vec<String> = chunks_for(&value, &ChunkOptions::new())
        .into_iter()
        .map(|chunk| chunk.json_path.unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            r#"response["a.b"]"#,
            r#"response["say \"hi\""].c"#,
            r#"response["$x"]"#,
            r#"response[""]"#,
            "response.plain",
        ]
    );
    let unprefixed = chunks_for(
        &json!({"a.b": 1, "c": 2}),
        &ChunkOptions::new().prefix(false),
    );
    let paths: Vec<_> = unprefixed.iter().map(|c| c.json_path.as_deref()).collect();
    assert_eq!(paths, [Some(r#"["a.b"]"#), Some("c")]);
}
