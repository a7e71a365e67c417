//! Paths: the documented stream, the optional `response` prefix, text mode, bad paths.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::{Team, assemble, assert_err, feed, schema_of};
use crate::partial::Assembler;

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
        vec![
            None,
            None,
            Some("response.people[0].name".into()),
            Some("response.people[0].role".into()),
            Some("response.people[1].name".into()),
            Some("response.people[1].role".into()),
            None
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
        assert_eq!(asm.push(None, &delta).unwrap(), None);
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
