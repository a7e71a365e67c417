//! Deterministic generation of JSON values that fit a JSON Schema.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashSet;

use serde_json::{Map, Number, Value, json};

use crate::testing::rng::Rng;

/// Generates JSON values that are valid against a JSON Schema, deterministically from a seed.
///
/// This is what [`MockServer`](super::MockServer) answers when no reply is scripted for a task
/// and the request carries an `output_schema`. The same schema and seed always give the same
/// value, so tests that rely on it are stable.
///
/// Supported: `type` (also as a list), `properties` (every property is filled, required or not,
/// until the depth limit), `additionalProperties` maps, `items`/`prefixItems`,
/// `minItems`/`maxItems` (2 items unless bounded otherwise), `uniqueItems`,
/// `minimum`/`maximum`/`exclusiveMinimum`/`exclusiveMaximum`/`multipleOf`,
/// `minLength`/`maxLength`, `format` (`date-time`, `date`, `time`, `uuid`, `email`, `uri`,
/// `hostname`, `ipv4`, `ipv6`), `enum`, `const`, `$ref` into `#/$defs`, `#/definitions` or any
/// local JSON pointer, `anyOf`/`oneOf` (the first branch that is not `null`), `allOf` (merged).
/// `pattern` is not honoured.
///
/// Strings are a few words long, so a stream splits them into several chunks.
///
/// # Limits
/// One value's work is small and linear in what it asks for, whatever the schema says:
/// - at most 10,000 items per array (and entries per map), 100,000 characters per string and
///   1 MiB of JSON in all; a `minItems`, `minProperties` or `minLength` above these, or a value
///   that would grow past 1 MiB, is more than the generator makes;
/// - at most a few million steps of schema work (following `$ref`s, merging `allOf` branches,
///   scanning `enum`s and `anyOf`s) per value, for the same reason;
/// - values nest at most [`max_depth`](Self::max_depth)` + 24` levels and schemas are followed
///   at most 128 levels deep (a `$ref` cycle or a required field that recurses ends there with
///   `null`).
///
/// Given more than that, [`generate`](Self::generate) stops early and returns what it has
/// (which then does not fit the schema), and [`MockServer`](super::MockServer) answers
/// `422` naming the limit instead of a value that does not fit.
///
/// # Example
/// ```
/// use opper::testing::Generator;
/// use serde_json::json;
///
/// let schema = json!({
///     "type": "object",
///     "properties": {
///         "people": {"type": "array", "items": {"$ref": "#/$defs/Person"}},
///         "summary": {"type": "string"}
///     },
///     "required": ["people", "summary"],
///     "$defs": {"Person": {"type": "object", "properties": {"name": {"type": "string"}}}}
/// });
/// let value = Generator::new().seed(7).generate(&schema);
/// assert_eq!(value["people"].as_array().unwrap().len(), 2);
/// assert!(value["people"][0]["name"].is_string());
/// assert_eq!(value, Generator::new().seed(7).generate(&schema));
/// ```
#[derive(Debug, Clone)]
pub struct Generator {
    seed: u64,
    max_depth: usize,
    array_len: usize,
}

impl Default for Generator {
    fn default() -> Self {
        Self::new()
    }
}

impl Generator {
    /// A generator with seed 0, depth limit 8 and arrays of 2 items.
    pub fn new() -> Self {
        Self {
            seed: 0,
            max_depth: 8,
            array_len: 2,
        }
    }

    /// Sets the seed: the same seed and schema always give the same value.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets how deep values nest before the generator stops filling optional parts (optional
    /// properties are left out, arrays get `minItems` items, `null` branches are preferred).
    /// This is what ends recursive schemas. Default 8.
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Sets the number of items in arrays (and entries in maps) when the schema does not bound
    /// it. Default 2.
    pub fn array_len(mut self, len: usize) -> Self {
        self.array_len = len;
        self
    }

    /// Generates a value valid against `schema`, within the [limits](Self#limits).
    pub fn generate(&self, schema: &Value) -> Value {
        match self.generate_within_limits(schema) {
            Ok(value) | Err((value, _)) => value,
        }
    }

