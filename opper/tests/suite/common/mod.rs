//! Types and schemas shared by the tests of `opper::testing` (the generator, the chunker, the
//! server on both API versions).

use serde::Deserialize;

/// A team as a task might return it: nested structs, an enum, options, a map and a recursion.
#[derive(Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
pub(crate) struct Team {
    people: Vec<Person>,
    summary: String,
    size: Option<u32>,
    rating: f32,
    active: bool,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
pub(crate) struct Person {
    /// Full name
    name: String,
    age: u8,
    email: Option<String>,
    role: Role,
    skills: Vec<String>,
    scores: std::collections::HashMap<String, f64>,
    manager: Option<Box<Person>>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
pub(crate) enum Role {
    Engineer,
    Manager,
    Other { title: String },
}

/// An output schema with a `$ref`, an array, a bound and required fields.
#[allow(dead_code)]
pub(crate) const SCHEMA: &str = r##"{
    "type": "object",
    "properties": {
        "people": {"type": "array", "items": {"$ref": "#/$defs/Person"}},
        "summary": {"type": "string"},
        "count": {"type": "integer", "minimum": 0}
    },
    "required": ["people", "summary", "count"],
    "$defs": {"Person": {"type": "object", "properties": {
        "name": {"type": "string"}, "role": {"type": "string"}
    }, "required": ["name", "role"]}}
}"##;
