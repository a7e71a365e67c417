//! Tests of reassembly: the derive, the std impls, the assembler.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

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
    Some(Arc::new(serde_json::to_value(schemars::schema_for!(T)).unwrap()))
}

/// Feeds `(path, delta)` chunks; returns what push returned for each.
fn feed<T: Partial + serde::de::DeserializeOwned>(
    asm: &mut Assembler<T>,
    chunks: &[(&str, Value)],
) -> Vec<Option<String>> {
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
    assert_eq!(partial.people.as_ref().unwrap()[0].name.as_deref(), Some("Ann"));
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
