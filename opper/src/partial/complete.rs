//! Completing a partial JSON value from the output schema at the end of a stream.
//!
//! The service announces no chunk for an empty array, an empty object or a null. A required
//! property that never arrived is filled here when its schema says what "nothing" is: `null`
//! for a nullable schema, `[]` for an array, `{}` (itself completed) for an object. Anything
//! else that is required and missing is reported, so the stream can end in
//! `Error::Incomplete`.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::jsontext::limits::MAX_DEPTH;

/// How many levels [`walk`] follows: a level is a level of the value or a schema indirection
/// (`allOf`, `anyOf`, `oneOf`) within one; the value is at most [`MAX_DEPTH`] deep.
const MAX_WALK: usize = 2 * MAX_DEPTH;

/// How many `$ref`s [`Root`] remembers (schemas name few; past that, each is looked up again).
const MAX_REMEMBERED: usize = 64;

/// Fills what the schema allows to fill; pushes the paths of required values that are missing.
pub(crate) fn complete(value: &mut Value, schema: &Value, missing: &mut Vec<String>) {
    let mut at = String::new();
    let mut root = Root {
        schema,
        targets: Vec::new(),
        nodes: Vec::new(),
    };
    walk(value, schema, &mut root, &mut at, missing, 0);
}

/// The root schema, and what was looked up in it so far: every item of an array has the same
/// schema, whose `$ref` and keywords are looked up once.
struct Root<'s> {
    schema: &'s Value,
    /// A `$ref` (a string of the schema, known by its address) and its target.
    targets: Vec<(&'s str, Option<&'s Value>)>,
    /// A schema (known by its address) and what [`walk`] reads of it, `$ref`s followed.
    nodes: Vec<(&'s Value, Node<'s>)>,
}

/// The keywords of a schema that [`walk`] reads.
#[derive(Clone, Copy)]
struct Node<'s> {
    all_of: Option<&'s Vec<Value>>,
    any_of: Option<&'s Vec<Value>>,
    one_of: Option<&'s Vec<Value>>,
    properties: Option<&'s Map<String, Value>>,
    required: Option<&'s Vec<Value>>,
    /// `additionalProperties`, when it is a schema object.
    additional: Option<&'s Value>,
    prefix_items: Option<&'s Vec<Value>>,
    /// `items`, when it is a schema object.
    items: Option<&'s Value>,
}

impl<'s> Node<'s> {
    fn branches(self) -> impl Iterator<Item = &'s Value> {
        self.any_of.into_iter().chain(self.one_of).flatten()
    }
}

impl<'s> Root<'s> {
    /// What `walk` reads of `schema`, its `$ref`s followed.
    fn node(&mut self, schema: &'s Value) -> Node<'s> {
        if let Some((_, node)) = self
            .nodes
            .iter()
            .find(|(known, _)| std::ptr::eq(*known, schema))
        {
            return *node;
        }
        let resolved = resolve(schema, self);
        let array = |key| resolved.get(key).and_then(Value::as_array);
        let node = Node {
            all_of: array("allOf"),
            any_of: array("anyOf"),
            one_of: array("oneOf"),
            properties: resolved.get("properties").and_then(Value::as_object),
            required: array("required"),
            additional: resolved
                .get("additionalProperties")
                .filter(|s| s.is_object()),
            prefix_items: array("prefixItems"),
            items: resolved.get("items").filter(|s| s.is_object()),
        };
        if self.nodes.len() < MAX_REMEMBERED {
            self.nodes.push((schema, node));
        }
        node
    }

    /// The target of `reference` in the root schema, if it is a JSON pointer into it.
    fn target(&mut self, reference: &'s str) -> Option<&'s Value> {
        if let Some((_, target)) = self
            .targets
            .iter()
            .find(|(known, _)| std::ptr::eq(*known, reference))
        {
            return *target;
        }
        let target = reference
            .strip_prefix('#')
            .and_then(|ptr| self.schema.pointer(ptr));
        if self.targets.len() < MAX_REMEMBERED {
            self.targets.push((reference, target));
        }
        target
    }
}

/// Follows `$ref`s to `#/$defs/..`, `#/definitions/..` (any JSON pointer in the root).
fn resolve<'s>(mut schema: &'s Value, root: &mut Root<'s>) -> &'s Value {
    for _ in 0..MAX_DEPTH {
        let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
            return schema;
        };
        match root.target(reference) {
            Some(target) => schema = target,
            None => return schema,
        }
    }
    schema
}

fn types(schema: &Value) -> impl Iterator<Item = &str> {
    let (one, many) = match schema.get("type") {
        Some(Value::String(t)) => (Some(t.as_str()), None),
        Some(Value::Array(ts)) => (None, Some(ts.iter().filter_map(Value::as_str))),
        _ => (None, None),
    };
    one.into_iter().chain(many.into_iter().flatten())
}

fn branches(schema: &Value) -> impl Iterator<Item = &Value> {
    ["anyOf", "oneOf"]
        .into_iter()
        .filter_map(|key| schema.get(key).and_then(Value::as_array))
        .flatten()
}

fn is_nullable<'s>(schema: &'s Value, root: &mut Root<'s>, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let schema = resolve(schema, root);
    types(schema).any(|t| t == "null")
        || schema.get("nullable") == Some(&Value::Bool(true))
        || schema.get("const") == Some(&Value::Null)
        || branches(schema).any(|b| is_nullable(b, root, depth.saturating_add(1)))
}

