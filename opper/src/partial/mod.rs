//! Partial values: the typed, incomplete output of a [`Stream`](crate::Stream).
//!
//! A streamed call sends its output as chunks, each a `delta` (a piece of text, a number or a
//! boolean) for one leaf of the output, addressed by a `json_path` such as
//! `response.people[0].name`. The [`Partial`] trait gives every output type a *partial form*
//! whose fields are all optional, and knows how to apply one chunk to it:
//!
//! - string deltas concatenate; a number or boolean field takes a typed delta or its text,
//!   possibly split over consecutive chunks of the same path (`"1"`, `"2.5"` is `12.5`);
//! - `[i]` creates the items of an array in order and fills them;
//! - the `response.` prefix of a path is optional, and a field literally named `response` still
//!   works;
//! - nothing is guessed: a string field that receives `"123"` holds `"123"`.
//!
//! # Limits
//!
//! What a stream builds is bounded by what it sent, so a hostile server cannot crash the
//! process nor exhaust its memory:
//!
//! - **Depth.** A chunk's `json_path` (after the optional `response` prefix) plus the nesting
//!   of its delta is at most [`MAX_DEPTH`] (128, like `serde_json`'s own recursion limit)
//!   levels deep; a deeper chunk ends the stream with
//!   [`Error::InvalidChunk`](crate::Error::InvalidChunk). The partial value is therefore never
//!   deeper than that, so applying a chunk, cloning, serializing, completing, dropping and
//!   printing it never recurse further, whatever the server sends.
//! - **Array items.** Every array item a stream creates, whether announced (`[len]`) or
//!   skipped over (`[len + 5]` fills the five items in between with their empty value), is paid
//!   for by the bytes of the `json_path`s received: a stream may create at most
//!   [`FREE_ITEMS`] items plus one per byte of `json_path` it has sent, summed over the whole
//!   stream. A chunk that would create more ends the stream with
//!   [`Error::InvalidChunk`](crate::Error::InvalidChunk). A real stream announces each item
//!   with at least the three bytes of `[i]`, so it never comes near the limit.
//!
//! At the end of the stream, required arrays, objects and options that never received a chunk
//! are completed from the output schema and the value is deserialized into the output type.
//!
//! Derive it with `#[derive(opper::Partial)]` next to `Deserialize` and `JsonSchema`:
//!
//! ```
//! #[derive(serde::Deserialize, opper::Partial)]
//! struct Person {
//!     name: String,
//!     age: u32,
//! }
//!
//! // The derive generates `PartialPerson { name: Option<String>, age: Option<u32> }`,
//! // which implements Debug, Clone, Default and Serialize (to the JSON known so far).
//! let partial = PartialPerson { name: Some("An".into()), ..Default::default() };
//! assert_eq!(serde_json::to_string(&partial).unwrap(), r#"{"name":"An"}"#);
//! ```
//!
//! The derive honours serde's `rename`, `rename_all`, `alias`, `skip`, `skip_deserializing`,
//! `default` and `flatten`; it supports structs with named fields and enums whose variants
//! are all units (their partial form is the text of the variant's name received so far).
//! The generated type is named `Partial` + the type's name and has the type's visibility;
//! `#[opper(partial = "OtherName")]` picks another name, and `#[opper(crate = "path")]` names
//! the `opper` crate when it is not reachable as `::opper`.

use std::fmt::Debug;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;

mod complete;
pub(crate) mod derive;
mod impls;
pub(crate) mod path;
mod scalar;
#[cfg(test)]
mod tests;

#[doc(hidden)]
pub use path::Seg;

/// The deepest a chunk may reach into the output: the segments of its `json_path` (without
/// the optional `response` prefix) plus the nesting of its delta. Also the deepest the output
/// schema is followed when the value is completed at the end. See the [module docs](self).
pub const MAX_DEPTH: usize = 128;

/// The array items a stream may create before each must be paid for by a byte of `json_path`
/// received. See the [module docs](self).
pub const FREE_ITEMS: usize = 4096;

