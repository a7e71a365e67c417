//! Tests of reassembly: the derive, the std impls, the assembler.

#![allow(clippy::unwrap_used, clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Assembler, Partial};
use crate::Error;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Person {
    /// Full name.
    name: String,
    role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Team {
    people: Vec<Person>,
    summary: String,
}

fn schema_of<T: JsonSchema>() -> Option<Arc<Value>> {
    Some(Arc::new(
        serde_json::to_value(schemars::schema_for!(T)).unwrap(),
    ))
}

/// Feeds `(path, delta)` chunks; returns what push returned for each.
fn feed<T: Partial + serde::de::DeserializeOwned>(
    asm: &mut Assembler<T>,
    chunks: &[(&str, Value)],
) -> Vec<Vec<String>> {
    chunks
        .iter()
        .map(|(path, delta)| {
            asm.push(Some(path), delta)
                .unwrap_or_else(|e| panic!("{path}: {e}"))
        })
        .collect()
}

fn assemble<T: Partial + serde::de::DeserializeOwned + JsonSchema>(
    chunks: &[(&str, Value)],
) -> Result<T, Error> {
    let mut asm = Assembler::<T>::new(schema_of::<T>());
    feed(&mut asm, chunks);
    asm.finish().map(|(value, _)| value)
}

#[test]
fn the_documented_team_stream() {
    let mut asm = Assembler::<Team>::new(schema_of::<Team>());
    let completed = feed(
        &mut asm,
        &[
            ("response.people[0].name", json!("An")),
            ("response.people[0].name", json!("n")),
            ("response.people[0].role", json!("CTO")),
            ("response.people[1].name", json!("Bo")),
            ("response.people[1].role", json!("docs")),
            ("response.summary", json!("Two ")),
            ("response.summary", json!("people.")),
        ],
    );
    assert_eq!(
        completed,
        [
            &[][..],
            &[],
            &["response.people[0].name"],
            &["response.people[0].role", "response.people[0]"],
            &["response.people[1].name"],
            &[
                "response.people[1].role",
                "response.people[1]",
                "response.people"
            ],
            &[]
        ]
    );
    let partial = asm.partial();
    assert_eq!(
        partial.people.as_ref().unwrap()[0].name.as_deref(),
        Some("Ann")
    );
    assert_eq!(
        serde_json::to_value(&*partial).unwrap(),
        json!({"people": [{"name": "Ann", "role": "CTO"}, {"name": "Bo", "role": "docs"}], "summary": "Two people."})
    );
    drop(partial);
    let (team, open) = asm.finish().unwrap();
    assert_eq!(open.as_deref(), Some("response.summary"));
    assert_eq!(team.people[1].role, "docs");
    assert_eq!(team.summary, "Two people.");
}

fn assert_err<T: Partial + serde::de::DeserializeOwned>(
    asm: &mut Assembler<T>,
    path: &str,
    delta: Value,
    needle: &str,
) {
    match asm.push(Some(path), &delta) {
        Err(reason) => assert!(reason.contains(needle), "{reason:?} should say {needle:?}"),
        Ok(_) => panic!("{path} <- {delta} should fail"),
    }
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Scalars {
    text: String,
    int: i64,
    small: u8,
    real: f64,
    single: f32,
    flag: bool,
    letter: char,
    big: u128,
}

#[test]
fn scalars_take_typed_deltas_or_their_text() {
    let value: Scalars = assemble(&[
        ("text", json!("a")),
        ("text", json!(1)),
        ("text", json!(true)),
        ("int", json!(-42)),
        ("small", json!("255")),
        ("real", json!(2.5)),
        ("single", json!("0.1")),
        ("flag", json!(false)),
        ("letter", json!("é")),
        ("big", json!("18446744073709551615")),
    ])
    .unwrap();
    assert_eq!(
        value,
        Scalars {
            text: "a1true".into(),
            int: -42,
            small: 255,
            real: 2.5,
            single: 0.1,
            flag: false,
            letter: 'é',
            big: u128::from(u64::MAX),
        }
    );
}

#[test]
fn numbers_and_booleans_split_over_chunks() {
    let mut asm = Assembler::<Scalars>::new(schema_of::<Scalars>());
    // Text is held back until the field completes: never `1` on the way to `1.25`.
    feed(&mut asm, &[("response.real", json!("1"))]);
    assert_eq!(asm.partial().real, None);
    feed(&mut asm, &[("response.real", json!("2.5"))]);
    assert_eq!(asm.partial().real, None);
    feed(
        &mut asm,
        &[("response.real", json!("e")), ("response.real", json!("-"))],
    );
    assert_eq!(asm.partial().real, None, "an incomplete text shows nothing");
    feed(
        &mut asm,
        &[
            ("response.real", json!("1")),
            ("int", json!(1)),
            ("int", json!(2)),
            ("flag", json!("tr")),
        ],
    );
    assert_eq!(asm.partial().real, Some(1.25));
    assert_eq!(
        asm.partial().int,
        Some(12),
        "typed digits of one path join too"
    );
    assert_eq!(asm.partial().flag, None);
    feed(&mut asm, &[("flag", json!("ue"))]);
    assert_eq!(
        asm.partial().flag,
        None,
        "whole only once the field completes"
    );
    feed(&mut asm, &[("text", json!("x"))]);
    assert_eq!(asm.partial().flag, Some(true));
}

#[test]
fn no_heuristic_coercion() {
    let mut asm = Assembler::<Scalars>::new(None);
    feed(&mut asm, &[("text", json!("123"))]);
    assert_eq!(asm.partial().text.as_deref(), Some("123"));
    assert_err(&mut asm, "int", json!("12a"), "is not an integer");
    let mut asm = Assembler::<Scalars>::new(None);
    assert_err(&mut asm, "int", json!(1.5), "is not an integer");
    assert_err(&mut asm, "flag", json!(1), "expected a boolean");
    assert_err(&mut asm, "flag", json!("yes"), "is not a boolean");
    assert_err(&mut asm, "small", json!(256), "out of range");
    assert_err(
        &mut asm,
        "small",
        json!("-1"),
        "is not a non-negative integer",
    );
    assert_err(&mut asm, "real", json!(true), "expected a number");
    assert_err(&mut asm, "real", json!("NaN"), "is not a number");
    assert_err(&mut asm, "text", json!({"a": 1}), "cannot take");
    assert_err(&mut asm, "text", json!(null), "cannot take");
}

#[test]
fn an_unfinished_number_is_an_error() {
    let mut asm = Assembler::<Scalars>::new(None);
    feed(&mut asm, &[("real", json!("1e"))]);
    assert_err(
        &mut asm,
        "int",
        json!(1),
        "stopped at `1e`, which is not a number",
    );

    let mut asm = Assembler::<Scalars>::new(None);
    feed(&mut asm, &[("text", json!("x")), ("real", json!("-"))]);
    match asm.finish() {
        Err(Error::Incomplete {
            reason, partial, ..
        }) => {
            assert!(reason.contains("`real` stopped at `-`"), "{reason}");
            assert_eq!(partial, json!({"text": "x"}));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_number_too_long_is_rejected() {
    let mut asm = Assembler::<Scalars>::new(None);
    let mut result = Ok(Vec::new());
    asm.push(Some("real"), &json!("0.")).unwrap();
    for _ in 0..1000 {
        result = asm.push(Some("real"), &json!("0"));
        if result.is_err() {
            break;
        }
    }
    assert!(result.unwrap_err().contains("longer than"));
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Containers {
    maybe: Option<String>,
    boxed: Box<Person>,
    list: Vec<Vec<u32>>,
    tree: BTreeMap<String, Person>,
    hash: HashMap<String, i32>,
    any: Value,
    object: serde_json::Map<String, Value>,
}

#[test]
fn containers_fill_in_order() {
    let mut asm = Assembler::<Containers>::new(schema_of::<Containers>());
    feed(
        &mut asm,
        &[
            ("maybe", json!("m")),
            ("boxed.name", json!("B")),
            ("boxed.role", json!("r")),
            ("list[0][0]", json!(1)),
            ("list[0][1]", json!("2")),
            ("list[1][0]", json!(3)),
            ("list[0][1]", json!("0")),
            ("tree.k1.name", json!("n")),
            ("tree[\"k.2\"].role", json!("r")),
            ("tree.k1.role", json!("q")),
            ("tree[\"k.2\"].name", json!("m")),
            ("hash.a", json!(-1)),
            ("any.x[0].y", json!("s")),
            ("any.x[0].y", json!("t")),
            ("any.x[1]", json!(1)),
            ("any.x[1]", json!("5")),
            ("any.z", json!(true)),
            ("object.o", json!(2)),
        ],
    );
    assert_err(
        &mut asm,
        "list[99999][0]",
        json!(1),
        "item [99999] arrived while the array has",
    );
    assert_err(&mut asm, "list.a", json!(1), "expected an index");
    assert_err(&mut asm, "tree[0]", json!(1), "expected a key");
    assert_err(&mut asm, "boxed[0]", json!(1), "Person has no index [0]");
    assert_err(&mut asm, "boxed", json!("x"), "takes deltas by field");
    assert_err(&mut asm, "maybe.x", json!("x"), "a string has no `x`");
    assert_err(&mut asm, "any.z.w", json!(1), "not an object");
    let (value, _) = asm.finish().unwrap();
    assert_eq!(
        value,
        Containers {
            maybe: Some("m".into()),
            boxed: Box::new(Person {
                name: "B".into(),
                role: "r".into()
            }),
            // `list[0][1]` came back after another path: a new value, not a continuation.
            list: vec![vec![1, 0], vec![3]],
            tree: [
                (
                    "k1".to_owned(),
                    Person {
                        name: "n".into(),
                        role: "q".into()
                    }
                ),
                (
                    "k.2".to_owned(),
                    Person {
                        name: "m".into(),
                        role: "r".into()
                    }
                ),
            ]
            .into(),
            hash: [("a".to_owned(), -1)].into(),
            any: json!({"x": [{"y": "st"}, 15], "z": true}),
            object: json!({"o": 2}).as_object().unwrap().clone(),
        }
    );
}

#[test]
fn a_null_delta_leaves_an_option_empty() {
    let mut asm = Assembler::<Containers>::new(None);
    feed(&mut asm, &[("maybe", json!(null)), ("any", json!(null))]);
    assert_eq!(asm.partial().maybe, None);
    assert_eq!(asm.partial().any, Some(Value::Null));
    assert_eq!(asm.so_far(), json!({"any": null}));
}

#[test]
fn missing_containers_and_options_are_completed_from_the_schema() {
    let mut asm = Assembler::<Containers>::new(schema_of::<Containers>());
    feed(
        &mut asm,
        &[("boxed.name", json!("B")), ("boxed.role", json!("r"))],
    );
    let (value, open) = asm.finish().unwrap();
    assert_eq!(open.as_deref(), Some("boxed.role"));
    assert_eq!(value.maybe, None);
    assert!(value.list.is_empty() && value.tree.is_empty() && value.hash.is_empty());
    assert_eq!(value.any, Value::Null);
}

#[test]
fn a_required_string_that_never_arrived_is_incomplete() {
    let mut asm = Assembler::<Team>::new(schema_of::<Team>());
    feed(&mut asm, &[("people[0].name", json!("A"))]);
    match asm.finish() {
        Err(Error::Incomplete {
            reason,
            source: None,
            partial,
        }) => {
            assert!(reason.contains("`summary`, `people[0].role`"), "{reason}");
            assert_eq!(partial, json!({"people": [{"name": "A"}]}));
        }
        other => panic!("{other:?}"),
    }
    // Without a schema: serde's missing field says it.
    let asm = Assembler::<Team>::new(None);
    assert!(matches!(asm.finish(), Err(Error::Incomplete { .. })));
}

#[test]
fn output_that_does_not_fit_is_an_output_error_with_its_path() {
    let mut asm = Assembler::<Scalars>::new(None);
    feed(
        &mut asm,
        &[
            ("text", json!("t")),
            ("int", json!(1)),
            ("small", json!(1)),
            ("real", json!(1)),
            ("single", json!(1)),
            ("flag", json!(true)),
            ("letter", json!("ab")),
            ("big", json!(1)),
        ],
    );
    match asm.finish() {
        Err(Error::Output {
            json,
            path,
            message,
        }) => {
            assert_eq!(path, "letter");
            assert!(message.contains("invalid"), "{message}");
            assert_eq!(json["letter"], "ab");
        }
        other => panic!("{other:?}"),
    }
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
#[serde(rename_all = "camelCase")]
struct Renamed {
    first_name: String,
    #[serde(rename = "LAST")]
    last_name: String,
    #[serde(rename(serialize = "ser", deserialize = "de"))]
    both: String,
    #[serde(alias = "nick")]
    nick_name: String,
    #[serde(skip)]
    cache: u32,
    #[serde(skip_deserializing)]
    derived: String,
    #[serde(default)]
    extra: Vec<String>,
    #[serde(default)]
    count: u32,
    #[serde(flatten)]
    address: Address,
    r#type: Kind,
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
struct Address {
    street_name: String,
    #[serde(flatten)]
    geo: Geo,
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Geo {
    city: String,
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct WithExtra {
    known: String,
    #[serde(flatten)]
    more: BTreeMap<String, u32>,
}

#[test]
fn a_flattened_map_takes_the_other_keys() {
    let value: WithExtra = assemble(&[
        ("known", json!("k")),
        ("response.a", json!(1)),
        ("b", json!("2")),
    ])
    .unwrap();
    assert_eq!(value.known, "k");
    assert_eq!(
        value.more,
        [("a".to_owned(), 1), ("b".to_owned(), 2)].into()
    );
    let mut asm = Assembler::<WithExtra>::new(None);
    assert_err(&mut asm, "c", json!("x"), "is not a non-negative integer");
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
#[serde(rename_all = "snake_case")]
enum Kind {
    VeryBig,
    #[serde(rename = "tiny!", alias = "wee")]
    Small,
    #[serde(skip)]
    #[allow(dead_code)]
    Hidden,
}

#[test]
fn serde_attributes_are_honoured() {
    let mut asm = Assembler::<Renamed>::new(schema_of::<Renamed>());
    feed(
        &mut asm,
        &[
            ("firstName", json!("F")),
            ("LAST", json!("L")),
            ("de", json!("D")),
            ("nick", json!("N")),
            ("STREET-NAME", json!("S")),
            ("city", json!("C")),
            ("type", json!("very_")),
            ("type", json!("big")),
        ],
    );
    for (path, needle) in [
        ("firstName.x", "a string has no"),
        ("first_name", "Renamed has no field `first_name`"),
        ("cache", "has no field `cache`"),
        ("derived", "has no field `derived`"),
        ("ser", "no field"),
    ] {
        assert_err(&mut asm, path, json!(1), needle);
    }
    let mut probe = Assembler::<Renamed>::new(None);
    assert_err(
        &mut probe,
        "type",
        json!("x"),
        "is not the start of a variant of Kind",
    );
    assert_err(&mut probe, "type", json!("hidden"), "is not the start");
    assert_eq!(
        asm.so_far(),
        json!({"firstName": "F", "LAST": "L", "de": "D", "nickName": "N", "STREET-NAME": "S", "city": "C", "type": "very_big"})
    );
    let (value, _) = asm.finish().unwrap();
    assert_eq!(
        value,
        Renamed {
            first_name: "F".into(),
            last_name: "L".into(),
            both: "D".into(),
            nick_name: "N".into(),
            cache: 0,
            derived: String::new(),
            extra: vec![],
            count: 0,
            address: Address {
                street_name: "S".into(),
                geo: Geo { city: "C".into() },
            },
            r#type: Kind::VeryBig,
        }
    );
    let value: Kind = {
        let mut asm = Assembler::<Kind>::new(schema_of::<Kind>());
        feed(
            &mut asm,
            &[("response", json!("we")), ("response", json!("e"))],
        );
        asm.finish().unwrap().0
    };
    assert_eq!(value, Kind::Small);
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct HasResponse {
    response: String,
    other: Vec<Inner>,
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Inner {
    response: Option<Box<Self>>,
    text: String,
}

#[test]
fn the_response_prefix_is_optional_and_a_field_named_response_works() {
    let value: HasResponse = assemble(&[
        ("response", json!("a")),
        ("response.response", json!("b")),
        ("other[0].text", json!("t0")),
        ("response.other[0].response.text", json!("t1")),
        ("other[0].response.response.text", json!("t2")),
        (
            "response.other[0].response.response.response.text",
            json!("t3"),
        ),
    ])
    .unwrap();
    let t1 = value.other[0].response.as_ref().unwrap();
    let t2 = t1.response.as_ref().unwrap();
    assert_eq!(value.response, "ab");
    assert_eq!(
        (
            value.other[0].text.as_str(),
            t1.text.as_str(),
            t2.text.as_str()
        ),
        ("t0", "t1", "t2")
    );
    assert_eq!(t2.response.as_ref().unwrap().text, "t3");

    // A root array, with and without the prefix.
    let list: Vec<String> = assemble(&[
        ("response[0]", json!("a")),
        ("[0]", json!("b")),
        ("[1]", json!("c")),
    ])
    .unwrap();
    assert_eq!(list, ["ab", "c"]);
}

#[test]
fn text_mode_concatenates_everything() {
    let mut asm = Assembler::<String>::new(None);
    for delta in [json!("Hel"), json!("lo "), json!(4), json!("!")] {
        assert!(asm.push(None, &delta).unwrap().is_empty());
    }
    assert_eq!(asm.so_far(), json!("Hello 4!"));
    assert_eq!(asm.finish().unwrap(), ("Hello 4!".to_owned(), None));
}

#[test]
fn paths_that_do_not_exist_are_errors() {
    let mut asm = Assembler::<Team>::new(None);
    assert_err(
        &mut asm,
        "response.nobody",
        json!("x"),
        "Team has no field `nobody` (its fields: people, summary)",
    );
    assert_err(
        &mut asm,
        "people[0].age",
        json!(1),
        "Person has no field `age`",
    );
    assert_err(&mut asm, "people..x", json!(1), "invalid json_path");
    assert_err(&mut asm, "", json!("x"), "takes deltas by field");
    assert!(asm.push(None, &json!("x")).is_err());
}

#[test]
fn snapshots_share_the_value_and_copy_only_when_held() {
    let mut asm = Assembler::<Team>::new(None);
    feed(&mut asm, &[("summary", json!("a"))]);
    let first = asm.partial();
    let first_ptr = Arc::as_ptr(&first);
    drop(first);
    feed(&mut asm, &[("summary", json!("b"))]);
    let second = asm.partial();
    assert!(
        std::ptr::eq(first_ptr, Arc::as_ptr(&second)),
        "no copy when nobody holds a snapshot"
    );
    assert_eq!(Arc::strong_count(&second), 2);
    feed(&mut asm, &[("summary", json!("c"))]);
    assert_eq!(
        second.summary.as_deref(),
        Some("ab"),
        "a held snapshot does not change"
    );
    assert_eq!(Arc::strong_count(&second), 1);
    let third = asm.partial();
    assert!(!Arc::ptr_eq(&second, &third));
    assert_eq!(third.summary.as_deref(), Some("abc"));
}

/// Counts clones of a leaf, to show that a push copies nothing when no snapshot is held.
#[derive(Debug, Default, Serialize)]
struct Counted(String);

static CLONES: AtomicUsize = AtomicUsize::new(0);

impl Clone for Counted {
    fn clone(&self) -> Self {
        CLONES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Counted(self.0.clone())
    }
}

#[derive(Debug, Deserialize)]
struct CountedLeaf(#[allow(dead_code)] String);

impl Partial for CountedLeaf {
    type Partial = Counted;
    fn __apply(
        slot: &mut Option<Counted>,
        path: &[super::Seg<'_>],
        delta: &Value,
        cx: &mut super::Cx,
    ) -> Result<(), String> {
        let mut text = slot.take().map(|c| c.0);
        let result = String::__apply(&mut text, path, delta, cx);
        *slot = text.map(Counted);
        result
    }
}

#[test]
fn pushes_without_held_snapshots_never_clone() {
    let mut asm = Assembler::<Vec<BTreeMap<String, Option<Box<CountedLeaf>>>>>::new(None);
    let before = CLONES.load(std::sync::atomic::Ordering::SeqCst);
    for i in 0..200 {
        asm.push(Some(&format!("[{}].k{}", i / 10, i % 3)), &json!("x"))
            .unwrap();
        let snapshot = asm.partial();
        drop(snapshot);
    }
    assert_eq!(CLONES.load(std::sync::atomic::Ordering::SeqCst), before);
    let held = asm.partial();
    asm.push(Some("[0].k0"), &json!("y")).unwrap();
    assert!(
        CLONES.load(std::sync::atomic::Ordering::SeqCst) > before,
        "a held snapshot is copied"
    );
    drop(held);
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate", partial = "WrapperSoFar")]
struct Wrapper<T, U = String> {
    items: Vec<T>,
    label: U,
}

#[test]
fn generic_types_and_a_custom_partial_name() {
    let partial: WrapperSoFar<Person> = WrapperSoFar {
        items: Some(vec![]),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&partial).unwrap(),
        json!({"items": []})
    );
    assert!(format!("{partial:?}").starts_with("WrapperSoFar { items: Some([]), label: None"));
    let value: Wrapper<Person> = assemble(&[
        ("items[0].name", json!("n")),
        ("items[0].role", json!("r")),
        ("label", json!("l")),
    ])
    .unwrap();
    assert_eq!(value.items[0].name, "n");
    assert_eq!(value.label, "l");
}

#[test]
fn partials_serialize_to_the_json_known_so_far() {
    let partial = PartialTeam {
        people: Some(vec![PartialPerson {
            name: Some("A".into()),
            role: None,
        }]),
        summary: None,
    };
    assert_eq!(
        serde_json::to_string(&partial).unwrap(),
        r#"{"people":[{"name":"A"}]}"#
    );
    let copy = partial.clone();
    assert_eq!(format!("{copy:?}"), format!("{partial:?}"));
    assert_eq!(
        serde_json::to_string(&PartialTeam::default()).unwrap(),
        "{}"
    );
}

#[test]
fn long_streams_cost_linear_time() {
    // Quadratic work (re-serializing, re-parsing or copying the value per chunk) would take
    // minutes here; linear work takes well under a second even unoptimized.
    let mut asm = Assembler::<Team>::new(schema_of::<Team>());
    let started = std::time::Instant::now();
    for i in 0..20_000 {
        asm.push(Some(&format!("response.people[{i}].name")), &json!("n"))
            .unwrap();
        asm.push(Some(&format!("response.people[{i}].role")), &json!("r"))
            .unwrap();
        drop(asm.partial());
    }
    let delta = json!("0123456789");
    for _ in 0..100_000 {
        asm.push(Some("response.summary"), &delta).unwrap();
        drop(asm.partial());
    }
    let (team, _) = asm.finish().unwrap();
    assert_eq!((team.people.len(), team.summary.len()), (20_000, 1_000_000));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

mod props {
    //! Property tests: any value, chunked like the service, reassembles exactly; no input
    //! makes a push panic.

    use proptest::prelude::*;

    use super::*;

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
        (any::<bool>(), text(), finite::<f32>(f32::is_finite))
            .prop_map(|(on, label, weight)| Leaf { on, label, weight })
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

    /// A small deterministic generator for the chunker's choices.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn coin(&mut self) -> bool {
            self.next() & 1 == 1
        }
    }

    /// Splits `text` at random char boundaries into 1..=4 pieces.
    fn split(text: &str, rng: &mut Rng) -> Vec<String> {
        let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).skip(1).collect();
        let mut cuts: Vec<usize> = (0..rng.below(4))
            .filter(|_| !bounds.is_empty())
            .map(|_| bounds[rng.below(bounds.len())])
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut pieces = Vec::new();
        let mut start = 0;
        for cut in cuts {
            pieces.push(text[start..cut].to_owned());
            start = cut;
        }
        pieces.push(text[start..].to_owned());
        pieces
    }

    fn key_segment(key: &str, rng: &mut Rng) -> String {
        let plain = !key.is_empty()
            && !key.contains(['.', '[', ']', '"', '\'', '\\'])
            && !key.starts_with('$');
        if plain && rng.coin() {
            format!(".{key}")
        } else {
            let escaped = key.replace('\\', "\\\\").replace('"', "\\\"");
            format!("[\"{escaped}\"]")
        }
    }

    /// Turns a JSON value into chunks the way the service streams it: one leaf after the
    /// other, strings split anywhere, numbers and booleans typed or as (split) text, nothing
    /// for empty arrays, empty objects and nulls.
    fn chunk(value: &Value, path: &mut String, rng: &mut Rng, out: &mut Vec<(String, Value)>) {
        let joined = |path: &str| path.strip_prefix('.').unwrap_or(path).to_owned();
        match value {
            Value::Null => {}
            Value::String(s) => {
                for piece in split(s, rng) {
                    out.push((joined(path), Value::String(piece)));
                }
            }
            Value::Number(_) | Value::Bool(_) => {
                if rng.coin() {
                    out.push((joined(path), value.clone()));
                } else {
                    for piece in split(&value.to_string(), rng) {
                        out.push((joined(path), Value::String(piece)));
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    chunk(item, path, rng, out);
                    path.truncate(len);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    let len = path.len();
                    path.push_str(&key_segment(key, rng));
                    chunk(item, path, rng, out);
                    path.truncate(len);
                }
            }
        }
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
            (Value::Object(s), Value::Object(f)) => {
                s.iter().try_for_each(|(k, v)| match f.get(k) {
                    Some(fv) => consistent(v, fv),
                    None => Err(format!("key {k:?} is not in the final value")),
                })
            }
            (s, f) => Err(format!("{s} does not lead to {f}")),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn chunked_values_reassemble_exactly(original in doc(), seed in any::<u64>(), prefix in any::<bool>()) {
            let json = serde_json::to_value(&original).unwrap();
            let mut rng = Rng(seed | 1);
            let mut chunks = Vec::new();
            chunk(&json, &mut String::new(), &mut rng, &mut chunks);

            let mut asm = Assembler::<Doc>::new(schema_of::<Doc>());
            let mut previous: Option<String> = None;
            for (path, delta) in &chunks {
                let path = match (prefix, path.starts_with('[')) {
                    (false, _) => path.clone(),
                    (true, true) => format!("response{path}"),
                    (true, false) => format!("response.{path}"),
                };
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
}

#[test]
fn items_the_service_skipped_as_empty_are_filled_with_their_empty_value() {
    // `[[], ["x"]]` and `[null, 2]` stream as chunks for item [1] only.
    let nested = assemble::<Vec<Vec<String>>>(&[("response[1][0]", json!("x"))]).unwrap();
    assert_eq!(nested, vec![Vec::<String>::new(), vec!["x".to_owned()]]);
    let values = assemble::<Value>(&[("response.a[1]", json!(2))]).unwrap();
    assert_eq!(values, json!({"a": [null, 2]}));
}
