//! The cache key: SHA-256 over the endpoint and the canonical JSON of the request body, without
//! the fields that change from run to run (`parent_span_id`) or only label a call (`tags`).

use std::fmt;
use std::io::{self, Write};

use serde_json::Value;
use sha2::{Digest, Sha256};

use std::borrow::Cow;

use crate::api::Api;
use crate::protocol::Endpoint;

/// What the hash starts with: names the scheme, so a later scheme never collides with this one.
const DOMAIN: &[u8] = b"opper-cache-v1\n";

/// Where a request goes, as far as its key is concerned: the endpoint's path (on v3 with the
/// task's name in it), the top-level body fields left out of the key, and where the model's
/// extra headers are; and the version, whose decoder replays its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    /// The version of the API.
    pub(crate) api: Api,
    /// The endpoint's path, as hashed and as written in an entry.
    pub(crate) path: Cow<'static, str>,
    unkeyed: &'static [&'static str],
    headers: (&'static str, &'static str),
}

impl Route {
    /// The route of `endpoint` of `api` for the task `task`.
    pub(crate) fn of(api: Api, endpoint: Endpoint, task: &str) -> Self {
        Self {
            api,
            path: api.wire().path(endpoint, task),
            unkeyed: api.wire().unkeyed(),
            headers: api.wire().header_fields(),
        }
    }
}

/// A short name for the endpoint, in entry file names.
pub(crate) fn label(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Call => "call",
        Endpoint::Stream => "stream",
    }
}

/// A request's cache key: 32 bytes, written as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key([u8; 32]);

