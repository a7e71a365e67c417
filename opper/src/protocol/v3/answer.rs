//! The answer of a v3 call, live or cached, and of a stream's `complete` event:
//! `{"data": ..., "meta": {...}}`.

use std::collections::BTreeMap;
use std::ops::Range;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::Result;
use crate::jsontext::span::span_in;
use crate::protocol::json;
use crate::reask::output::OutputText;
use crate::response::Cost;
use crate::response::Response;
use crate::response::Usage;

/// The body of a v3 call's success, live or cached: `{"data": ..., "meta": {...}}`.
pub(crate) fn answer(body: Bytes) -> Result<Response<OutputText>> {
    json::not_empty(&body)?;
    read_answer(body.clone()).map_err(|reason| json::invalid(&body, reason))
}

/// The most arrays and objects an output may nest: what `serde_json`'s recursion limit (128)
/// reads, past which no output type can be read from it.
const MAX_OUTPUT_DEPTH: usize = 127;

/// An answer's two parts, borrowed from its text.
#[derive(Deserialize)]
struct Parts<'a> {
    #[serde(borrow)]
    data: &'a RawValue,
    #[serde(borrow, default)]
    meta: Option<&'a RawValue>,
}

/// Reads an answer, `{"data": ..., "meta": {...}}` (a call's body, or a `complete` event's
/// data): its output, located in the body (and checked to nest at most
/// [`MAX_OUTPUT_DEPTH`] deep) but not decoded, and its metadata.
///
/// Python writes `NaN`, `Infinity` and `-Infinity`, which JSON does not have: in a body that
/// does not read, each outside a string is made `null` and the body read again, which is
/// kept when none of them was in the output (a `meta` field that cannot be read is dropped,
/// see [`metadata`]); one in the output is an error.
pub(crate) fn read_answer(body: Bytes) -> Result<Response<OutputText>, String> {
    let text = std::str::from_utf8(&body).map_err(|e| e.to_string())?;
    let (body, output, meta) = match locate(text) {
        Ok((output, meta)) => (body.clone(), output, meta),
        Err(error) => {
            let Some((patched, patches)) = non_finite_as_null(text) else {
                return Err(error);
            };
            let (output, meta) = locate(&patched).map_err(|_| error)?;
            if patches
                .iter()
                .any(|patch| patch.start < output.end && output.start < patch.end)
            {
                return Err(
                    "the output holds a number JSON does not have (NaN or Infinity)".into(),
                );
            }
            (Bytes::from(patched), output, meta)
        }
    };
    if nests_deeper(
        body.get(output.clone()).unwrap_or_default(),
        MAX_OUTPUT_DEPTH,
    ) {
        return Err(format!(
            "the output nests more than {MAX_OUTPUT_DEPTH} arrays and objects"
        ));
    }
    let meta = meta
        .and_then(|meta| body.get(meta))
        .and_then(|meta| std::str::from_utf8(meta).ok());
    let answer = metadata(meta);
    Ok(answer.map(|()| OutputText::new(body, output)))
}

/// Where the output and the `meta` are in an answer's text.
fn locate(text: &str) -> Result<(Range<usize>, Option<Range<usize>>), String> {
    if !text.trim_start().starts_with('{') {
        return Err("the answer is not a JSON object".into());
    }
    let parts: Parts<'_> = serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data if e.to_string().starts_with("missing field") => {
            String::from("the answer has no `data`")
        }
        serde_json::error::Category::Data => String::from("the answer is not a JSON object"),
        _ => e.to_string(),
    })?;
    let range = |raw: &RawValue| {
        // `raw` is a piece of `text`, located rather than copied.
        span_in(text.as_bytes(), raw.get().as_bytes()).ok_or("a part is not in the answer")
    };
    Ok((range(parts.data)?, parts.meta.map(range).transpose()?))
}

/// `text` with each `NaN`, `Infinity` and `-Infinity` outside a string made `null`, and where
/// each `null` is in it; `None` when there is none.
fn non_finite_as_null(text: &str) -> Option<(String, Vec<Range<usize>>)> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut patches = Vec::new();
    let (mut i, mut copied, mut strings) = (0, 0, Strings::default());
    while let Some(&b) = bytes.get(i) {
        if strings.holds(b) {
            i = i.saturating_add(1);
            continue;
        }
        let rest = bytes.get(i..).unwrap_or_default();
        let word = [&b"NaN"[..], b"Infinity", b"-Infinity"]
            .into_iter()
            .find(|word| rest.starts_with(word));
        match word {
            Some(word) => {
                // `i` and `copied` are at ASCII bytes: character boundaries.
                out.push_str(text.get(copied..i).unwrap_or_default());
                let start = out.len();
                out.push_str("null");
                patches.push(start..out.len());
                i = i.saturating_add(word.len());
                copied = i;
            }
            None => i = i.saturating_add(1),
        }
    }
    if patches.is_empty() {
        return None;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    Some((out, patches))
}

