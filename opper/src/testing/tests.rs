#![allow(clippy::unwrap_used)]

use serde_json::{Map, Value, json};

use super::chunks::split_text;
use super::schema::Rng;
use super::*;

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

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Person {
    /// Full name
    name: String,
    age: u8,
    email: Option<String>,
    role: Role,
    skills: Vec<String>,
    scores: std::collections::HashMap<String, f64>,
    manager: Option<Box<Person>>,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
enum Role {
    Engineer,
    Manager,
    Other { title: String },
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Team {
    people: Vec<Person>,
    summary: String,
    size: Option<u32>,
    rating: f32,
    active: bool,
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

/// Reassembles chunks into a value, as a client does (reference implementation for tests).
fn reassemble(chunks: &[Chunk]) -> Value {
    let mut text: Vec<(String, String)> = Vec::new();
    let mut root = Value::Null;
    for chunk in chunks {
        let path = chunk.json_path.clone().unwrap_or_default();
        let path = path.strip_prefix("response").unwrap_or(&path).to_owned();
        let delta = chunk.delta.clone().unwrap();
        match delta {
            Value::String(piece) => match text.iter_mut().find(|(p, _)| *p == path) {
                Some((_, acc)) => acc.push_str(&piece),
                None => text.push((path, piece)),
            },
            other => set(&mut root, &path, other),
        }
    }
    for (path, acc) in text {
        set(&mut root, &path, Value::String(acc));
    }
    root
}

fn set(root: &mut Value, path: &str, value: Value) {
    let mut current = root;
    let mut rest = path.trim_start_matches('.');
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').unwrap();
            let index: usize = after[..end].parse().unwrap();
            rest = after[end + 1..].trim_start_matches('.');
            if !current.is_array() {
                *current = Value::Array(Vec::new());
            }
            let items = current.as_array_mut().unwrap();
            while items.len() <= index {
                items.push(Value::Null);
            }
            current = &mut items[index];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let key = rest[..end].to_owned();
            rest = rest[end..].trim_start_matches('.');
            if !current.is_object() {
                *current = Value::Object(Map::new());
            }
            current = current
                .as_object_mut()
                .unwrap()
                .entry(key)
                .or_insert(Value::Null);
        }
    }
    *current = value;
}

/// The value without what a stream never announces: nulls, empty arrays and objects.
fn prune(value: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Array(items) if items.is_empty() => None,
        Value::Object(map) if map.is_empty() => None,
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .map(|i| prune(i).unwrap_or(Value::Null))
                .collect(),
        )),
        Value::Object(map) => {
            let kept: Map<String, Value> = map
                .iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k.clone(), v)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        other => Some(other.clone()),
    }
}

#[test]
fn chunks_reassemble_to_the_value() {
    let schema = serde_json::to_value(schemars::schema_for!(Team)).unwrap();
    let options = [
        ChunkOptions::new(),
        ChunkOptions::new().prefix(false),
        ChunkOptions::new().random_splits(9).max_piece(3),
        ChunkOptions::new().whole_strings(),
    ];
    for seed in 0..10 {
        let value = generate(&schema, seed);
        for options in &options {
            let chunks = chunks_for(&value, options);
            assert!(
                chunks
                    .iter()
                    .all(|c| c.chunk_type.as_deref() == Some("json"))
            );
            assert_eq!(Some(reassemble(&chunks)), prune(&value), "{options:?}");
        }
    }
}

#[test]
fn numbers_as_text_reassemble() {
    let value = json!({"count": 12345, "ratio": 0.125, "ok": true, "items": [{"n": -7}], "none": null, "empty": []});
    let options = ChunkOptions::new()
        .numbers_as_text(true)
        .booleans_as_text(true)
        .random_splits(3)
        .max_piece(2);
    let chunks = chunks_for(&value, &options);
    assert!(chunks.iter().all(|c| c.delta.as_ref().unwrap().is_string()));
    assert!(
        chunks
            .iter()
            .filter(|c| c.json_path.as_deref() == Some("response.count"))
            .count()
            > 1
    );
    let mut joined = std::collections::BTreeMap::<String, String>::new();
    for chunk in &chunks {
        let piece = chunk.delta.as_ref().unwrap().as_str().unwrap();
        joined
            .entry(chunk.json_path.clone().unwrap())
            .or_default()
            .push_str(piece);
    }
    assert_eq!(joined["response.count"], "12345");
    assert_eq!(joined["response.ratio"], "0.125");
    assert_eq!(joined["response.ok"], "true");
    assert_eq!(joined["response.items[0].n"], "-7");
    assert!(!joined.contains_key("response.none"));
    assert!(!joined.contains_key("response.empty"));
}

#[test]
fn scalars_are_whole_and_typed_by_default() {
    let chunks = chunks_for(
        &json!({"a": 1.5, "b": false, "c": {}, "d": null}),
        &ChunkOptions::new(),
    );
    assert_eq!(
        chunks,
        vec![
            Chunk::json("response.a", 1.5),
            Chunk::json("response.b", false)
        ]
    );
}

#[test]
fn text_mode_and_word_splits() {
    let chunks = chunks_for(
        &json!("Hello brave new world"),
        &ChunkOptions::new().text_mode(true),
    );
    let deltas: Vec<&str> = chunks
        .iter()
        .map(|c| c.delta.as_ref().unwrap().as_str().unwrap())
        .collect();
    assert_eq!(deltas, ["Hello", " brave", " new", " world"]);
    assert!(
        chunks
            .iter()
            .all(|c| c.json_path.is_none() && c.chunk_type.as_deref() == Some("text"))
    );

    let mut rng = Rng::new(0);
    let long = "internationalization ok";
    let pieces = split_text(long, &ChunkOptions::new(), &mut rng);
    assert_eq!(pieces.concat(), long);
    assert!(pieces.iter().all(|p| p.trim().chars().count() <= 8));
    let unicode = "häagen dazs — ünïcödé ✓";
    for options in [ChunkOptions::new(), ChunkOptions::new().random_splits(1)] {
        assert_eq!(split_text(unicode, &options, &mut rng).concat(), unicode);
    }
    assert_eq!(
        split_text("", &ChunkOptions::new(), &mut rng),
        vec![String::new()]
    );
}

#[test]
fn chunk_json_is_framed_like_the_service() {
    assert_eq!(
        Chunk::span("s-1").to_sse(),
        "data: {\"span_id\": \"s-1\"}\n\n"
    );
    assert_eq!(
        Chunk::text("Hi").to_json_string(),
        r#"{"delta": "Hi", "chunk_type": "text"}"#
    );
    assert_eq!(
        Chunk::error("ServerError", "boom").to_json(),
        json!({"chunk_type": "error", "error_type": "ServerError", "error_message": "boom"})
    );
    assert_eq!(
        Chunk::json("response.a", json!("x\"y")).to_json_string(),
        r#"{"delta": "x\"y", "json_path": "response.a", "chunk_type": "json"}"#
    );
}
