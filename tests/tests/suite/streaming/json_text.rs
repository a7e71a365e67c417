//! v3 streams carry the model's JSON text, cut anywhere: for generated outputs of a rich type
//! (nested structs, enums whose variant names are prefixes of each other, `Vec`s, `Option`s,
//! floats with exponents, strings with escapes, non-ASCII and emoji), served by the built-in
//! server as `content` deltas split at arbitrary points, every partial shown is consistent with
//! the final output, and the final output is exact.

use opper::testing::Reply;
use proptest::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
#[serde(rename_all = "snake_case")]
enum Role {
    Lead,
    Leader,
    LeaderEmeritus,
    Dev,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Member {
    name: String,
    role: Role,
    score: f64,
    age: Option<u32>,
    active: bool,
    tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Crew {
    title: String,
    members: Vec<Member>,
    mentor: Option<Member>,
    ratio: f64,
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ]{0,6}([\"\\\\/\n\t\u{1}é€😀ü ]{0,3}[a-z]{0,4}){0,3}"
}

/// Floats whose shortest form has an exponent or many digits (m × 10^e with at most three
/// digits: `3e21`, `-9.99e-13`), and any finite float (`2.9999999999999997e23`): read back
/// exactly, as serde_json does with `float_roundtrip`, which the crate turns on.
fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-999i32..=999, -15i32..=19).prop_map(|(m, e)| {
            let value: f64 = format!("{m}e{e}").parse().unwrap_or(0.0);
            value
        }),
        any::<f64>().prop_filter("finite", |value| value.is_finite()),
    ]
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![
        Just(Role::Lead),
        Just(Role::Leader),
        Just(Role::LeaderEmeritus),
        Just(Role::Dev)
    ]
}

fn member() -> impl Strategy<Value = Member> {
    (
        text(),
        role(),
        float(),
        proptest::option::of(0u32..200_000),
        any::<bool>(),
        proptest::collection::vec(text(), 0..3),
    )
        .prop_map(|(name, role, score, age, active, tags)| Member {
            name,
            role,
            score,
            age,
            active,
            tags,
        })
}

fn crew() -> impl Strategy<Value = Crew> {
    (
        text(),
        proptest::collection::vec(member(), 0..4),
        proptest::option::of(member()),
        float(),
    )
        .prop_map(|(title, members, mentor, ratio)| Crew {
            title,
            members,
            mentor,
            ratio,
        })
}

/// The JSON text cut at arbitrary character boundaries: `cuts` are fractions of its length.
fn pieces(text: &str, cuts: &[u16]) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|&cut| usize::from(cut) * chars.len() / usize::from(u16::MAX))
        .collect();
    at.push(0);
    at.push(chars.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2)
        .map(|w| chars[w[0]..w[1]].iter().collect())
        .collect()
}

/// The frames of a v3 stream whose text is `pieces` and whose final output is `data`.
fn frames(pieces: &[String], data: &Value) -> Vec<String> {
    let mut frames: Vec<String> = pieces
        .iter()
        .map(|piece| format!("data: {}\n\n", json!({"type": "content", "delta": piece})))
        .collect();
    frames.push("data: {\"type\":\"done\"}\n\n".to_owned());
    frames.push(format!(
        "event: complete\ndata: {}\n\n",
        json!({"data": data, "meta": {"function_name": "crew"}})
    ));
    frames.push("data: [DONE]\n\n".to_owned());
    frames
}

/// Whether `partial` shows only what `last` holds: strings by prefix, everything else whole
/// (numbers, booleans and enum variants are never shown on their way to the final value).
fn consistent(partial: &Value, last: &Value, at: &str) -> Result<(), String> {
    match (partial, last) {
        (Value::String(p), Value::String(f)) if f.starts_with(p.as_str()) => {
            // A unit enum is a string too: its variant shows only whole.
            if at.ends_with(".role") && p != f {
                return Err(format!("{at} shows {p:?} on the way to {f:?}"));
            }
            Ok(())
        }
        (Value::Array(p), Value::Array(f)) if p.len() <= f.len() => p
            .iter()
            .zip(f)
            .enumerate()
            .try_for_each(|(i, (p, f))| consistent(p, f, &format!("{at}[{i}]"))),
        (Value::Object(p), Value::Object(f)) => {
            p.iter().try_for_each(|(key, p)| match f.get(key) {
                Some(f) => consistent(p, f, &format!("{at}.{key}")),
                None => Err(format!("{at} has `{key}`, the final value does not")),
            })
        }
        (p, f) if p == f => Ok(()),
        (p, f) => Err(format!("{at} shows {p}, the final value is {f}")),
    }
}

#[test]
fn every_partial_of_a_v3_text_stream_is_consistent_and_the_final_output_exact() {
    let cuts = (
        proptest::collection::vec(any::<u16>(), 0..120),
        any::<bool>(),
    );
    opper_tests::chunked::streams(
        "crew",
        96,
        opper::Api::V3,
        (crew(), cuts),
        |expected, (cuts, pretty)| {
            let text = match pretty {
                true => serde_json::to_string_pretty(expected),
                false => serde_json::to_string(expected),
            }
            .expect("text");
            Reply::raw_sse(frames(&pieces(&text, cuts), expected))
        },
        |partial, last| consistent(partial, last, "response"),
    );
}