    /// Generates a value; when the schema asks for more than the [limits](Self#limits), the
    /// value cut short and which limit it hit.
    pub(crate) fn generate_within_limits(&self, schema: &Value) -> Result<Value, (Value, String)> {
        let mut run = Run {
            config: self,
            root: schema,
            rng: Rng::new(self.seed),
            nesting: 0,
            output: 0,
            work: Cell::new(0),
            exceeded: None,
        };
        let value = run.value(schema, 0, "value");
        let exceeded = run.exceeded.take().or_else(|| {
            (run.work.get() > MAX_WORK)
                .then(|| format!("more than {MAX_WORK} steps of schema work"))
        });
        match exceeded {
            None => Ok(value),
            Some(why) => Err((value, why)),
        }
    }
}

/// Generates a value for `schema` with the default [`Generator`] and the given seed.
///
/// ```
/// let value = opper::testing::generate(&serde_json::json!({"type": "integer", "minimum": 5}), 1);
/// assert!(value.as_i64().unwrap() >= 5);
/// ```
pub fn generate(schema: &Value, seed: u64) -> Value {
    Generator::new().seed(seed).generate(schema)
}

/// FNV-1a, to mix names into seeds.
pub(crate) fn hash_str(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

const WORDS: &[&str] = &[
    "amber", "river", "quiet", "harbor", "lantern", "meadow", "copper", "signal", "northern",
    "garden", "silver", "morning", "orbit", "paper", "canyon", "velvet", "thunder", "maple",
    "crystal", "echo", "falcon", "glacier", "horizon", "island", "jasmine", "kettle", "lively",
    "marble", "nimble", "ocean", "pepper", "rocket",
];

const FIRST_NAMES: &[&str] = &["ann", "bo", "carla", "dev", "emil", "fatima", "gus", "hana"];

pub(crate) fn words(rng: &mut Rng, count: usize) -> String {
    let mut out = String::new();
    for i in 0..count {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word(rng));
    }
    out
}

/// One of [`WORDS`], at random.
fn word(rng: &mut Rng) -> &'static str {
    rng.pick(WORDS).copied().unwrap_or("word")
}

struct Run<'a> {
    config: &'a Generator,
    root: &'a Value,
    rng: Rng,
    /// How many calls of `value` are open: schemas are followed at most `MAX_NESTING` deep.
    nesting: usize,
    /// Bytes of JSON generated so far (about).
    output: usize,
    /// Steps of schema work so far; a `Cell` so that lookups through `&self` count too.
    work: Cell<usize>,
    /// The first limit the schema asked past; once set, nothing more is generated.
    exceeded: Option<String>,
}

/// Past this many levels beyond `max_depth` the generator gives up and returns `null`.
const HARD_LIMIT: usize = 24;
/// At most this many items per array or entries per map.
const MAX_ITEMS: usize = 10_000;
/// At most this many characters per string.
const MAX_STRING_CHARS: usize = 100_000;
/// At most this many bytes of JSON per value.
const MAX_OUTPUT_BYTES: usize = 1 << 20;
/// At most this many steps of schema work per value.
const MAX_WORK: usize = 8_000_000;
/// Schemas are followed at most this many calls deep (a `$ref` cycle ends here).
const MAX_NESTING: usize = 128;

impl<'a> Run<'a> {
    fn limited(&self, depth: usize) -> bool {
        depth >= self.config.max_depth
    }

    /// Counts `steps` of schema work; false once over the budget.
    fn work(&self, steps: usize) -> bool {
        let work = self.work.get().saturating_add(steps);
        self.work.set(work);
        work <= MAX_WORK
    }

    /// Counts `bytes` of output; false (and the run marked as over) once past the limit.
    fn emit(&mut self, bytes: usize) -> bool {
        self.output = self.output.saturating_add(bytes);
        if self.output > MAX_OUTPUT_BYTES {
            self.exceed(format!("more than {MAX_OUTPUT_BYTES} bytes of output"));
            return false;
        }
        true
    }

    fn exceed(&mut self, why: String) {
        if self.exceeded.is_none() {
            self.exceeded = Some(why);
        }
    }

    /// Whether generation must stop: a limit was passed.
    fn stopped(&mut self) -> bool {
        if self.exceeded.is_none() && self.work.get() > MAX_WORK {
            self.exceed(format!("more than {MAX_WORK} steps of schema work"));
        }
        self.exceeded.is_some()
    }

    /// A copy of `value` for the output, counted; `null` if it would pass the output limit.
    fn copy_out(&mut self, value: &Value) -> Value {
        let size = weigh(
            value,
            MAX_OUTPUT_BYTES
                .saturating_sub(self.output)
                .saturating_add(1),
        );
        if self.emit(size) {
            value.clone()
        } else {
            Value::Null
        }
    }

