//! Property tests: any value, chunked like the service (by the crate's one chunker, with
//! every variation it has), reassembles exactly; no input makes a push panic.

use std::collections::BTreeMap;

use proptest::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::schema_of;
use crate::partial::Assembler;
use crate::testing::chunker::{ChunkOptions, chunks_for};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Doc {
    response: String,
    count: i64,
    ratio: f64,
    ok: bool,
    lead: Member,
    members: Vec<Member>,
    tags: Vec<String>,
    note: Option<String>,
    scores: BTreeMap<String, u32>,
    matrix: Vec<Vec<i32>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Member {
    name: String,
    age: u8,
    nick: Option<String>,
    inner: Option<Leaf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Leaf {
    on: bool,
    label: String,
    weight: f32,
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z \"\\\\\n\t\u{0}/é😀.\\[\\]]{0,12}",]
}

fn finite<T: Arbitrary + Copy>(is_finite: fn(T) -> bool) -> impl Strategy<Value = T> {
    any::<T>().prop_filter("finite", move |v| is_finite(*v))
}

fn leaf() -> impl Strategy<Value = Leaf> {
    (any::<bool>(), text(), finite::<f32>(f32::is_finite)).prop_map(|(on, label, weight)| Leaf {
        on,
        label,
        weight,
    })
}

fn member() -> impl Strategy<Value = Member> {
    (
        text(),
        any::<u8>(),
        proptest::option::of(text()),
        proptest::option::of(leaf()),
    )
        .prop_map(|(name, age, nick, inner)| Member {
            name,
            age,
            nick,
            inner,
        })
}

fn doc() -> impl Strategy<Value = Doc> {
    (
        (
            text(),
            any::<i64>(),
            finite::<f64>(f64::is_finite),
            any::<bool>(),
            member(),
        ),
        (
            proptest::collection::vec(member(), 0..4),
            proptest::collection::vec(text(), 0..4),
            proptest::option::of(text()),
            proptest::collection::btree_map(text(), any::<u32>(), 0..4),
            proptest::collection::vec(proptest::collection::vec(any::<i32>(), 1..3), 0..3),
        ),
    )
        .prop_map(
            |((response, count, ratio, ok, lead), (members, tags, note, scores, matrix))| Doc {
                response,
                count,
                ratio,
                ok,
                lead,
                members,
                tags,
                note,
                scores,
                matrix,
            },
        )
}

/// Every string of `snapshot` is a prefix of the final one, and it has no key, item or
/// kind of value the final value lacks.
fn consistent(snapshot: &Value, last: &Value) -> Result<(), String> {
    match (snapshot, last) {
        (Value::String(s), Value::String(f)) if f.starts_with(s.as_str()) => Ok(()),
        (Value::Number(_), Value::Number(_)) | (Value::Null, Value::Null) => Ok(()),
        (Value::Bool(s), Value::Bool(f)) if s == f => Ok(()),
        (Value::Array(s), Value::Array(f)) if s.len() <= f.len() => {
            s.iter().zip(f).try_for_each(|(s, f)| consistent(s, f))
        }
        (Value::Object(s), Value::Object(f)) => s.iter().try_for_each(|(k, v)| match f.get(k) {
            Some(fv) => consistent(v, fv),
            None => Err(format!("key {k:?} is not in the final value")),
        }),
        (s, f) => Err(format!("{s} does not lead to {f}")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn chunked_values_reassemble_exactly(original in doc(), seed in any::<u64>(), prefix in any::<bool>()) {
        let json = serde_json::to_value(&original).unwrap();
        let options = ChunkOptions::new().prefix(prefix).random_splits(seed).vary();
        let chunks = chunks_for(&json, &options);

        let mut asm = Assembler::<Doc>::new(schema_of::<Doc>());
        let mut previous: Option<String> = None;
        for chunk in &chunks {
            let path = chunk.json_path.clone().unwrap();
            let delta = chunk.delta.as_ref().unwrap();
            let completed = asm.push(Some(&path), delta).map_err(TestCaseError::fail)?;
            let expected = match &previous {
                Some(p) if *p != path => Some(p.clone()),
                _ => None,
            };
            prop_assert_eq!(completed.first().cloned(), expected);
            previous = Some(path);
            let snapshot = serde_json::to_value(&*asm.partial()).unwrap();
            consistent(&snapshot, &json).map_err(TestCaseError::fail)?;
        }
        let (value, open) = asm.finish().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(open, previous);
        prop_assert_eq!(value, original);
    }

    #[test]
    fn pushes_never_panic(
        chunks in proptest::collection::vec(
            (
                prop_oneof![
                    any::<String>(),
                    "(response\\.|\\$\\.)?[a-z]{0,3}([.\\[\\]0-9\"'\\\\a-z]{0,6}){0,3}",
                    "(response\\.)?(members|tags|matrix|scores|lead)(\\[[0-3]\\]|\\.[a-z]{1,6}){0,3}",
                ],
                prop_oneof![
                    any::<String>().prop_map(Value::String),
                    "[-0-9.eE+tfrualsn]{0,4}".prop_map(Value::String),
                    any::<i64>().prop_map(Value::from),
                    any::<f64>().prop_map(Value::from),
                    any::<bool>().prop_map(Value::from),
                    Just(Value::Null),
                    Just(json!({"a": [1]})),
                ],
            ),
            0..24,
        ),
    ) {
        let mut doc = Assembler::<Doc>::new(schema_of::<Doc>());
        let mut any = Assembler::<Value>::new(None);
        let mut text = Assembler::<String>::new(None);
        for (path, delta) in &chunks {
            let _ = doc.push(Some(path), delta);
            let _ = any.push(Some(path), delta);
            let _ = text.push(None, delta);
            let _ = doc.partial();
        }
        let _ = doc.so_far();
        let _ = doc.finish();
        let _ = any.finish();
        let _ = text.finish();
    }
}
