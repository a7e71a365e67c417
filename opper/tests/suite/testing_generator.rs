//! The values the testing server generates from a JSON Schema ([`opper::testing::Generator`]).

#![allow(clippy::unwrap_used)]

use crate::common::Team;
use opper::testing::{Generator, generate};
use serde_json::{Value, json};

/// A small validator for the keywords the generator supports; returns the failing path.
fn validate(root: &Value, schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    let fail = |why: &str| Err(format!("{path}: {why} (value {value}, schema {schema})"));
    let object = match schema {
        Value::Bool(true) => return Ok(()),
        Value::Bool(false) => return fail("false schema"),
        Value::Object(object) => object,
        _ => return fail("schema is not an object"),
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        let target = root.pointer(reference.trim_start_matches('#')).unwrap();
        validate(root, target, value, path)?;
    }
    if let Some(constant) = object.get("const")
        && constant != value
    {
        return fail("const");
    }
    if let Some(Value::Array(options)) = object.get("enum")
        && !options.contains(value)
    {
        return fail("enum");
    }
    if let Some(Value::Array(branches)) = object.get("allOf") {
        for branch in branches {
            validate(root, branch, value, path)?;
        }
    }
    if let Some(Value::Array(branches)) = object.get("anyOf")
        && !branches
            .iter()
            .any(|b| validate(root, b, value, path).is_ok())
    {
        return fail("anyOf");
    }
    if let Some(Value::Array(branches)) = object.get("oneOf") {
        let matching = branches
            .iter()
            .filter(|b| validate(root, b, value, path).is_ok())
            .count();
        if matching != 1 {
            return fail("oneOf");
        }
    }
    if let Some(ty) = object.get("type") {
        let types: Vec<&str> = match ty {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        });
        if !ok {
            return fail("type");
        }
    }
    if let Some(map) = value.as_object() {
        let properties = object.get("properties").and_then(Value::as_object);
        if let Some(required) = object.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    return fail(&format!("missing required {name}"));
                }
            }
        }
        for (key, item) in map {
            let child = format!("{path}.{key}");
            match properties.and_then(|p| p.get(key)) {
                Some(schema) => validate(root, schema, item, &child)?,
                None => match object.get("additionalProperties") {
                    Some(Value::Bool(false)) => return fail("additional property"),
                    Some(schema @ Value::Object(_)) => validate(root, schema, item, &child)?,
                    _ => {}
                },
            }
        }
        if let Some(min) = object.get("minProperties").and_then(Value::as_u64)
            && (map.len() as u64) < min
        {
            return fail("minProperties");
        }
    }
    if let Some(items) = value.as_array() {
        let prefix = object.get("prefixItems").and_then(Value::as_array);
        for (i, item) in items.iter().enumerate() {
            let child = format!("{path}[{i}]");
            match prefix.and_then(|p| p.get(i)) {
                Some(schema) => validate(root, schema, item, &child)?,
                None => {
                    if let Some(schema) = object.get("items") {
                        validate(root, schema, item, &child)?;
                    }
                }
            }
        }
        let len = items.len() as u64;
        if object
            .get("minItems")
            .and_then(Value::as_u64)
            .is_some_and(|m| len < m)
        {
            return fail("minItems");
        }
        if object
            .get("maxItems")
            .and_then(Value::as_u64)
            .is_some_and(|m| len > m)
        {
            return fail("maxItems");
        }
        if object.get("uniqueItems") == Some(&Value::Bool(true)) {
            for (i, a) in items.iter().enumerate() {
                if items[..i].contains(a) {
                    return fail("uniqueItems");
                }
            }
        }
    }
    if let Some(text) = value.as_str() {
        let len = text.chars().count() as u64;
        if object
            .get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len < m)
        {
            return fail("minLength");
        }
        if object
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len > m)
        {
            return fail("maxLength");
        }
        let ok = match object.get("format").and_then(Value::as_str) {
            Some("date-time") => {
                text.len() == 20 && text.ends_with('Z') && text.as_bytes()[10] == b'T'
            }
            Some("date") => text.len() == 10 && text.as_bytes()[4] == b'-',
            Some("uuid") => text.len() == 36 && text.matches('-').count() == 4,
            Some("email") => text.contains('@'),
            _ => true,
        };
        if !ok {
            return fail("format");
        }
    }
    if let Some(number) = value.as_f64() {
        let get = |key: &str| object.get(key).and_then(Value::as_f64);
        if get("minimum").is_some_and(|m| number < m)
            || get("maximum").is_some_and(|m| number > m)
            || get("exclusiveMinimum").is_some_and(|m| number <= m)
            || get("exclusiveMaximum").is_some_and(|m| number >= m)
        {
            return fail("range");
        }
        if let Some(step) = get("multipleOf") {
            let ratio = number / step;
            if (ratio - ratio.round()).abs() > 1e-9 {
                return fail("multipleOf");
            }
        }
    }
    Ok(())
}

fn assert_valid(schema: &Value) {
    for seed in 0..25 {
        let value = Generator::new().seed(seed).generate(schema);
        if let Err(why) = validate(schema, schema, &value, "$") {
            panic!("seed {seed}: {why}");
        }
    }
}