    /// `extra` merged into `base` (see [`merge_into`]), its copying counted as work.
    fn merge(&self, base: Value, extra: &Value) -> Value {
        if !self.work(weigh(extra, MAX_WORK + 1)) {
            return base;
        }
        merge_into(base, extra)
    }

    /// A copy of a schema object, counted as work.
    fn copy_schema(&self, object: &Map<String, Value>) -> Map<String, Value> {
        let size = object
            .values()
            .map(|v| weigh(v, MAX_WORK + 1))
            .fold(object.len(), usize::saturating_add);
        if !self.work(size) {
            return Map::new();
        }
        object.clone()
    }

    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        if !self.work(reference.len()) {
            return None;
        }
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() {
            return Some(self.root);
        }
        // JSON pointers in `$ref` may be percent-encoded.
        let decoded = percent_decode(pointer);
        self.root.pointer(&decoded)
    }

    fn value(&mut self, schema: &Value, depth: usize, hint: &str) -> Value {
        if depth > self.config.max_depth.saturating_add(HARD_LIMIT)
            || self.nesting >= MAX_NESTING
            || self.stopped()
        {
            return Value::Null;
        }
        self.nesting = self.nesting.saturating_add(1);
        let value = self.value_of(schema, depth, hint);
        self.nesting = self.nesting.saturating_sub(1);
        value
    }

    fn value_of(&mut self, schema: &Value, depth: usize, hint: &str) -> Value {
        let object = match schema {
            Value::Bool(true) => return self.text(3),
            Value::Bool(false) => return Value::Null,
            Value::Object(object) => object,
            _ => return Value::Null,
        };
        self.work(object.len().saturating_add(1));
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            if let Some(target) = self.resolve(reference) {
                // Sibling keywords next to `$ref` (allowed since 2019-09) are merged in.
                if object.len() > 1 {
                    let mut merged = self.copy_schema(object);
                    merged.remove("$ref");
                    let merged = self.merge(Value::Object(merged), target);
                    return self.value(&merged, depth.saturating_add(1), hint);
                }
                return self.value(target, depth.saturating_add(1), hint);
            }
            return Value::Null;
        }
        if let Some(value) = object.get("const") {
            return self.copy_out(value);
        }
        if let Some(Value::Array(options)) = object.get("enum") {
            self.work(options.len());
            let non_null: Vec<&Value> = options.iter().filter(|v| !v.is_null()).collect();
            // No draw when every option is null: the first one is it.
            let chosen = self.rng.pick(&non_null).copied().or(options.first());
            return chosen.map_or(Value::Null, |value| self.copy_out(value));
        }
        if let Some(Value::Array(branches)) = object.get("allOf") {
            let mut merged = self.copy_schema(object);
            merged.remove("allOf");
            let mut merged = Value::Object(merged);
            for branch in branches {
                let branch = self.deref(branch);
                merged = self.merge(merged, branch);
            }
            return self.value(&merged, depth, hint);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = object.get(key) {
                self.work(branches.len());
                let null_branch = branches.iter().find(|b| self.is_null_schema(b));
                let chosen = if self.limited(depth) && null_branch.is_some() {
                    null_branch
                } else {
                    branches
                        .iter()
                        .find(|b| !self.is_null_schema(b))
                        .or(branches.first())
                };
                let Some(chosen) = chosen else {
                    return Value::Null;
                };
                // Keywords beside anyOf (description, ...) do not constrain much; keep the branch.
                if object.keys().any(|k| k != key && is_constraint(k)) {
                    let mut rest = self.copy_schema(object);
                    rest.remove(key);
                    let merged = self.merge(Value::Object(rest), self.deref(chosen));
                    return self.value(&merged, depth, hint);
                }
                return self.value(chosen, depth, hint);
            }
        }
        let ty = match object.get("type") {
            Some(Value::String(ty)) => ty.clone(),
            Some(Value::Array(types)) => {
                let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
                let pick = if self.limited(depth) && names.contains(&"null") {
                    Some("null")
                } else {
                    names
                        .iter()
                        .copied()
                        .find(|t| *t != "null")
                        .or(names.first().copied())
                };
                pick.unwrap_or("null").to_owned()
            }
            _ => infer_type(object).to_owned(),
        };
        let value = match ty.as_str() {
            "object" => return self.object(object, depth, hint),
            "array" => return self.array(object, depth, hint),
            "string" => match self.string(object) {
                Some(text) => Value::String(text),
                None => return Value::Null,
            },
            "integer" => self.integer(object),
            "number" => self.number(object),
            "boolean" => Value::Bool(self.rng.coin()),
            _ => Value::Null,
        };
        let size = match &value {
            Value::String(text) => text.len().saturating_add(2),
            _ => 8,
        };
        if self.emit(size) { value } else { Value::Null }
    }

    /// A few words of text, counted.
    fn text(&mut self, count: usize) -> Value {
        let text = words(&mut self.rng, count);
        if self.emit(text.len().saturating_add(2)) {
            Value::String(text)
        } else {
            Value::Null
        }
    }

    fn deref(&self, schema: &'a Value) -> &'a Value {
        self.work(1);
        let mut current = schema;
        for _ in 0..16 {
            match current.get("$ref").and_then(Value::as_str) {
                Some(reference) if current.as_object().is_some_and(|o| o.len() == 1) => {
                    match self.resolve(reference) {
                        Some(target) => current = target,
                        None => break,
                    }
                }
                _ => break,
            }
        }
        current
    }

    fn is_null_schema(&self, schema: &Value) -> bool {
        let schema = self.deref(schema);
        match schema.get("type") {
            Some(Value::String(ty)) => ty == "null",
            Some(Value::Array(types)) => types.iter().all(|t| t == "null"),
            _ => schema.get("const").is_some_and(Value::is_null),
        }
    }

    fn object(&mut self, object: &Map<String, Value>, depth: usize, hint: &str) -> Value {
        let required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        self.work(required.len());
        let is_required: HashSet<&str> = required.iter().copied().collect();
        let mut out = Map::new();
        let properties = object.get("properties").and_then(Value::as_object);
        if let Some(properties) = properties {
            for (name, schema) in properties {
                if self.limited(depth) && !is_required.contains(name.as_str()) {
                    continue;
                }
                if self.stopped() || !self.emit(name.len().saturating_add(4)) {
                    break;
                }
                let value = self.value(schema, depth.saturating_add(1), name);
                out.insert(name.clone(), value);
            }
        }
        // Required names without a property schema still need a value.
        for name in &required {
            if !out.contains_key(*name) {
                if self.stopped() || !self.emit(name.len().saturating_add(4)) {
                    break;
                }
                let extra = match object.get("additionalProperties") {
                    Some(schema @ Value::Object(_)) => {
                        self.value(schema, depth.saturating_add(1), name)
                    }
                    _ => self.text(2),
                };
                out.insert((*name).to_owned(), extra);
            }
        }
        let additional = object.get("additionalProperties");
        let is_map =
            properties.is_none_or(Map::is_empty) && !matches!(additional, Some(Value::Bool(false)));
        if is_map && out.is_empty() {
            let min = usize_of(object, "minProperties").unwrap_or(0);
            let max = usize_of(object, "maxProperties").unwrap_or(usize::MAX);
            if min > MAX_ITEMS {
                self.exceed(format!(
                    "minProperties {min} is more than the {MAX_ITEMS} entries a map gets"
                ));
                return Value::Object(out);
            }
            let count = if self.limited(depth) {
                min
            } else {
                self.config
                    .array_len
                    .clamp(min, max.max(min))
                    .min(MAX_ITEMS)
            };
            let value_schema = match additional {
                Some(schema @ Value::Object(_)) => Cow::Borrowed(schema),
                _ if object.contains_key("additionalProperties") => {
                    Cow::Owned(json!({"type": "string"}))
                }
                // `{"type": "object"}` alone: leave it empty unless a size is asked for.
                _ if min == 0 => Cow::Owned(Value::Object(Map::new())),
                _ => Cow::Owned(json!({"type": "string"})),
            };
            if value_schema.as_object().is_some_and(|o| !o.is_empty()) {
                for i in 0..count {
                    if self.stopped() || !self.emit(12) {
                        break;
                    }
                    let key = format!("{}_{}", word(&mut self.rng), i.saturating_add(1));
                    let value = self.value(&value_schema, depth.saturating_add(1), hint);
                    out.insert(key, value);
                }
            }
        }
        Value::Object(out)
    }

    fn array(&mut self, object: &Map<String, Value>, depth: usize, hint: &str) -> Value {
        let min = usize_of(object, "minItems").unwrap_or(0);
        let max = usize_of(object, "maxItems").unwrap_or(usize::MAX).max(min);
        let mut out = Vec::new();
        if min > MAX_ITEMS {
            self.exceed(format!(
                "minItems {min} is more than the {MAX_ITEMS} items an array gets"
            ));
            return Value::Array(out);
        }
        let prefix = object.get("prefixItems").and_then(Value::as_array);
        // Draft 4-2019 tuples: `items` as an array.
        let tuple = prefix.or_else(|| object.get("items").and_then(Value::as_array));
        let item_schema = match (prefix, object.get("items")) {
            (Some(_), Some(items @ (Value::Object(_) | Value::Bool(_)))) => Some(items),
            (None, Some(items @ (Value::Object(_) | Value::Bool(true)))) => Some(items),
            (Some(_), None) => None,
            (None, None) => Some(&Value::Bool(true)),
            _ => None,
        };
        let item_schema = if tuple.is_some() && prefix.is_none() {
            object.get("additionalItems").filter(|s| s.is_object())
        } else {
            item_schema
        };
        if let Some(tuple) = tuple {
            for (i, schema) in tuple.iter().enumerate() {
                if i >= max || self.stopped() || !self.emit(1) {
                    break;
                }
                out.push(self.value(schema, depth.saturating_add(1), hint));
            }
        }
        let wanted = if self.limited(depth) {
            min
        } else {
            self.config.array_len.clamp(min, max).min(MAX_ITEMS)
        };
        if let Some(item_schema) = item_schema.filter(|s| **s != Value::Bool(false)) {
            let unique = object.get("uniqueItems") == Some(&Value::Bool(true));
            // The JSON of the items so far, to keep them unique in linear time.
            let mut seen = HashSet::new();
            let mut attempts = 0;
            let most = wanted.saturating_mul(16).saturating_add(16);
            while out.len() < wanted && attempts < most {
                attempts = attempts.saturating_add(1);
                if self.stopped() || !self.emit(1) {
                    break;
                }
                let item = self.value(item_schema, depth.saturating_add(1), hint);
                if unique && !seen.insert(item.to_string()) {
                    continue;
                }
                out.push(item);
            }
        }
        Value::Array(out)
    }

    /// A string for `object`, or `None` when it asks for more than the limit.
    fn string(&mut self, object: &Map<String, Value>) -> Option<String> {
        let min = usize_of(object, "minLength").unwrap_or(0);
        if min > MAX_STRING_CHARS {
            self.exceed(format!(
                "minLength {min} is more than the {MAX_STRING_CHARS} characters a string gets"
            ));
            return None;
        }
        let rng = &mut self.rng;
        let format = object.get("format").and_then(Value::as_str).unwrap_or("");
        let mut text = match format {
            "date-time" => format!(
                "2024-{:02}-{:02}T{:02}:{:02}:00Z",
                rng.range(1, 12),
                rng.range(1, 28),
                rng.range(0, 23),
                rng.range(0, 59)
            ),
            "date" => format!("2024-{:02}-{:02}", rng.range(1, 12), rng.range(1, 28)),
            "time" => format!("{:02}:{:02}:00Z", rng.range(0, 23), rng.range(0, 59)),
            "uuid" => uuid_like(rng.next_u64(), rng.next_u64()),
            "email" | "idn-email" => format!(
                "{}.{}@example.com",
                rng.pick(FIRST_NAMES).copied().unwrap_or("ann"),
                word(rng)
            ),
            "uri" | "url" | "iri" => format!("https://example.com/{}", word(rng)),
            "hostname" | "idn-hostname" => format!("{}.example.com", word(rng)),
            "ipv4" => format!("192.0.2.{}", rng.range(1, 254)),
            "ipv6" => format!("2001:db8::{:x}", rng.range(1, 0xffff)),
            _ => {
                let count = rng.below_usize(3).saturating_add(3);
                words(rng, count)
            }
        };
        let max = usize_of(object, "maxLength").unwrap_or(usize::MAX).max(min);
        // Counted as it grows: counting the whole text per word would be quadratic.
        let mut chars = text.chars().count();
        while chars < min {
            let word = word(rng);
            text.push(' ');
            text.push_str(word);
            chars = chars.saturating_add(word.chars().count()).saturating_add(1);
        }
        if chars > max {
            text = text.chars().take(max).collect();
            // Do not end on a space when there is room to avoid it.
            if text.ends_with(' ') && max > min {
                text.pop();
            }
        }
        Some(text)
    }

    fn bounds(&self, object: &Map<String, Value>) -> (Option<f64>, bool, Option<f64>, bool) {
        let mut lo = object.get("minimum").and_then(Value::as_f64);
        let mut lo_exclusive = false;
        let mut hi = object.get("maximum").and_then(Value::as_f64);
        let mut hi_exclusive = false;
        match object.get("exclusiveMinimum") {
            Some(Value::Number(n)) => {
                let n = n.as_f64().unwrap_or(0.0);
                if lo.is_none_or(|l| n >= l) {
                    lo = Some(n);
                    lo_exclusive = true;
                }
            }
            Some(Value::Bool(true)) => lo_exclusive = true,
            _ => {}
        }
        match object.get("exclusiveMaximum") {
            Some(Value::Number(n)) => {
                let n = n.as_f64().unwrap_or(0.0);
                if hi.is_none_or(|h| n <= h) {
                    hi = Some(n);
                    hi_exclusive = true;
                }
            }
            Some(Value::Bool(true)) => hi_exclusive = true,
            _ => {}
        }
        (lo, lo_exclusive, hi, hi_exclusive)
    }

    fn integer(&mut self, object: &Map<String, Value>) -> Value {
        let (lo, lo_ex, hi, hi_ex) = self.bounds(object);
        let clamp = |v: f64| v.clamp(i64::MIN as f64 / 2.0, i64::MAX as f64 / 2.0);
        let lo = lo.map(|l| {
            let l = clamp(l);
            if lo_ex {
                saturating_i64(l.floor()).saturating_add(1)
            } else {
                saturating_i64(l.ceil())
            }
        });
        let hi = hi.map(|h| {
            let h = clamp(h);
            if hi_ex {
                saturating_i64(h.ceil()).saturating_sub(1)
            } else {
                saturating_i64(h.floor())
            }
        });
        let (lo, hi) = match (lo, hi) {
            (Some(lo), Some(hi)) => (lo, hi.max(lo)),
            (Some(lo), None) => (lo, lo.saturating_add(99)),
            (None, Some(hi)) if hi >= 100 => (1, 100),
            (None, Some(hi)) => (hi.saturating_sub(99), hi),
            (None, None) => (1, 100),
        };
        let (lo, hi) = if lo <= 1 && hi >= 100 {
            (1, 100)
        } else {
            (lo, hi)
        };
        let mut value = self.rng.range(lo, hi);
        if let Some(step) = object
            .get("multipleOf")
            .and_then(Value::as_i64)
            .filter(|s| *s > 0)
        {
            // The multiples of `step` around `value`; `value` itself when one overflows.
            let down = value.div_euclid(step).checked_mul(step);
            let up = down.and_then(|down| {
                down.checked_add(if value.rem_euclid(step) == 0 { 0 } else { step })
            });
            value = match (up, down) {
                (Some(up), _) if up <= hi => up,
                (_, down) => down.unwrap_or(value),
            };
        }
        Value::Number(Number::from(value))
    }

    fn number(&mut self, object: &Map<String, Value>) -> Value {
        let (lo, lo_ex, hi, hi_ex) = self.bounds(object);
        if let Some(step) = object
            .get("multipleOf")
            .and_then(Value::as_f64)
            .filter(|s| *s > 0.0)
        {
            let lo_k = lo.map_or(1.0, |l| {
                let k = (l / step).ceil();
                if lo_ex && k * step <= l { k + 1.0 } else { k }
            });
            let hi_k = hi.map_or(lo_k + 99.0, |h| {
                let k = (h / step).floor();
                if hi_ex && k * step >= h { k - 1.0 } else { k }
            });
            let (lo_k, hi_k) = (saturating_i64(lo_k), saturating_i64(hi_k));
            let k = self.rng.range(lo_k, hi_k.max(lo_k));
            return float(k as f64 * step);
        }
        let value = match (lo, hi) {
            (Some(lo), Some(hi)) => {
                let fraction = (self.rng.below(1000) as f64 + 1.0) / 1002.0;
                let v = lo + (hi - lo) * fraction;
                if (lo_ex && v <= lo) || (hi_ex && v >= hi) {
                    (lo + hi) / 2.0
                } else {
                    v
                }
            }
            (Some(lo), None) => lo.floor() + 1.0 + self.rng.below(99) as f64 + 0.5,
            (None, Some(hi)) => hi.ceil() - 1.0 - self.rng.below(99) as f64 - 0.5,
            (None, None) => self.rng.range(1, 99) as f64 + 0.5,
        };
        // Two decimals are enough for a readable mock value.
        let rounded = (value * 100.0).round() / 100.0;
        let in_range = lo.is_none_or(|l| if lo_ex { rounded > l } else { rounded >= l })
            && hi.is_none_or(|h| if hi_ex { rounded < h } else { rounded <= h });
        float(if in_range { rounded } else { value })
    }
}

