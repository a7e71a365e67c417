//! Containers: options, boxes, lists, maps and `Value`s, filled in order and completed at the
//! end from the schema.

use std::collections::{BTreeMap, HashMap};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Person, Team, assemble, assert_err, feed, schema_of};
use crate::error::Error;
use crate::partial::Assembler;

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
            ("list[0][1]", json!("2")),
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
            // `list[0][1]` came back after another path with the value it shows: accepted (a
            // value once shown is never changed, so another value would be refused).
            list: vec![vec![1, 2], vec![3]],
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
fn items_the_service_skipped_as_empty_are_filled_with_their_empty_value() {
    // `[[], ["x"]]` and `[null, 2]` stream as chunks for item [1] only.
    let nested = assemble::<Vec<Vec<String>>>(&[("response[1][0]", json!("x"))]).unwrap();
    assert_eq!(nested, vec![Vec::<String>::new(), vec!["x".to_owned()]]);
    let values = assemble::<Value>(&[("response.a[1]", json!(2))]).unwrap();
    assert_eq!(values, json!({"a": [null, 2]}));
}

#[test]
fn the_largest_index_is_refused_not_a_panic() {
    // `index - len + 1` items to create overflowed for the largest index.
    let last = usize::MAX;
    let mut asm = Assembler::<Containers>::new(None);
    assert_err(
        &mut asm,
        &format!("list[{last}]"),
        json!([1]),
        &format!("item [{last}] arrived while the array has 0 items"),
    );
    assert_err(
        &mut asm,
        &format!("any[{last}]"),
        json!(1),
        &format!("item [{last}] arrived while the array has 0 items"),
    );
}