fn is_kind<'s>(schema: &'s Value, root: &mut Root<'s>, kind: &str) -> bool {
    let schema = resolve(schema, root);
    let marker = match kind {
        "object" => {
            schema.get("properties").is_some() || schema.get("additionalProperties").is_some()
        }
        "array" => schema.get("items").is_some() || schema.get("prefixItems").is_some(),
        _ => false,
    };
    marker || types(schema).any(|t| t == kind)
}

/// What a required property that never arrived is: `None` if nothing can stand for it.
fn empty_value<'s>(schema: &'s Value, root: &mut Root<'s>) -> Option<Value> {
    let resolved = resolve(schema, root);
    if is_nullable(resolved, root, 0) {
        return Some(Value::Null);
    }
    match resolved {
        Value::Bool(true) => return Some(Value::Null),
        Value::Object(map) if map.is_empty() => return Some(Value::Null),
        _ => {}
    }
    let mut candidates = std::iter::once(resolved).chain(branches(resolved));
    candidates.find_map(|s| {
        if is_kind(s, root, "array") {
            Some(Value::Array(Vec::new()))
        } else if is_kind(s, root, "object") {
            Some(Value::Object(Map::new()))
        } else {
            None
        }
    })
}

fn kind_of(value: &Value) -> Option<&'static str> {
    match value {
        Value::Object(_) => Some("object"),
        Value::Array(_) => Some("array"),
        _ => None,
    }
}

fn walk<'s>(
    value: &mut Value,
    schema: &'s Value,
    root: &mut Root<'s>,
    at: &mut String,
    missing: &mut Vec<String>,
    depth: usize,
) {
    if depth > MAX_WALK {
        missing.push(format!(
            "{at} (the schema nests deeper than can be followed)"
        ));
        return;
    }
    // Scalars have nothing to complete: their schema is not even looked at.
    let Some(kind) = kind_of(value) else {
        return;
    };
    let node = root.node(schema);
    if let Some(all) = node.all_of {
        for sub in all {
            walk(value, sub, root, at, missing, depth.saturating_add(1));
        }
    }
    if let Some(branch) = node.branches().find(|b| is_kind(b, root, kind)) {
        walk(value, branch, root, at, missing, depth.saturating_add(1));
    }
    match value {
        Value::Object(map) => {
            let properties = node.properties;
            if let Some(required) = node.required {
                for name in required.iter().filter_map(Value::as_str) {
                    if map.contains_key(name) {
                        continue;
                    }
                    match properties
                        .and_then(|p| p.get(name))
                        .and_then(|s| empty_value(s, root))
                    {
                        Some(empty) => {
                            map.insert(name.to_owned(), empty);
                        }
                        None => missing.push(join_key(at, name)),
                    }
                }
            }
            let additional = node.additional;
            for (key, child) in map.iter_mut() {
                let child_schema = properties.and_then(|p| p.get(key)).or(additional);
                walk_child(child, child_schema, root, at, missing, depth, |at| {
                    push_key(at, key);
                });
            }
        }
        Value::Array(items) => {
            let prefix = node.prefix_items;
            let rest = node.items;
            for (i, child) in items.iter_mut().enumerate() {
                let child_schema = prefix.and_then(|p| p.get(i)).or(rest);
                walk_child(child, child_schema, root, at, missing, depth, |at| {
                    // Writing to a `String` cannot fail.
                    let _ = write!(at, "[{i}]");
                });
            }
        }
        _ => {}
    }
}