impl Key {
    /// The key of a request body (parsed) sent to `route`.
    ///
    /// SHA-256 of `opper-cache-v1\n`, the endpoint's path, `\n`, then the body's canonical JSON
    /// with the route's unkeyed top-level fields (`parent_span_id`, and on v2 `tags`) left out.
    pub(crate) fn of(route: &Route, body: &Value) -> Self {
        let mut hasher = HashWriter(Sha256::new());
        hasher.0.update(DOMAIN);
        hasher.0.update(route.path.as_bytes());
        hasher.0.update(b"\n");
        // Writing into a hasher cannot fail.
        let _ = write_canonical(body, route.unkeyed, &mut hasher);
        Key(hasher.0.finalize().into())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}

/// What an extra header's value is replaced with in an entry (and keyed as): this, the
/// SHA-256 of the value in hex, and `>`.
const REDACTED: &str = "<redacted sha256:";

/// Replaces the value of every extra header of the request's `model` (a model, or each model
/// of a fallback chain) with `<redacted sha256:HEX>`: HEX is the SHA-256 of
/// `opper-cache-v1 header\n` and the value (a JSON string's text, any other JSON as written).
/// So no value is ever written to an entry, and two values still key apart.
pub(crate) fn redact_headers(route: &Route, body: &mut Value) {
    let (model_field, headers_field) = route.headers;
    let Some(model) = body.get_mut(model_field) else {
        return;
    };
    let models = match model {
        Value::Array(chain) => chain.iter_mut().collect(),
        model => vec![model],
    };
    for model in models {
        let Some(Value::Object(headers)) = model.get_mut(headers_field) else {
            continue;
        };
        for value in headers.values_mut() {
            let mut hasher = Sha256::new();
            hasher.update(b"opper-cache-v1 header\n");
            match &*value {
                Value::String(text) => hasher.update(text.as_bytes()),
                other => hasher.update(other.to_string().as_bytes()),
            }
            let mut redacted = String::from(REDACTED);
            for byte in hasher.finalize() {
                redacted.push_str(&format!("{byte:02x}"));
            }
            redacted.push('>');
            *value = Value::String(redacted);
        }
    }
}

struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes `value` as canonical JSON: no whitespace, object keys sorted by their UTF-8 bytes (at
/// every depth), strings and numbers as `serde_json` writes them. The keys in `skip` are left out
/// of the top-level object only.
///
/// Iterative: the depth of `value` takes heap, never stack.
pub(crate) fn write_canonical(
    value: &Value,
    skip: &[&str],
    out: &mut impl Write,
) -> io::Result<()> {
    enum Frame<'a> {
        Items(std::slice::Iter<'a, Value>, bool),
        Members(std::vec::IntoIter<(&'a String, &'a Value)>, bool),
    }
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut next = Some(value);
    loop {
        if let Some(value) = next.take() {
            match value {
                Value::Array(items) => {
                    out.write_all(b"[")?;
                    stack.push(Frame::Items(items.iter(), true));
                }
                Value::Object(map) => {
                    out.write_all(b"{")?;
                    let top = stack.is_empty();
                    let mut members: Vec<(&String, &Value)> = map
                        .iter()
                        .filter(|(key, _)| !(top && skip.contains(&key.as_str())))
                        .collect();
                    members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                    stack.push(Frame::Members(members.into_iter(), true));
                }
                leaf => serde_json::to_writer(&mut *out, leaf)?,
            }
        }
        let Some(frame) = stack.last_mut() else {
            return Ok(());
        };
        match frame {
            Frame::Items(items, first) => match items.next() {
                Some(item) => {
                    if !std::mem::take(first) {
                        out.write_all(b",")?;
                    }
                    next = Some(item);
                }
                None => {
                    out.write_all(b"]")?;
                    stack.pop();
                }
            },
            Frame::Members(members, first) => match members.next() {
                Some((key, item)) => {
                    if !std::mem::take(first) {
                        out.write_all(b",")?;
                    }
                    serde_json::to_writer(&mut *out, key)?;
                    out.write_all(b":")?;
                    next = Some(item);
                }
                None => {
                    out.write_all(b"}")?;
                    stack.pop();
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn v2(endpoint: Endpoint) -> Route {
        Route::of(Api::V2, endpoint, "t")
    }

    fn canonical(value: &Value) -> String {
        let mut out = Vec::new();
        write_canonical(value, Api::V2.wire().unkeyed(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_skips_only_top_level_fields() {
        let body: Value = serde_json::from_str(
            r#"{"name":"t","tags":{"k":"v"},"input":{"b":[{"z":1,"a":"\u00e9\n"}],"a":1.5,"tags":true},
                "parent_span_id":"p","model":null,"examples":[]}"#,
        )
        .unwrap();
        assert_eq!(
            canonical(&body),
            r#"{"examples":[],"input":{"a":1.5,"b":[{"a":"é\n","z":1}],"tags":true},"model":null,"name":"t"}"#
        );
        assert_eq!(canonical(&json!([])), "[]");
        assert_eq!(canonical(&json!({})), "{}");
        assert_eq!(canonical(&json!("x")), r#""x""#);
        assert_eq!(
            canonical(&json!([[1, {}], {"b": [], "a": {}}])),
            r#"[[1,{}],{"a":{},"b":[]}]"#
        );
    }

    #[test]
    fn the_key_of_a_known_body_is_pinned() {
        // The preimage is `opper-cache-v1\n/v2/call\n{"input":{"x":4,"y":5},"name":"add_numbers"}`;
        // `printf '%s\n%s\n%s' opper-cache-v1 /v2/call '{"input":...}' | sha256sum` gives the same.
        let body: Value = serde_json::from_str(
            r#"{"name":"add_numbers","input":{"y":5,"x":4},"parent_span_id":"123","tags":{"a":"b"}}"#,
        )
        .unwrap();
        assert_eq!(
            Key::of(&v2(Endpoint::Call), &body).to_string(),
            "16f67ab7b18525c62b13057677a611afe11109c15b48aff417b524c238d9302c"
        );
    }

    #[test]
    fn keys_ignore_key_order_tags_and_parent_span() {
        let base = json!({"name": "t", "input": {"x": 1, "y": [1, 2]}, "model": "m"});
        let reordered: Value =
            serde_json::from_str(r#"{"model":"m","input":{"y":[1,2],"x":1},"name":"t"}"#).unwrap();
        let labelled = json!({
            "name": "t", "input": {"x": 1, "y": [1, 2]}, "model": "m",
            "parent_span_id": "0b9e", "tags": {"run": "42"}
        });
        let key = Key::of(&v2(Endpoint::Call), &base);
        assert_eq!(Key::of(&v2(Endpoint::Call), &reordered), key);
        assert_eq!(Key::of(&v2(Endpoint::Call), &labelled), key);
    }

    #[test]
    fn keys_follow_every_change_of_the_request_and_the_endpoint() {
        let base = json!({"name": "t", "input": {"x": 1}});
        let key = Key::of(&v2(Endpoint::Call), &base);
        assert_ne!(Key::of(&v2(Endpoint::Stream), &base), key);
        for changed in [
            json!({"name": "u", "input": {"x": 1}}),
            json!({"name": "t", "input": {"x": 2}}),
            json!({"name": "t", "input": {"x": 1.0}}),
            json!({"name": "t", "input": {"x": "1"}}),
            json!({"name": "t", "input": {"x": 1, "tags": {}}}),
            json!({"name": "t", "input": {"x": 1}, "model": "m"}),
            json!({"name": "t", "input": [{"x": 1}]}),
        ] {
            assert_ne!(Key::of(&v2(Endpoint::Call), &changed), key, "{changed}");
        }
    }

    #[test]
    fn header_values_are_hashed_and_still_key_apart() {
        let with = |value: &str| {
            let mut body = json!({"name": "t", "model": [
                {"name": "a", "extra_headers": {"x-key": value}},
                "b",
                {"name": "c", "options": {"t": 1}, "extra_headers": {"x-key": value, "x-n": 1}},
            ]});
            redact_headers(&v2(Endpoint::Call), &mut body);
            body
        };
        let one = with("sk-one");
        let text = one.to_string();
        assert!(!text.contains("sk-one"), "{text}");
        let marker = one["model"][0]["extra_headers"]["x-key"].as_str().unwrap();
        assert!(
            marker.starts_with(REDACTED) && marker.ends_with('>') && marker.len() == 17 + 64 + 1,
            "{marker}"
        );
        assert_eq!(one["model"][2]["extra_headers"]["x-key"], marker);
        assert_eq!(one["model"][1], "b");
        assert_eq!(one["model"][2]["options"]["t"], 1);
        assert_eq!(with("sk-one"), one);
        assert_ne!(
            Key::of(&v2(Endpoint::Call), &with("sk-two")),
            Key::of(&v2(Endpoint::Call), &one)
        );
        // A single model, and bodies without headers, are left as they are but for the values.
        let mut single = json!({"model": {"name": "a", "extra_headers": {"h": "v"}}});
        redact_headers(&v2(Endpoint::Call), &mut single);
        assert_ne!(single["model"]["extra_headers"]["h"], "v");
        for plain in [json!({"model": "m"}), json!({"name": "t"}), json!([1])] {
            let mut body = plain.clone();
            redact_headers(&v2(Endpoint::Call), &mut body);
            assert_eq!(body, plain);
        }
    }

    #[test]
    fn a_deep_body_is_keyed_without_recursion() {
        let mut deep = json!(1);
        for depth in 0..100_000 {
            deep = if depth % 2 == 0 {
                Value::Array(vec![deep])
            } else {
                Value::Object(serde_json::Map::from_iter([("k".to_owned(), deep)]))
            };
        }
        let key = Key::of(&v2(Endpoint::Call), &deep);
        assert_eq!(key, Key::of(&v2(Endpoint::Call), &deep));
        // `Value`'s own drop recurses: take it apart by hand.
        let mut stack = vec![deep];
        while let Some(value) = stack.pop() {
            match value {
                Value::Array(items) => stack.extend(items),
                Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
                _ => {}
            }
        }
    }
}
