//! Tests of the JSON text reader: each rule, cuts in every token, bounds, and properties
//! (any value, any cuts, rebuilds exactly; the real assembler finishes with the value).

use std::borrow::Cow;
use std::collections::BTreeMap;

use proptest::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{MAX_NUMBER_BYTES, ReadError, Status, TextReader};
use crate::partial::path::{Seg, parse};
use crate::partial::{Assembler, MAX_DEPTH, MAX_PATH_BYTES};
use crate::testing::chunker::text_deltas;
use crate::testing::rng::Rng;

/// The events of `deltas` (after `finish`), the status and whether the document was whole.
fn read(deltas: &[&str]) -> (Vec<(String, Value)>, Status, bool) {
    let mut reader = TextReader::new();
    let mut events = Vec::new();
    for delta in deltas {
        reader
            .push(delta, |path, value| events.push((path.to_owned(), value)))
            .unwrap();
    }
    let whole = reader.finish(|path, value| events.push((path.to_owned(), value)));
    (events, reader.status(), whole)
}

/// `text` cut into one delta per character.
fn chars(text: &str) -> Vec<&str> {
    text.char_indices()
        .map(|(i, c)| &text[i..i + c.len_utf8()])
        .collect()
}

/// Every way to cut `text` in two, and in single characters: each must give `expected`
/// once the string pieces of a path are joined.
fn every_cut(text: &str, expected: &[(&str, Value)]) {
    let mut cuts: Vec<Vec<&str>> = text
        .char_indices()
        .map(|(i, _)| vec![&text[..i], &text[i..]])
        .collect();
    cuts.push(chars(text));
    for deltas in cuts {
        let (events, status, whole) = read(&deltas);
        assert_eq!(status, Status::Complete, "{deltas:?}");
        assert!(whole);
        assert_eq!(joined(&events), expected, "{deltas:?}");
    }
}

/// Consecutive string events of one path joined into one.
fn joined(events: &[(String, Value)]) -> Vec<(&str, Value)> {
    let mut out: Vec<(&str, Value)> = Vec::new();
    for (path, value) in events {
        if let (Some((last, Value::String(text))), Value::String(more)) = (out.last_mut(), value)
            && *last == path.as_str()
        {
            text.push_str(more);
            continue;
        }
        out.push((path, value.clone()));
    }
    out
}