/// Whether `json` (valid JSON) nests more than `limit` arrays and objects. One pass.
fn nests_deeper(json: &[u8], limit: usize) -> bool {
    let (mut depth, mut strings) = (0usize, Strings::default());
    for &b in json {
        if strings.holds(b) {
            continue;
        }
        match b {
            b'[' | b'{' => {
                depth = depth.saturating_add(1);
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Which bytes of JSON text are inside a string: fed the bytes in order, it follows the quotes
/// and the escapes between them.
#[derive(Default)]
struct Strings {
    in_string: bool,
    escaped: bool,
}

impl Strings {
    /// Whether `b`, the next byte, belongs to a string (its quotes included).
    fn holds(&mut self, b: u8) -> bool {
        if self.in_string {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.in_string = false,
                _ => {}
            }
            true
        } else {
            self.in_string = b == b'"';
            self.in_string
        }
    }
}

/// An answer's metadata from its `meta` (JSON text): usage, cost, trace, and the whole `meta`.
/// A field that cannot be read (a number out of range, `1e400`) or that does not have its
/// type (a `cost` that is not a number) is dropped, and logged at `debug`: the output stands.
fn metadata(meta: Option<&str>) -> Response<()> {
    let meta = meta.and_then(|meta| match serde_json::from_str::<Value>(meta) {
        Ok(Value::Object(meta)) => Some(meta),
        Ok(_) => None,
        // A field that cannot be read: the others are kept.
        Err(_) => serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(meta)
            .ok()
            .map(|fields| {
                fields
                    .into_iter()
                    .filter_map(|(key, raw)| match serde_json::from_str(raw.get()) {
                        Ok(value) => Some((key, value)),
                        Err(error) => {
                            dropped(&key, &error.to_string());
                            None
                        }
                    })
                    .collect()
            }),
    });
    let read = |key: &str| meta.as_ref().and_then(|meta| meta.get(key));
    let usage = read("usage")
        .and_then(|usage| {
            Usage::deserialize(usage)
                .map_err(|error| dropped("usage", &error.to_string()))
                .ok()
        })
        .map(|mut usage: Usage| {
            if usage.total_tokens == 0 {
                usage.total_tokens = usage.input_tokens.saturating_add(usage.output_tokens);
            }
            usage
        });
    let cost = read("cost")
        .filter(|cost| !cost.is_null())
        .and_then(|cost| {
            let total = cost.as_f64().filter(|total| total.is_finite());
            if total.is_none() {
                dropped("cost", "not a finite number");
            }
            total
        })
        .map(|total| Cost {
            total,
            ..Cost::default()
        });
    let trace_uuid = read("trace_uuid")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Response {
        output: (),
        span_id: None,
        trace_uuid,
        usage,
        cost,
        meta: meta.map(Value::Object),
        cached: false,
        cache_hit: false,
        images: Vec::new(),
        reasks: 0,
    }
}

/// Logs a `meta` field dropped because it could not be read.
fn dropped(field: &str, reason: &str) {
    tracing::debug!(
        field,
        reason,
        "dropping a field of the answer's `meta` that cannot be read"
    );
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_inside_strings_is_neither_patched_nor_counted_as_nesting() {
        let text = r#"{"a": "NaN \" [[ Infinity", "b": NaN, "c": -Infinity}"#;
        let (patched, patches) = non_finite_as_null(text).expect("two to patch");
        assert_eq!(
            patched,
            r#"{"a": "NaN \" [[ Infinity", "b": null, "c": null}"#
        );
        assert_eq!(patches.len(), 2);
        assert!(
            patches
                .iter()
                .all(|at| patched.get(at.clone()) == Some("null"))
        );
        assert_eq!(non_finite_as_null(r#"["NaN", "\"Infinity"]"#), None);
        let nested = br#"["[[[\"[[", [1]]"#;
        assert!(!nests_deeper(nested, 2));
        assert!(nests_deeper(nested, 1));
    }

    #[test]
    fn an_answer_reads_around_what_meta_cannot_hold() {
        for meta in [
            r#"{"cost": 1e400, "trace_uuid": "t"}"#,
            r#"{"cost": NaN, "trace_uuid": "t"}"#,
            r#"{"cost": Infinity, "trace_uuid": "t"}"#,
            r#"{"cost": -Infinity, "trace_uuid": "t", "note": "NaN \" Infinity"}"#,
        ] {
            let body = format!(r#"{{"data": {{"sum": 9, "s": "NaN"}}, "meta": {meta}}}"#);
            let answer = answer(Bytes::from(body)).unwrap();
            assert_eq!(
                answer.output.to_value(),
                json!({"sum": 9, "s": "NaN"}),
                "{meta}"
            );
            assert_eq!(answer.cost, None, "{meta}");
            assert_eq!(answer.trace_uuid.as_deref(), Some("t"), "{meta}");
        }
        // In the output, such a number is an error.
        let answer = |body: &[u8]| answer(Bytes::copy_from_slice(body));
        let error = answer(br#"{"data": {"sum": NaN}, "meta": {}}"#).unwrap_err();
        assert!(error.to_string().contains("NaN or Infinity"), "{error}");
        let deepest = format!(r#"{{"data": {}1{}}}"#, "[".repeat(127), "]".repeat(127));
        assert!(answer(deepest.as_bytes()).is_ok());
        let deep = format!(r#"{{"data": {}1{}}}"#, "[".repeat(128), "]".repeat(128));
        let error = answer(deep.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("nests more than 127"), "{error}");
        assert!(
            answer(br#"{"meta": {}}"#)
                .unwrap_err()
                .to_string()
                .contains("no `data`")
        );
        assert!(
            answer(b"[1]")
                .unwrap_err()
                .to_string()
                .contains("not a JSON object")
        );
    }
}
