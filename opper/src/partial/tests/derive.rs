//! What the derive honours: serde's attributes, flattening, enums, generics, a custom name,
//! and the JSON of a partial.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{PartialPerson, PartialTeam, Person, assemble, assert_err, feed, schema_of};
use crate::partial::Assembler;

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, crate::Partial)]
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
    let value: OneKind = {
        let mut asm = Assembler::<OneKind>::new(schema_of::<OneKind>());
        feed(
            &mut asm,
            &[
                ("response.kind", json!("we")),
                ("response.kind", json!("e")),
            ],
        );
        asm.finish().unwrap().0
    };
    assert_eq!(value.kind, Kind::Small);
}

/// A unit enum is streamed inside a struct: its partial form, the enum, has no value before
/// its variant is whole.
#[derive(Debug, PartialEq, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct OneKind {
    kind: Kind,
}

#[test]
fn a_unit_enum_is_its_own_partial_shown_only_whole() {
    let mut asm = Assembler::<Renamed>::new(None);
    feed(&mut asm, &[("type", json!("very_")), ("type", json!("bi"))]);
    // Its own type: `Option<Kind>` in the parent, never a variant on its way to another.
    let kind: &Option<Kind> = &asm.partial().r#type;
    assert_eq!(*kind, None);
    feed(&mut asm, &[("type", json!("g")), ("city", json!("C"))]);
    assert_eq!(asm.partial().r#type, Some(Kind::VeryBig));
    // An alias gives the variant; a `Vec` of them fills item by item, each whole.
    let mut list = Assembler::<Vec<Kind>>::new(None);
    feed(&mut list, &[("[0]", json!("we")), ("[0]", json!("e"))]);
    assert!(list.partial().is_empty());
    feed(&mut list, &[("[1]", json!("very_big"))]);
    assert_eq!(*list.partial(), [Kind::Small]);
    // A skipped item of an enum has no empty value to show: the stream is wrong.
    assert_err(&mut list, "[5]", json!("tiny!"), "never empty");
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

/// Two types that hold each other: the derive's field bounds (`PartialField`) must not make
/// either impl need itself.
#[derive(Debug, PartialEq, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Thread {
    replies: Vec<Reply>,
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Reply {
    text: String,
    thread: Option<Box<Thread>>,
}

#[test]
fn mutually_recursive_types_derive_partial() {
    let value: Thread = assemble(&[
        ("replies[0].text", json!("a")),
        ("replies[0].thread.replies[0].text", json!("b")),
        ("replies[0].thread.replies[0].thread", json!(null)),
    ])
    .unwrap();
    let inner = value.replies[0].thread.as_ref().unwrap();
    assert_eq!(inner.replies[0].text, "b");
}