/// `value` as an `i64`: rounded toward zero, saturating at the ends, 0 for NaN.
// `as` from a float to an integer saturates (and maps NaN to 0); it never wraps nor panics,
// and the rounding toward zero is the one wanted (callers round first where it matters).
#[allow(clippy::cast_possible_truncation)]
fn saturating_i64(value: f64) -> i64 {
    value as i64
}

fn float(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// The size of `value` (its nodes plus the bytes of its strings, about its JSON length),
/// counted without recursion and only up to `limit`.
fn weigh(value: &Value, limit: usize) -> usize {
    let mut size = 0usize;
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        let node = match value {
            Value::String(text) => text.len().saturating_add(2),
            Value::Array(items) => {
                stack.extend(items);
                items.len().saturating_add(1)
            }
            Value::Object(map) => {
                for (key, item) in map {
                    size = size.saturating_add(key.len()).saturating_add(4);
                    stack.push(item);
                }
                2
            }
            _ => 5,
        };
        size = size.saturating_add(node);
        if size > limit {
            break;
        }
    }
    size
}

fn usize_of(object: &Map<String, Value>, key: &str) -> Option<usize> {
    object
        .get(key)
        .and_then(Value::as_u64)
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

fn infer_type(object: &Map<String, Value>) -> &'static str {
    if object.contains_key("properties")
        || object.contains_key("additionalProperties")
        || object.contains_key("required")
    {
        "object"
    } else if object.contains_key("items") || object.contains_key("prefixItems") {
        "array"
    } else if object.contains_key("minimum") || object.contains_key("maximum") {
        "number"
    } else {
        "string"
    }
}