/// A type whose value can arrive chunk by chunk over a stream.
///
/// Implemented for strings, numbers, booleans, `char`, `Option`, `Box`, `Vec`, maps with
/// `String` keys, and `serde_json::Value`; derive it for your own structs and unit-only enums
/// with `#[derive(opper::Partial)]`. The methods of the trait are an implementation detail of
/// the derive: they are hidden and may change in any release.
///
/// A chunk reaches at most [`MAX_DEPTH`] levels into a value, and a stream creates array items
/// only as fast as it pays for them ([`FREE_ITEMS`]); see the [module docs](self#limits).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be streamed: it does not implement `opper::Partial`",
    label = "streamed outputs need `opper::Partial`",
    note = "add `#[derive(opper::Partial)]` to `{Self}` (and to the types of its fields)"
)]
pub trait Partial: Sized {
    /// The partial form: every field optional, nested types as their partials.
    type Partial: Debug + Clone + Default + Serialize + Send + Sync + 'static;

    /// Whether `path` (relative to this type) leads to a leaf or a `serde_json::Value`. A leaf
    /// (the default) resolves only the empty path.
    #[doc(hidden)]
    fn __resolve(path: &[Seg<'_>]) -> bool {
        path.is_empty()
    }

    /// Applies one delta at `path` (relative to this type) to the partial value in `slot`,
    /// creating it when it is `None`.
    #[doc(hidden)]
    fn __apply(
        slot: &mut Option<Self::Partial>,
        path: &[Seg<'_>],
        delta: &Value,
        cx: &mut Cx,
    ) -> Result<(), String>;
}

/// How deeply a delta nests arrays and objects: 0 for a scalar, 1 for `[]` or `[1]`.
/// Iterative, so any delta is measured safely.
fn nesting(delta: &Value) -> usize {
    if !matches!(delta, Value::Array(_) | Value::Object(_)) {
        return 0;
    }
    let mut deepest = 0;
    let mut stack = vec![(delta, 0)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        deepest = deepest.max(depth + 1);
        stack.extend(children.map(|child| (child, depth + 1)));
    }
    deepest
}

/// State an [`Assembler`] keeps between chunks, shared by every leaf.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Cx {
    /// This chunk continues the previous one (same json_path).
    continued: bool,
    /// The text so far of the current number or boolean leaf.
    text: String,
    /// The current leaf's text is an incomplete number or boolean of this kind.
    pending: Option<scalar::Kind>,
    /// How many more array items this stream may create (see [`FREE_ITEMS`]).
    items_left: usize,
}

impl Cx {
    /// Pays for `count` new array items out of the stream's budget.
    pub(crate) fn create_items(&mut self, count: usize) -> Result<(), String> {
        match self.items_left.checked_sub(count) {
            Some(left) => {
                self.items_left = left;
                Ok(())
            }
            None => Err(format!(
                "the chunk would create {count} array items, more than the {} the stream has \
                 paid for ({FREE_ITEMS} plus one per byte of json_path received)",
                self.items_left
            )),
        }
    }
}

/// Reassembles chunks into a partial value, then the final value.
///
/// Each [`push`](Self::push) costs O(path depth + delta length): the partial value lives in an
/// `Arc` that [`partial`](Self::partial) shares and the next push updates in place through
/// `Arc::make_mut` (it copies the value only while a caller still holds the previous snapshot).
pub(crate) struct Assembler<T: Partial> {
    partial: Arc<T::Partial>,
    schema: Option<Arc<Value>>,
    cx: Cx,
    /// The json_path of the previous chunk, as sent.
    last: Option<String>,
    /// Whether any chunk arrived.
    started: bool,
}

impl<T: Partial> Debug for Assembler<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assembler")
            .field("partial", &self.partial)
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

impl<T: Partial + DeserializeOwned> Assembler<T> {
    /// An assembler for one stream; `schema` is the output schema, used to complete the value
    /// at the end (`None` in text mode).
    pub(crate) fn new(schema: Option<Arc<Value>>) -> Self {
        Self {
            partial: Arc::default(),
            schema,
            cx: Cx {
                items_left: FREE_ITEMS,
                ..Cx::default()
            },
            last: None,
            started: false,
        }
    }