/// [`walk`]s a child of an object or array, when its schema is known, at the path `at` with
/// the child's segment added by `segment` (and taken off again after).
fn walk_child<'s>(
    child: &mut Value,
    schema: Option<&'s Value>,
    root: &mut Root<'s>,
    at: &mut String,
    missing: &mut Vec<String>,
    depth: usize,
    segment: impl FnOnce(&mut String),
) {
    if let Some(schema) = schema {
        let len = at.len();
        segment(at);
        walk(child, schema, root, at, missing, depth.saturating_add(1));
        at.truncate(len);
    }
}

fn push_key(at: &mut String, key: &str) {
    if !at.is_empty() {
        at.push('.');
    }
    at.push_str(key);
}

fn join_key(at: &str, key: &str) -> String {
    let mut out = at.to_owned();
    push_key(&mut out, key);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(mut value: Value, schema: Value) -> (Value, Vec<String>) {
        let mut missing = Vec::new();
        complete(&mut value, &schema, &mut missing);
        (value, missing)
    }

    #[test]
    fn fills_required_arrays_objects_and_options() {
        let schema = json!({
            "type": "object",
            "required": ["people", "meta", "note", "maybe", "either", "name", "any"],
            "properties": {
                "people": {"type": "array", "items": {"$ref": "#/$defs/Person"}},
                "meta": {"$ref": "#/definitions/Meta"},
                "note": {"type": ["string", "null"]},
                "maybe": {"anyOf": [{"$ref": "#/$defs/Person"}, {"type": "null"}]},
                "either": {"oneOf": [{"type": "null"}, {"type": "integer"}]},
                "name": {"type": "string"},
                "any": true,
                "optional": {"type": "array"}
            },
            "$defs": {
                "Person": {
                    "type": "object",
                    "required": ["name", "tags"],
                    "properties": {"name": {"type": "string"}, "tags": {"type": "array"}}
                }
            },
            "definitions": {
                "Meta": {
                    "type": "object",
                    "required": ["counts", "inner"],
                    "properties": {
                        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                        "inner": {"type": "object", "required": ["x"], "properties": {"x": {"type": "array"}}}
                    }
                }
            }
        });
        let (value, missing) = run(json!({"name": "A", "people": [{"name": "B"}, {}]}), schema);
        assert_eq!(
            value,
            json!({
                "name": "A",
                "people": [{"name": "B", "tags": []}, {"tags": []}],
                "meta": {"counts": {}, "inner": {"x": []}},
                "note": null,
                "maybe": null,
                "either": null,
                "any": null
            })
        );
        assert_eq!(missing, vec!["people[1].name".to_owned()]);
    }

    #[test]
    fn reports_missing_scalars_and_follows_nested_options() {
        let schema = json!({
            "type": "object",
            "required": ["a", "b"],
            "properties": {
                "a": {"type": "string"},
                "b": {"anyOf": [{"$ref": "#/$defs/B"}, {"type": "null"}]},
                "m": {"type": "object", "additionalProperties": {"$ref": "#/$defs/B"}}
            },
            "$defs": {"B": {"type": "object", "required": ["list", "n"], "properties": {"list": {"type": "array"}, "n": {"type": "number"}}}}
        });
        let (value, missing) = run(json!({"b": {"n": 1}, "m": {"k": {"n": 2}}}), schema);
        assert_eq!(
            value,
            json!({"b": {"n": 1, "list": []}, "m": {"k": {"n": 2, "list": []}}})
        );
        assert_eq!(missing, vec!["a".to_owned()]);
    }

    #[test]
    fn survives_recursive_refs() {
        let schema = json!({"$ref": "#/$defs/N", "$defs": {"N": {"type": "object", "required": ["next"], "properties": {"next": {"$ref": "#/$defs/N"}}}}});
        let (value, _) = run(json!({}), schema);
        assert!(value.is_object());
        let looping = json!({"$ref": "#/$defs/L", "$defs": {"L": {"$ref": "#/$defs/L"}}});
        let (value, missing) = run(json!({"a": 1}), looping);
        assert_eq!((value, missing.len()), (json!({"a": 1}), 0));
    }
}