#[test]
fn generates_valid_values_for_scalars() {
    assert_valid(&json!({"type": "string"}));
    assert_valid(&json!({"type": "integer"}));
    assert_valid(&json!({"type": "number"}));
    assert_valid(&json!({"type": "boolean"}));
    assert_valid(&json!({"type": "null"}));
    assert_valid(&json!({"type": ["string", "null"]}));
    assert_valid(&json!({"type": ["null", "integer"]}));
    assert_valid(&json!({"type": "integer", "minimum": -5, "maximum": -3}));
    assert_valid(&json!({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 2}));
    assert_valid(&json!({"type": "integer", "minimum": 1000}));
    assert_valid(&json!({"type": "integer", "maximum": -1000}));
    assert_valid(&json!({"type": "integer", "minimum": 10, "maximum": 100, "multipleOf": 7}));
    assert_valid(&json!({"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255}));
    assert_valid(&json!({"type": "number", "minimum": 0.1, "maximum": 0.2}));
    assert_valid(&json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}));
    assert_valid(&json!({"type": "number", "minimum": 2.5}));
    assert_valid(&json!({"type": "number", "multipleOf": 0.25, "minimum": 1, "maximum": 2}));
    assert_valid(&json!({"type": "string", "minLength": 40}));
    assert_valid(&json!({"type": "string", "maxLength": 4}));
    assert_valid(&json!({"type": "string", "minLength": 3, "maxLength": 3}));
    for format in [
        "date-time",
        "date",
        "time",
        "uuid",
        "email",
        "uri",
        "hostname",
        "ipv4",
    ] {
        assert_valid(&json!({"type": "string", "format": format}));
    }
    assert_valid(&json!({"enum": ["red", "green", "blue"]}));
    assert_valid(&json!({"type": "string", "enum": [null, "only"]}));
    assert_valid(&json!({"const": {"fixed": [1, 2]}}));
    assert_valid(&json!({}));
    assert_valid(&json!(true));
}

#[test]
fn generates_valid_values_for_structures() {
    assert_valid(&json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "Full name"},
            "age": {"type": "integer", "minimum": 0},
            "nickname": {"anyOf": [{"type": "null"}, {"type": "string"}]},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 4},
            "scores": {"type": "array", "items": {"type": "number"}, "maxItems": 1},
            "flags": {"type": "array", "items": {"type": "boolean"}, "uniqueItems": true},
            "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": false},
            "meta": {"type": "object", "additionalProperties": {"type": "integer"}},
            "empty": {"type": "object", "properties": {}, "additionalProperties": false},
            "when": {"type": "string", "format": "date-time"}
        },
        "required": ["name", "age", "tags"],
        "additionalProperties": false
    }));
    assert_valid(&json!({
        "type": "object",
        "properties": {"kind": {"oneOf": [
            {"type": "object", "properties": {"circle": {"type": "number"}}, "required": ["circle"], "additionalProperties": false},
            {"type": "object", "properties": {"square": {"type": "integer"}}, "required": ["square"], "additionalProperties": false}
        ]}},
        "required": ["kind"]
    }));
    assert_valid(&json!({
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "integer", "minimum": 5}}, "required": ["b"]}
        ]
    }));
    assert_valid(&json!({"type": "object", "required": ["x"], "minProperties": 1}));
    assert_valid(&json!({"type": "object", "minProperties": 2}));
}

#[test]
fn follows_references_and_stops_recursion() {
    let defs = json!({
        "$ref": "#/$defs/Team",
        "$defs": {
            "Team": {"type": "object", "properties": {
                "people": {"type": "array", "items": {"$ref": "#/$defs/Person"}},
                "lead": {"$ref": "#/$defs/Person", "description": "the lead"}
            }, "required": ["people"]},
            "Person": {"type": "object", "properties": {
                "name": {"type": "string"},
                "email": {"type": "string", "format": "email"},
                "id": {"type": "string", "format": "uuid"}
            }, "required": ["name"]}
        }
    });
    assert_valid(&defs);
    let value = generate(&defs, 3);
    assert_eq!(value["people"].as_array().unwrap().len(), 2);
    assert!(value["lead"]["name"].is_string());

    let definitions = json!({
        "type": "object",
        "properties": {"root": {"$ref": "#/definitions/Node"}},
        "definitions": {"Node": {"type": "object", "properties": {
            "label": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/definitions/Node"}},
            "parent": {"anyOf": [{"$ref": "#/definitions/Node"}, {"type": "null"}]}
        }, "required": ["label", "children"]}}
    });
    assert_valid(&definitions);
    let deep = Generator::new().max_depth(3).generate(&definitions);
    assert!(deep.to_string().len() < 100_000);
}

#[test]
fn values_from_schemars_schemas_deserialize() {
    let schema = serde_json::to_value(schemars::schema_for!(Team)).unwrap();
    for seed in 0..20 {
        let value = generate(&schema, seed);
        validate(&schema, &schema, &value, "$").unwrap();
        let team: Result<Team, _> = serde_json::from_value(value.clone());
        assert!(team.is_ok(), "seed {seed}: {value}: {:?}", team.err());
    }
}

#[test]
fn generation_is_deterministic_and_wordy() {
    let schema = json!({"type": "object", "properties": {"summary": {"type": "string"}}});
    let a = generate(&schema, 11);
    assert_eq!(a, generate(&schema, 11));
    let summary = a["summary"].as_str().unwrap();
    assert!(summary.split(' ').count() >= 3, "{summary}");
    let different = (0..10).any(|seed| generate(&schema, seed) != a);
    assert!(different);
}