    /// Applies one chunk. Returns the json_path (as sent) of the field the previous chunks were
    /// filling when this chunk moves on to another one; an error when the path does not exist
    /// in `T` or the delta does not fit it.
    pub(crate) fn push(
        &mut self,
        json_path: Option<&str>,
        delta: &Value,
    ) -> Result<Option<String>, String> {
        let text = json_path.unwrap_or("");
        let segs = path::parse(text)?;
        self.cx.items_left = self.cx.items_left.saturating_add(text.len());
        let continued = self.started && self.last.as_deref() == json_path;
        let mut completed = None;
        if !continued {
            self.end_leaf()?;
            completed = self.last.take();
            self.last = json_path.map(str::to_owned);
        }
        self.started = true;
        self.cx.continued = continued;

        let segs: &[Seg<'_>] = match segs.split_first() {
            // The documented prefix, unless the whole path is a path of `T` (a field named
            // `response`) and the rest is not.
            Some((Seg::Key(key), rest))
                if key == "response" && (T::__resolve(rest) || !T::__resolve(&segs)) =>
            {
                rest
            }
            _ => &segs,
        };
        let depth = segs.len() + nesting(delta);
        if depth > MAX_DEPTH {
            return Err(format!(
                "json_path `{}`: the chunk reaches {depth} levels deep, more than the maximum \
                 of {MAX_DEPTH}",
                path::shorten(text)
            ));
        }
        let root = Arc::make_mut(&mut self.partial);
        let mut slot = Some(std::mem::take(root));
        let result = T::__apply(&mut slot, segs, delta, &mut self.cx);
        *root = slot.unwrap_or_default();
        result.map_err(|reason| match json_path {
            Some(path) => format!("json_path `{}`: {reason}", path::shorten(path)),
            None => reason,
        })?;
        Ok(completed)
    }

    /// The partial value so far. O(1): shares the assembler's value.
    pub(crate) fn partial(&mut self) -> Arc<T::Partial> {
        Arc::clone(&self.partial)
    }

    /// The JSON assembled so far (for errors).
    pub(crate) fn so_far(&self) -> Value {
        serde_json::to_value(&*self.partial).unwrap_or(Value::Null)
    }

    /// Ends the stream: the final value, and the json_path of the field that was still open.
    #[allow(clippy::result_large_err)] // the crate's one error type, kept whole
    pub(crate) fn finish(mut self) -> Result<(T, Option<String>), Error> {
        if let Err(reason) = self.end_leaf() {
            return Err(Error::Incomplete {
                reason,
                source: None,
                partial: self.so_far(),
            });
        }
        let received = serde_json::to_value(&*self.partial).map_err(|e| Error::Output {
            json: Value::Null,
            path: String::new(),
            message: e.to_string(),
        })?;
        let mut json = received.clone();
        if let Some(schema) = &self.schema {
            let mut missing = Vec::new();
            complete::complete(&mut json, schema, &mut missing);
            if !missing.is_empty() {
                let mut reason = String::from("no value arrived for ");
                for (i, path) in missing.iter().take(3).enumerate() {
                    if i > 0 {
                        reason.push_str(", ");
                    }
                    reason.push_str(&format!("`{path}`"));
                }
                if missing.len() > 3 {
                    reason.push_str(&format!(" and {} more", missing.len() - 3));
                }
                return Err(Error::Incomplete {
                    reason,
                    source: None,
                    partial: received,
                });
            }
        }
        match serde_path_to_error::deserialize::<_, T>(&json) {
            Ok(value) => Ok((value, self.last)),
            Err(error) => {
                let path = error.path().to_string();
                let message = error.into_inner().to_string();
                if self.schema.is_none() && message.starts_with("missing field") {
                    return Err(Error::Incomplete {
                        reason: format!("{message} at `{path}`"),
                        source: None,
                        partial: received,
                    });
                }
                Err(Error::Output {
                    json,
                    path,
                    message,
                })
            }
        }
    }

    /// Closes the current leaf: an error if it holds an incomplete number or boolean.
    fn end_leaf(&mut self) -> Result<(), String> {
        let pending = self.cx.pending.take();
        let text = std::mem::take(&mut self.cx.text);
        match pending {
            Some(kind) => Err(format!(
                "the value of `{}` stopped at `{text}`, which is not {}",
                self.last.as_deref().unwrap_or_default(),
                kind.name()
            )),
            None => Ok(()),
        }
    }
}