#[test]
fn an_object_becomes_v2_chunks() {
    let (events, status, whole) = read(&[r#"{"name": "Ann", "age": 42, "ok": true, "x": null}"#]);
    assert_eq!(
        events,
        [
            ("response.name".to_owned(), json!("Ann")),
            ("response.age".to_owned(), json!(42)),
            ("response.ok".to_owned(), json!(true)),
            ("response.x".to_owned(), Value::Null),
        ]
    );
    assert_eq!(status, Status::Complete);
    assert!(whole);
}

#[test]
fn nested_arrays_and_objects_have_v2_paths() {
    every_cut(
        r#"{"people":[{"name":"Ann","tags":["a","b"]},{"name":"Bo"}],"m":[[1,2],[3]]}"#,
        &[
            ("response.people[0].name", json!("Ann")),
            ("response.people[0].tags[0]", json!("a")),
            ("response.people[0].tags[1]", json!("b")),
            ("response.people[1].name", json!("Bo")),
            ("response.m[0][0]", json!(1)),
            ("response.m[0][1]", json!(2)),
            ("response.m[1][0]", json!(3)),
        ],
    );
}

#[test]
fn root_scalars_strings_and_arrays() {
    every_cut(r#""hi""#, &[("response", json!("hi"))]);
    every_cut("true", &[("response", json!(true))]);
    every_cut("null", &[("response", Value::Null)]);
    every_cut(
        " [1, \"a\"] ",
        &[("response[0]", json!(1)), ("response[1]", json!("a"))],
    );
    // A root number that runs to the end of the text is emitted by `finish`.
    let mut reader = TextReader::new();
    let mut events = Vec::new();
    reader.push("4", |_, _| panic!("not yet")).unwrap();
    reader.push("2", |_, _| panic!("not yet")).unwrap();
    assert_eq!(reader.status(), Status::Reading);
    assert!(reader.finish(|path, value| events.push((path.to_owned(), value))));
    assert_eq!(events, [("response".to_owned(), json!(42))]);
    assert_eq!(read(&["-"]).1, Status::Invalid);
    assert_eq!(read(&["tru"]).1, Status::Invalid);
    // A root literal or number is held until the text shows it is the whole document: only
    // whitespace to the end, or a closing fence.
    let mut reader = TextReader::new();
    reader.push("true", |_, _| panic!("not yet")).unwrap();
    reader.push(" \n", |_, _| panic!("not yet")).unwrap();
    let mut events = Vec::new();
    assert!(reader.finish(|path, value| events.push((path.to_owned(), value))));
    assert_eq!(events, [("response".to_owned(), json!(true))]);
    every_cut(
        "```json\n-1.5e3\n```\nDone.",
        &[("response", json!(-1500.0))],
    );
    let mut reader = TextReader::new();
    let mut events = Vec::new();
    for delta in ["7\n`", "`", "`", "\nmore"] {
        reader
            .push(delta, |path, value| events.push((path.to_owned(), value)))
            .unwrap();
    }
    assert_eq!(events, [("response".to_owned(), json!(7))]);
    assert_eq!(reader.status(), Status::Complete);
    // A number or literal that begins a sentence is not the document.
    for sentence in [
        "1 apple",
        "3. Ann",
        "42\n``",
        "null is the answer",
        "2\n`x`",
    ] {
        let (events, status, whole) = read(&chars(sentence));
        assert!(events.is_empty(), "{sentence}: {events:?}");
        assert!(!whole);
        assert!(
            matches!(status, Status::NotJson | Status::Invalid),
            "{sentence}: {status:?}"
        );
    }
    assert!(!read(&["1e"]).2);
}

#[test]
fn strings_arrive_one_piece_per_push_unescaped() {
    let (events, _, _) = read(&[r#"{"s": "ab\ncd"#, r#"ef\t\u00e9", "t": ""}"#]);
    assert_eq!(
        events,
        [
            ("response.s".to_owned(), json!("ab\ncd")),
            ("response.s".to_owned(), json!("ef\té")),
            ("response.t".to_owned(), json!("")),
        ]
    );
    // A push that only holds part of an escape makes no empty event.
    let (events, _, _) = read(&[r#"{"s": "a\"#, "u00", r#"e9"}"#]);
    assert_eq!(
        events,
        [
            ("response.s".to_owned(), json!("a")),
            ("response.s".to_owned(), json!("é")),
        ]
    );
    // An empty string is one event even when its quotes come apart.
    let (events, _, _) = read(&[r#"{"e": ""#, r#""}"#]);
    assert_eq!(events, [("response.e".to_owned(), json!(""))]);
}

#[test]
fn every_token_may_be_cut_anywhere() {
    every_cut(
        r#"{"s":"a\"b\\c\/d\b\f\n\r\t\u00e9\u20AC\ud83d\ude00 ok é😀","n":-1.25e2,"z":0,"f":0.5E+3,"g":-0.0e-1,"i":12345678901234567890,"t":true,"u":false,"v":null}"#,
        &[
            ("response.s", json!("a\"b\\c/d\u{8}\u{c}\n\r\té€😀 ok é😀")),
            ("response.n", json!(-125.0)),
            ("response.z", json!(0)),
            ("response.f", json!(500.0)),
            ("response.g", serde_json::from_str("-0.0e-1").unwrap()),
            ("response.i", json!(12345678901234567890u64)),
            ("response.t", json!(true)),
            ("response.u", json!(false)),
            ("response.v", Value::Null),
        ],
    );
}

#[test]
fn numbers_are_whole_and_exactly_what_serde_json_reads() {
    for text in [
        "-1.25e2",
        "0",
        "-0",
        "1E5",
        "1e-5",
        "123.456",
        "9007199254740993",
        "-9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
        "0.1",
    ] {
        let doc = format!("[{text}]");
        let (events, status, _) = read(&chars(&doc));
        assert_eq!(status, Status::Complete, "{text}");
        let expected: Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(
            events,
            [("response[0]".to_owned(), expected[0].clone())],
            "{text}"
        );
    }
    for bad in [
        "[01]", "[1.]", "[.5]", "[1e]", "[-]", "[1e+]", "[+1]", "[1.e3]", "[1e400]",
    ] {
        let (events, status, _) = read(&chars(bad));
        assert_eq!(status, Status::Invalid, "{bad}");
        assert!(events.is_empty(), "{bad}: {events:?}");
    }
}

#[test]
fn surrogate_pairs_wait_for_their_pair_and_lone_ones_are_invalid() {
    let text = r#"["\ud83d\ude00"]"#;
    for cut in 2..text.len() - 2 {
        let (events, status, _) = read(&[&text[..cut], &text[cut..]]);
        assert_eq!(status, Status::Complete);
        assert_eq!(
            joined(&events),
            [("response[0]", json!("😀"))],
            "cut at {cut}"
        );
        // The high half is never emitted alone.
        assert!(
            events
                .iter()
                .all(|(_, v)| !v.as_str().unwrap().contains('\u{fffd}'))
        );
    }
    for lone in [
        r#"["a\ud83d"]"#,
        r#"["a\ud83dx"]"#,
        r#"["a\ud83d\n"]"#,
        r#"["a\ud83d\u0041"]"#,
        r#"["a\ude00"]"#,
    ] {
        assert!(
            serde_json::from_str::<Value>(lone).is_err(),
            "serde_json agrees: {lone}"
        );
        let (events, status, _) = read(&chars(lone));
        assert_eq!(status, Status::Invalid, "{lone}");
        assert_eq!(joined(&events), [("response[0]", json!("a"))], "{lone}");
    }
}

#[test]
fn empty_containers_emit_nothing() {
    let (events, status, _) = read(&chars(r#"{"a": {}, "b": [], "c": [[], {}], "d": 1}"#));
    assert_eq!(status, Status::Complete);
    assert_eq!(events, [("response.d".to_owned(), json!(1))]);
}

#[test]
fn keys_with_special_characters_have_paths_that_parse_back() {
    let keys = [
        "a.b",
        "c[0]",
        "]",
        "q\"uote",
        "back\\slash",
        "it's",
        "",
        "sp ace",
        "ключ",
        "😀",
        "$x",
        "tab\t",
        "response",
    ];
    let mut doc = serde_json::Map::new();
    for (i, key) in keys.iter().enumerate() {
        doc.insert((*key).to_owned(), json!(i));
    }
    let text = serde_json::to_string(&Value::Object(doc)).unwrap();
    let (events, status, _) = read(&chars(&text));
    assert_eq!(status, Status::Complete);
    assert_eq!(events.len(), keys.len());
    for (i, (path, value)) in events.iter().enumerate() {
        assert_eq!(value, &json!(i));
        assert_eq!(
            parse(path).unwrap(),
            [
                Seg::Key(Cow::Borrowed("response")),
                Seg::Key(Cow::Borrowed(keys[i]))
            ],
            "{path}"
        );
    }
    assert_eq!(events[0].0, r#"response["a.b"]"#);
    assert_eq!(events[3].0, r#"response["q\"uote"]"#);
    assert_eq!(events[7].0, "response.sp ace");
    assert_eq!(events[8].0, "response.ключ");
}

#[test]
fn fences_and_whitespace_around_the_document_are_read_through() {
    let expected = [("response.a", json!(1))];
    for text in [
        "```json\n{\"a\":1}\n```",
        "```\n{\"a\":1}\n```\n",
        "  \n```JSON \r\n {\"a\":1}```",
        "```{\"a\":1}",
        "\n\n{\"a\":1}\n\nThat is the answer.",
    ] {
        every_cut(text, &expected);
    }
    // The fence and leading whitespace alone: still waiting.
    let (events, status, whole) = read(&["``", "`js", "on", "\n  "]);
    assert!(events.is_empty());
    assert_eq!(status, Status::Waiting);
    assert!(!whole);
}

#[test]
fn a_sentence_first_goes_silent_for_good() {
    for text in [
        "Sure! Here is the JSON: {\"a\": 1}",
        "Here {\"a\": 1}",
        "`{\"a\": 1}`",
        "``{\"a\": 1}",
        "```json but first {\"a\": 1}",
        "```json\n```\n{\"a\": 1}",
        "{'a': 1}",
    ] {
        let (events, status, whole) = read(&chars(text));
        assert!(events.is_empty(), "{text}: {events:?}");
        assert!(
            matches!(status, Status::NotJson | Status::Invalid),
            "{text}: {status:?}"
        );
        assert!(!whole);
    }
    assert_eq!(read(&["Sure"]).1, Status::NotJson);
    assert_eq!(read(&["```json", " sure"]).1, Status::NotJson);
    // Silent for good: a document after the sentence is not read.
    let mut reader = TextReader::new();
    reader.push("OK: ", |_, _| panic!("silent")).unwrap();
    reader.push("{\"a\": 1}", |_, _| panic!("silent")).unwrap();
    assert_eq!(reader.status(), Status::NotJson);
}

#[test]
fn invalid_json_in_the_middle_stops_the_events() {
    for (text, before) in [
        (r#"{"a": "x", "b": tru, "c": 1}"#, 1),
        (r#"{"a": "x" "b": 1}"#, 1),
        (r#"{"a": "x", "b": [1,], "c": 1}"#, 2),
        (r#"{"a": "x",}"#, 1),
        (r#"{"a" 1}"#, 0),
        (r#"{"a": "x\q"}"#, 1),
        ("{\"a\": \"x\u{1}\"}", 1),
        (r#"{"a": 1]"#, 1),
        (r#"[1}"#, 1),
        (r#"{"a": 1, 2}"#, 1),
        (r#"{"a": nul}"#, 0),
        (r#"{"a": truex}"#, 0),
        (r#"{"a": 1x}"#, 0),
        (r#"{"a": 12.5.1}"#, 0),
        ("truex", 0),
        ("42x", 0),
    ] {
        // One char per push: the events before the fault, then silence. In one push, the
        // same but for the piece of a string the fault is in (a piece goes out at the end of
        // its push).
        for (deltas, one_push) in [(chars(text), false), (vec![text], true)] {
            let (events, status, whole) = read(&deltas);
            assert_eq!(status, Status::Invalid, "{text}");
            assert!(!whole);
            let events = joined(&events);
            if one_push {
                assert!(events.len() <= before, "{text}: {events:?}");
            } else {
                assert_eq!(events.len(), before, "{text}: {events:?}");
            }
        }
    }
}

#[test]
fn text_after_the_document_is_ignored() {
    let (events, status, whole) = read(&["{\"a\":1}", "\n```\n", "{\"b\":2} and more \u{1}"]);
    assert_eq!(events, [("response.a".to_owned(), json!(1))]);
    assert_eq!(status, Status::Complete);
    assert!(whole);
}

#[test]
fn a_repeated_key_silences_the_reader_before_its_value() {
    // (text, the events before the repeated key)
    let cases: [(&str, Vec<(&str, Value)>); 6] = [
        (
            r#"{"n": 1, "n": 2, "m": "x"}"#,
            vec![("response.n", json!(1))],
        ),
        (
            r#"{"m": "ab", "m": "cd"}"#,
            vec![("response.m", json!("ab"))],
        ),
        (
            r#"{"xs": [1], "xs": [2]}"#,
            vec![("response.xs[0]", json!(1))],
        ),
        (
            r#"{"n": 1, "m": 2, "n": 3}"#,
            vec![("response.n", json!(1)), ("response.m", json!(2))],
        ),
        (
            r#"{"a": {"b": {"n": true, "k": null, "n": false}}}"#,
            vec![
                ("response.a.b.n", json!(true)),
                ("response.a.b.k", Value::Null),
            ],
        ),
        (
            r#"{"xs": [{"n": 1}, {"n": 2, "m": "y", "n": 3}]}"#,
            vec![
                ("response.xs[0].n", json!(1)),
                ("response.xs[1].n", json!(2)),
                ("response.xs[1].m", json!("y")),
            ],
        ),
    ];
    for (text, before) in cases {
        let mut cuts: Vec<Vec<&str>> = text
            .char_indices()
            .map(|(i, _)| vec![&text[..i], &text[i..]])
            .collect();
        cuts.push(chars(text));
        for deltas in cuts {
            let (events, status, whole) = read(&deltas);
            assert_eq!(status, Status::RepeatedKey, "{deltas:?}");
            assert!(!whole);
            assert_eq!(joined(&events), before, "{deltas:?}");
        }
    }
    // The same key in sibling objects, in nested ones, or after its object closed is not
    // repeated.
    let (events, status, _) = read(&[r#"[{"n": 1}, {"n": 2, "o": {"n": 3}}, {"n": 4}]"#]);
    assert_eq!(status, Status::Complete);
    assert_eq!(events.len(), 4);
}

#[test]
fn depth_over_the_maximum_is_an_error() {
    let ok = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    let (events, status, _) = read(&[&ok]);
    assert_eq!(status, Status::Complete);
    assert_eq!(parse(&events[0].0).unwrap().len(), MAX_DEPTH + 1);

    let deep = "[".repeat(MAX_DEPTH + 1);
    let mut reader = TextReader::new();
    assert_eq!(reader.push(&deep, |_, _| {}), Err(ReadError::TooDeep));
    assert_eq!(reader.status(), Status::TooLarge);
    // Silent from then on.
    reader.push("1]", |_, _| panic!("silent")).unwrap();
    let deep_objects = "{\"a\":".repeat(MAX_DEPTH + 1);
    let mut reader = TextReader::new();
    assert_eq!(
        chars(&deep_objects)
            .iter()
            .find_map(|c| reader.push(c, |_, _| {}).err()),
        Some(ReadError::TooDeep)
    );
}

#[test]
fn long_keys_and_paths_are_errors_and_keys_are_bounded_as_they_grow() {
    let fits = "k".repeat(MAX_PATH_BYTES - "response.".len());
    let (events, status, _) = read(&[&format!("{{\"{fits}\": 1}}")]);
    assert_eq!(status, Status::Complete);
    assert_eq!(events[0].0.len(), MAX_PATH_BYTES);

    let long = "k".repeat(MAX_PATH_BYTES);
    let mut reader = TextReader::new();
    // Refused before the key's closing quote, so a key never grows past the bound.
    assert_eq!(
        reader.push(&format!("{{\"{long}"), |_, _| {}),
        Err(ReadError::PathTooLong)
    );
    assert_eq!(reader.status(), Status::TooLarge);
    assert!(reader.key.capacity() <= MAX_PATH_BYTES);

    // A quoted key that fits plain but not quoted.
    let quoted = format!("{}.", "k".repeat(MAX_PATH_BYTES - "response.".len() - 1));
    let mut reader = TextReader::new();
    assert_eq!(
        reader.push(&format!("{{\"{quoted}\": 1}}"), |_, _| {}),
        Err(ReadError::PathTooLong)
    );

    // Many short keys deep down add up.
    let mut reader = TextReader::new();
    let step = format!("{{\"{}\":", "k".repeat(60));
    let error = (0..MAX_DEPTH).find_map(|_| reader.push(&step, |_, _| {}).err());
    assert_eq!(error, Some(ReadError::PathTooLong));

    // Array indexes too.
    let mut reader = TextReader::new();
    let prefix = format!(
        "{{\"{}\":[",
        "k".repeat(MAX_PATH_BYTES - "response.[0]".len())
    );
    reader.push(&prefix, |_, _| {}).unwrap();
    let mut seen = Vec::new();
    reader
        .push("1,", |path, _| seen.push(path.to_owned()))
        .unwrap();
    assert_eq!(seen[0].len(), MAX_PATH_BYTES);
    let error = (0..20).find_map(|_| reader.push("1,", |_, _| {}).err());
    assert_eq!(error, Some(ReadError::PathTooLong));
}

#[test]
fn long_numbers_are_errors() {
    let fits = "1".repeat(MAX_NUMBER_BYTES);
    let (events, status, _) = read(&[&format!("[{fits}]")]);
    assert_eq!(status, Status::Complete);
    assert_eq!(events.len(), 1);
    let mut reader = TextReader::new();
    let long = format!("[{}", "1".repeat(MAX_NUMBER_BYTES + 1));
    assert_eq!(
        chars(&long)
            .iter()
            .find_map(|c| reader.push(c, |_, _| {}).err()),
        Some(ReadError::NumberTooLong)
    );
    assert!(reader.number.capacity() <= 2 * MAX_NUMBER_BYTES);
}

#[test]
fn one_push_of_a_long_string_is_one_event() {
    let body = "x".repeat(10_000);
    let (events, _, _) = read(&[&format!("{{\"s\": \"{body}"), "\"}"]);
    assert_eq!(events, [("response.s".to_owned(), Value::String(body))]);
}

// --- Properties ---

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z \"\\\\\n\t\u{0}\u{1f}/é€😀.\\[\\]']{0,12}",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,6}",
        "[a-z.\\[\\]\"'\\\\ $é😀]{0,6}",
        any::<String>()
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        (-1000i64..1000, -30i32..30).prop_map(|(m, e)| Value::from(m as f64 * 10f64.powi(e))),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// `text` cut at random char boundaries into pieces of 1 to `max` characters.
fn cut(text: &str, seed: u64, max: u64) -> Vec<&str> {
    let mut rng = Rng::new(seed);
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let len = 1 + rng.below(max) as usize;
        let end = rest.char_indices().nth(len).map_or(rest.len(), |(i, _)| i);
        pieces.push(&rest[..end]);
        rest = &rest[end..];
    }
    pieces
}

/// What the events of a value rebuild: its empty objects and arrays (and containers holding
/// only those) left out, an array item so left out in the middle as `null`.
fn without_empties(value: &Value) -> Option<Value> {
    match value {
        Value::Array(items) => {
            let mut items: Vec<Option<Value>> = items.iter().map(without_empties).collect();
            while items.last().is_some_and(Option::is_none) {
                items.pop();
            }
            (!items.is_empty())
                .then(|| Value::Array(items.into_iter().map(Option::unwrap_or_default).collect()))
        }
        Value::Object(map) => {
            let map: serde_json::Map<String, Value> = map
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), without_empties(v)?)))
                .collect();
            (!map.is_empty()).then_some(Value::Object(map))
        }
        other => Some(other.clone()),
    }
}

/// The reference rebuilder: each path parsed by `partial::path`, strings appended, other
/// deltas set; gaps in arrays are `null`.
fn rebuild(events: &[(String, Value)]) -> Result<Option<Value>, String> {
    let mut root: Option<Value> = None;
    for (path, delta) in events {
        let segs = parse(path)?;
        let (first, rest) = segs.split_first().ok_or("empty path")?;
        if *first != Seg::Key(Cow::Borrowed("response")) {
            return Err(format!("{path} lacks the response prefix"));
        }
        let mut slot = root.get_or_insert(Value::Null);
        for seg in rest {
            slot = match seg {
                Seg::Key(key) => {
                    if !slot.is_object() {
                        *slot = Value::Object(serde_json::Map::new());
                    }
                    let map = slot.as_object_mut().unwrap();
                    map.entry(key.to_string()).or_insert(Value::Null)
                }
                Seg::Index(index) => {
                    if !slot.is_array() {
                        *slot = Value::Array(Vec::new());
                    }
                    let items = slot.as_array_mut().unwrap();
                    while items.len() <= *index {
                        items.push(Value::Null);
                    }
                    &mut items[*index]
                }
            };
        }
        match (slot, delta) {
            (Value::String(text), Value::String(more)) => text.push_str(more),
            (slot, delta) => *slot = delta.clone(),
        }
    }
    Ok(root)
}

/// The events of one path: consecutive, and all string pieces or exactly one other value.
fn check_paths(events: &[(String, Value)]) -> Result<(), String> {
    let mut runs: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut previous: Option<&str> = None;
    for (path, delta) in events {
        let (strings, others) = runs.entry(path).or_default();
        if previous != Some(path.as_str()) && *strings + *others > 0 {
            return Err(format!("{path} came back after another path"));
        }
        if delta.is_string() {
            *strings += 1;
        } else {
            *others += 1;
        }
        if *others > 1 || (*others == 1 && *strings > 0) {
            return Err(format!("{path} has mixed or repeated scalar events"));
        }
        previous = Some(path);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_value_cut_anywhere_rebuilds_exactly(
        value in json(),
        pretty in any::<bool>(),
        fence in any::<bool>(),
        seed in any::<u64>(),
        max in prop_oneof![Just(1u64), Just(3), Just(8), Just(64)],
    ) {
        let json = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            serde_json::to_string(&value).unwrap()
        };
        let text = if fence { format!(" \n```json\n{json}\n```\n") } else { json.clone() };
        let pieces = cut(&text, seed, max);
        let (events, status, whole) = read(&pieces);
        prop_assert_eq!(status, Status::Complete);
        prop_assert!(whole);
        check_paths(&events).map_err(TestCaseError::fail)?;
        // What serde_json reads from the same text (the same floats, to the last bit).
        let read_back: Value = serde_json::from_str(&json).unwrap();
        let rebuilt = rebuild(&events).map_err(TestCaseError::fail)?;
        prop_assert_eq!(rebuilt, without_empties(&read_back));
        // The writer of the testing server: its deltas read the same.
        let deltas = text_deltas(&value, seed);
        let pieces: Vec<&str> = deltas.iter().map(String::as_str).collect();
        let (again, status, _) = read(&pieces);
        prop_assert_eq!(status, Status::Complete);
        check_paths(&again).map_err(TestCaseError::fail)?;
        let rebuilt = rebuild(&again).map_err(TestCaseError::fail)?;
        prop_assert_eq!(rebuilt, without_empties(&read_back));
    }

    #[test]
    fn any_text_cut_anywhere_never_panics_nor_lies(text in prop_oneof![
        any::<String>(),
        "[\\[\\]{}\"\\\\:, 0-9.eE+\\-tfrualsnu`\n]{0,40}",
    ], seed in any::<u64>()) {
        let pieces = cut(&text, seed, 4);
        let mut reader = TextReader::new();
        let mut events = Vec::new();
        for piece in &pieces {
            if reader.push(piece, |path, value| events.push((path.to_owned(), value))).is_err() {
                break;
            }
        }
        let whole = reader.finish(|path, value| events.push((path.to_owned(), value)));
        check_paths(&events).map_err(TestCaseError::fail)?;
        rebuild(&events).map_err(TestCaseError::fail)?;
        if whole && let Ok(value) = serde_json::from_str::<Value>(text.trim()) {
            prop_assert_eq!(rebuild(&events).unwrap(), without_empties(&value));
        }
    }
}

// --- Into the real assembler ---

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Team {
    name: String,
    size: u32,
    score: f64,
    active: bool,
    lead: Member,
    members: Vec<Member>,
    tags: Vec<String>,
    note: Option<String>,
    kind: Kind,
    scores: BTreeMap<String, i64>,
    empty: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Member {
    #[serde(rename = "full.name")]
    full_name: String,
    age: u8,
    nick: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
enum Kind {
    Research,
    Product,
}

fn member() -> impl Strategy<Value = Member> {
    (text(), any::<u8>(), proptest::option::of(text())).prop_map(|(full_name, age, nick)| Member {
        full_name,
        age,
        nick,
    })
}

fn team() -> impl Strategy<Value = Team> {
    (
        (text(), any::<u32>(), -1e6f64..1e6, any::<bool>(), member()),
        (
            proptest::collection::vec(member(), 0..4),
            proptest::collection::vec(text(), 0..4),
            proptest::option::of(text()),
            any::<bool>(),
            proptest::collection::btree_map(key(), any::<i64>(), 0..4),
        ),
    )
        .prop_map(
            |((name, size, score, active, lead), (members, tags, note, research, scores))| Team {
                name,
                size,
                score,
                active,
                lead,
                members,
                tags,
                note,
                kind: if research {
                    Kind::Research
                } else {
                    Kind::Product
                },
                scores,
                empty: Vec::new(),
            },
        )
}

fn assemble(deltas: &[&str]) -> Result<Team, String> {
    let schema = serde_json::to_value(schemars::schema_for!(Team)).unwrap();
    let mut asm = Assembler::<Team>::new(Some(std::sync::Arc::new(schema)));
    let mut reader = TextReader::new();
    let mut failed = None;
    for delta in deltas {
        reader
            .push(delta, |path, value| {
                if failed.is_none()
                    && let Err(e) = asm.push(Some(path), &value)
                {
                    failed = Some(e);
                }
            })
            .map_err(|e| e.to_string())?;
    }
    if !reader.finish(|_, _| {}) {
        return Err(format!("incomplete: {:?}", reader.status()));
    }
    if let Some(e) = failed {
        return Err(e);
    }
    asm.finish()
        .map(|(team, _)| team)
        .map_err(|e| e.to_string())
}

#[test]
fn the_assembler_finishes_with_the_value() {
    let team = Team {
        name: "Core \"α\" 😀".into(),
        size: 7,
        score: -1.25e2,
        active: true,
        lead: Member {
            full_name: "Ann\nLee".into(),
            age: 41,
            nick: None,
        },
        members: vec![
            Member {
                full_name: "Bo".into(),
                age: 30,
                nick: Some("b".into()),
            },
            Member {
                full_name: String::new(),
                age: 0,
                nick: Some(String::new()),
            },
        ],
        tags: vec!["x".into(), String::new()],
        note: None,
        kind: Kind::Product,
        scores: BTreeMap::from([("a.b".into(), -3), ("".into(), 9)]),
        empty: Vec::new(),
    };
    let value = serde_json::to_value(&team).unwrap();
    for seed in 0..64 {
        let deltas = text_deltas(&value, seed);
        let pieces: Vec<&str> = deltas.iter().map(String::as_str).collect();
        assert_eq!(assemble(&pieces).unwrap(), team, "seed {seed}");
    }
    let text = serde_json::to_string_pretty(&value).unwrap();
    assert_eq!(
        assemble(&chars(&format!("```json\n{text}\n```"))).unwrap(),
        team
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_team_cut_anywhere_assembles_into_what_serde_json_reads(team in team(), seed in any::<u64>()) {
        let value = serde_json::to_value(&team).unwrap();
        let deltas = text_deltas(&value, seed);
        let pieces: Vec<&str> = deltas.iter().map(String::as_str).collect();
        let expected: Team = serde_json::from_str(&deltas.concat()).unwrap();
        prop_assert_eq!(assemble(&pieces).map_err(TestCaseError::fail)?, expected);
    }
}

#[test]
fn the_digest_of_a_text_does_not_depend_on_its_cuts() {
    use super::Digest;
    let text = r#"{"a": "Ann é😀 \"x\"", "n": [1, 2.5, -3e2], "o": {"k": null, "t": true}}"#;
    let whole = Digest::of_text(text).unwrap();
    for deltas in [chars(text), vec![&text[..7], &text[7..]]] {
        let mut digest = Digest::new();
        let mut reader = TextReader::new();
        for delta in deltas {
            reader
                .push(delta, |path, value| digest.event(path, &value))
                .unwrap();
        }
        assert!(reader.finish(|path, value| digest.event(path, &value)));
        assert_eq!(digest.value(), whole);
    }
    // Another value, another digest; so is a string split across two paths.
    assert_ne!(
        Digest::of_text(r#"{"a": "Ann", "n": [1, 2.5, -3e2]}"#),
        Some(whole)
    );
    assert_ne!(
        Digest::of_text(r#"{"a": "ab", "b": "c"}"#),
        Digest::of_text(r#"{"a": "a", "b": "bc"}"#)
    );
    assert_eq!(Digest::of_text("{\"a\": "), None);
}

#[test]
fn the_hash_of_bytes_does_not_depend_on_their_cuts() {
    use super::Fold;
    let text = "0123456789abcdefghijklmnopqrstuvwxyz, a longer run than two words".as_bytes();
    let whole = Fold::of(text);
    for cut in 0..=text.len() {
        for second in cut..=text.len() {
            let mut fold = Fold::new();
            fold.write(&text[..cut]);
            fold.write(&text[cut..second]);
            fold.write(&text[second..]);
            assert_eq!(fold.value(), whole, "cut at {cut} and {second}");
        }
    }
    // One byte more, one byte changed, or a zero byte more (the length counts): another hash.
    assert_ne!(Fold::of(&text[1..]), whole);
    let mut changed = text.to_vec();
    changed[20] ^= 1;
    assert_ne!(Fold::of(&changed), whole);
    assert_ne!(Fold::of(b"ab\0"), Fold::of(b"ab"));
    assert_ne!(Fold::of(b""), Fold::of(b"\0"));
}