/// Keywords that constrain a value (as opposed to annotations such as `description`).
fn is_constraint(key: &str) -> bool {
    !matches!(
        key,
        "description"
            | "title"
            | "default"
            | "examples"
            | "$comment"
            | "$schema"
            | "$id"
            | "$defs"
            | "definitions"
            | "deprecated"
            | "readOnly"
            | "writeOnly"
            | "nullable"
    )
}

/// Merges the keywords of `extra` into `base`: properties are united, `required` concatenated,
/// other keywords kept from `base` when both have them.
fn merge_into(base: Value, extra: &Value) -> Value {
    let Value::Object(mut base) = base else {
        return extra.clone();
    };
    let Some(extra) = extra.as_object() else {
        return Value::Object(base);
    };
    for (key, value) in extra {
        match (key.as_str(), base.get_mut(key)) {
            ("properties", Some(Value::Object(props))) => {
                if let Some(more) = value.as_object() {
                    for (name, schema) in more {
                        props.entry(name.clone()).or_insert_with(|| schema.clone());
                    }
                }
            }
            ("required", Some(Value::Array(required))) => {
                if let Some(more) = value.as_array() {
                    let mut known: HashSet<String> =
                        required.iter().map(Value::to_string).collect();
                    for name in more {
                        if known.insert(name.to_string()) {
                            required.push(name.clone());
                        }
                    }
                }
            }
            (_, Some(_)) => {}
            (_, None) => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(base)
}

pub(crate) fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    let mut rest = text.as_bytes();
    let mut out = Vec::with_capacity(rest.len());
    while let Some((&byte, tail)) = rest.split_first() {
        // `%` and two hex digits: the byte they spell. Anything else: itself.
        if byte == b'%'
            && let Some((hex, after)) = tail.split_at_checked(2)
            && let Ok(byte) = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or(""), 16)
        {
            out.push(byte);
            rest = after;
            continue;
        }
        out.push(byte);
        rest = tail;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Formats two random words as a version-4 UUID.
pub(crate) fn uuid_like(a: u64, b: u64) -> String {
    let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFFF,
        b >> 48,
        b & 0xFFFF_FFFF_FFFF
    )
}
