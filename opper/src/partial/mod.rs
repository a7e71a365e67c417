//! Partial values: the typed, incomplete output of a [`Stream`](crate::Stream).
//!
//! A streamed call sends its output as chunks, each a `delta` (a piece of text, a number or a
//! boolean) for one leaf of the output, addressed by a `json_path` such as
//! `response.people[0].name`. The [`Partial`] trait gives every output type a *partial form*
//! whose fields are all optional, and knows how to apply one chunk to it:
//!
//! - string deltas concatenate; a number or boolean field takes a typed delta or its text,
//!   possibly split over consecutive chunks of the same path (`"1"`, `"2.5"` is `12.5`);
//! - partials never lie: a number, boolean or enum variant shows only whole, once its field is
//!   complete (a typed `1` may still be followed by `2` on the same path), and once shown it
//!   never changes (its path sent again after the stream moved on must bring the same value,
//!   or the chunk is refused); see [what a partial shows](Partial#what-a-partial-shows);
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
//!   [`Error::InvalidChunk`]. The partial value is therefore never
//!   deeper than that, so applying a chunk, cloning, serializing, completing, dropping and
//!   printing it never recurse further, whatever the server sends.
//! - **Path length.** A `json_path` is at most [`MAX_PATH_BYTES`] (4 KiB) long; a longer one
//!   ends the stream with [`Error::InvalidChunk`].
//! - **Array items.** Every array item a stream creates, whether announced (`[len]`) or
//!   skipped over (`[len + 5]` fills the five items in between with their empty value), is paid
//!   for by the bytes of the `json_path`s received: a stream may create at most
//!   [`FREE_ITEMS`] items plus one per byte of `json_path` it has sent, summed over the whole
//!   stream. A chunk that would create more ends the stream with
//!   [`Error::InvalidChunk`]. A real stream announces each item
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
//! are all units. A unit enum's partial form is the enum itself, shown once its variant is
//! whole (`Option<Role>` in its parent's partial, to match on mid-stream); it needs `Clone`,
//! `Debug` and `Serialize`, and cannot be the whole output of a stream (its partial would have
//! no value before the variant is whole): put it in a struct.
//! The generated type is named `Partial` + the type's name and has the type's visibility;
//! `#[opper(partial = "OtherName")]` picks another name, and `#[opper(crate = "path")]` names
//! the `opper` crate when it is not reachable as `::opper`. On a field, `#[opper(atomic)]`
//! shows it only whole and `#[opper(required)]` holds its struct back until it has a value:
//! see [the derive](macro@crate::Partial#when-a-field-appears).

use std::borrow::Cow;
use std::fmt::Debug;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;

// The parts, leaves first: a part uses only the parts above it.
mod kind;
pub(crate) mod path;
mod cx;
mod scalar;
pub(crate) mod field;
mod impls;
pub(crate) mod derive;
mod complete;
#[cfg(test)]
mod tests;

#[doc(hidden)]
pub use path::Seg;

pub use crate::jsontext::limits::{FREE_ITEMS, MAX_DEPTH, MAX_PATH_BYTES};
pub use cx::Cx;

/// A type whose value can arrive chunk by chunk over a stream.
///
/// Implemented for strings, numbers, booleans, `char`, `Option`, `Box`, `Vec`, maps with
/// `String` keys, and `serde_json::Value`; derive it for your own structs and unit-only enums
/// with `#[derive(opper::Partial)]`. How a value is assembled is an implementation detail of the
/// derive, in a hidden supertrait that may change in any release; a unit enum implements only
/// that one (it is streamed as a field of a struct, see below).
///
/// A chunk reaches at most [`MAX_DEPTH`] levels into a value, and a stream creates array items
/// only as fast as it pays for them ([`FREE_ITEMS`]); see the [module docs](self#limits).
///
/// # What a partial shows
///
/// A partial shows only what the final output will hold. A field is *complete* when a chunk
/// for another path arrives (for a field inside an item or object: once the path leaves it) or
/// when the stream ends cleanly. Field by field:
///
/// | field | appears in the partial |
/// | --- | --- |
/// | `String` | at its first chunk, then grows by prefix |
/// | number, `bool`, sent typed (`4`, `2`) or as text (`"4"`, `"2"`) | whole, when the field completes |
/// | unit-enum variant | whole (the enum's own value), when the field completes |
/// | `Option<T>` | as `T`; a `null` delta leaves it `None` |
/// | `Vec<T>` | at its first item; an item appears when its own content would |
/// | map | at its first key; a value appears when its own content would |
/// | struct | at its first field that appears, unless it has `required` fields |
/// | `#[opper(atomic)]` field | whole, when the field completes, whatever its type |
/// | struct with `#[opper(required)]` fields | once each has a value (for a number, boolean, variant or atomic field: a whole one), or once it completes; a flattened struct's required fields count as its parent's |
/// | `serde_json::Value` | deltas as they come (JSON carries no type to wait for) |
///
/// Skipped array items (the service sends no chunk for an empty array, an empty object or
/// `null`) appear with their empty value when a later item arrives.
///
/// A unit enum's partial form is the enum itself, so that a program matches on it mid-stream
/// (`Option<Role>` in its parent's partial); it is a field's type, not a whole stream's output
/// (the partial of a stream has a value from the start, and a variant has none before it is
/// whole): stream a struct that holds it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be streamed: it does not implement `opper::Partial`",
    label = "streamed outputs need `opper::Partial`",
    note = "add `#[derive(opper::Partial)]` to `{Self}` (and to the types of its fields); a unit enum is streamed as a field of a struct"
)]
pub trait Partial: PartialForm<Form = <Self as Partial>::Partial> {
    /// The partial form: every field optional, nested types as their partials.
    type Partial: Debug + Clone + Default + Serialize + Send + Sync + 'static;
}

/// Every type with a partial form that has an empty value, `Default`: all but a unit enum.
#[diagnostic::do_not_recommend]
impl<T: PartialForm<Form: Default>> Partial for T {
    type Partial = T::Form;
}

/// How a value is assembled from chunks: what [`Partial`] builds on, implemented by the std
/// types and the derive (a unit enum implements only this). Not a public API: it may change in
/// any release.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be streamed: it does not implement `opper::Partial`",
    label = "streamed outputs need `opper::Partial`",
    note = "add `#[derive(opper::Partial)]` to `{Self}` (and to the types of its fields)"
)]
pub trait PartialForm: Sized {
    /// The partial form: every field optional, nested types as their partials. It implements
    /// `Default` (nothing arrived yet) for every type but a unit enum, whose partial form is the
    /// enum itself.
    type Form: Debug + Clone + Serialize + Send + Sync + 'static;

    /// The value of an item or entry the stream skipped (the service sends no chunk for an
    /// empty array, an empty object or `null`): the partial form's `Default`, or `None` for a
    /// type that is never empty (a unit enum), whose `__apply` only ever replaces its slot.
    fn __empty() -> Option<Self::Form>;

    /// Whether `path` (relative to this type) leads to a leaf or a `serde_json::Value`. A leaf
    /// (the default) resolves only the empty path.
    fn __resolve(path: &[Seg<'_>]) -> bool {
        path.is_empty()
    }

    /// Whether a partial value may be shown in its parent: a struct with `#[opper(required)]`
    /// fields is not until each has a value. Everything else always may (the default).
    fn __ready(partial: &Self::Form) -> bool {
        let _ = partial;
        true
    }

    /// Applies one delta at `path` (relative to this type) to the partial value in `slot`,
    /// creating it when it is `None`. In a commit walk ([`Cx::committing`]) the delta is
    /// `null` and means nothing: each level only shows what it held back, if it completes.
    fn __apply(
        slot: &mut Option<Self::Form>,
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
    let mut stack = vec![(delta, 0usize)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        let below = depth.saturating_add(1);
        deepest = deepest.max(below);
        stack.extend(children.map(|child| (child, below)));
    }
    deepest
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
    /// The previous chunk's path.
    last: Option<Last>,
    /// The path before it, kept for its buffers: the next new path is parsed into them.
    spare: Last,
    /// Whether any chunk arrived.
    started: bool,
}

impl<T: Partial> Debug for Assembler<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assembler")
            .field("partial", &self.partial)
            .field("last", &self.last.as_ref().map(|l| &l.text))
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
            cx: Cx::new(),
            last: None,
            spare: Last::default(),
            started: false,
        }
    }
    /// Applies one chunk. Returns, innermost first, the json_paths (in the previous chunk's
    /// form) of the levels of the previous path that this chunk completed by moving past
    /// them; an error when the path does not exist in `T` or the delta does not fit it.
    pub(crate) fn push(
        &mut self,
        json_path: Option<&str>,
        delta: &Value,
    ) -> Result<Vec<String>, String> {
        let text = json_path.unwrap_or("");
        if text.len() > MAX_PATH_BYTES {
            return Err(format!(
                "json_path `{}` is longer than {MAX_PATH_BYTES} bytes",
                path::shorten(text)
            ));
        }
        self.cx.items_left = self.cx.items_left.saturating_add(text.len());
        let continued = self.started && self.last.as_ref().is_some_and(|l| l.text == text);
        let mut completed = Vec::new();
        if !continued {
            let mut next = std::mem::take(&mut self.spare);
            next.parse::<T>(text)?;
            let depth = next.segs().len().saturating_add(nesting(delta));
            if depth > MAX_DEPTH {
                return Err(format!(
                    "json_path `{}`: the chunk reaches {depth} levels deep, more than the \
                     maximum of {MAX_DEPTH}",
                    path::shorten(text)
                ));
            }
            if let Some(last) = self.last.take() {
                let shared = last.shared_with(&next);
                if shared == last.segs().len() && shared == next.segs().len() {
                    // The same path, written another way: it continues.
                    self.last = Some(next);
                    self.spare = last;
                    self.apply(true, delta, json_path)?;
                    return Ok(Vec::new());
                }
                let deeper = shared.saturating_add(1);
                self.close(&last, deeper)?;
                completed = last.completed_from(deeper);
                self.spare = last;
            }
            self.last = Some(next);
        } else if nesting(delta).saturating_add(self.last.as_ref().map_or(0, |l| l.segs().len()))
            > MAX_DEPTH
        {
            return Err(format!(
                "json_path `{}`: the chunk reaches more than {MAX_DEPTH} levels deep",
                path::shorten(text)
            ));
        }
        self.apply(continued, delta, json_path)?;
        Ok(completed)
    }

    /// Applies `delta` at the current path.
    fn apply(
        &mut self,
        continued: bool,
        delta: &Value,
        json_path: Option<&str>,
    ) -> Result<(), String> {
        self.started = true;
        let segs: &[Seg<'_>] = self.last.as_ref().map_or(&[], Last::segs);
        self.cx.continued = continued;
        self.cx.len = segs.len();
        let root = Arc::make_mut(&mut self.partial);
        let mut slot = Some(std::mem::take(root));
        let result = T::__apply(&mut slot, segs, delta, &mut self.cx);
        *root = slot.unwrap_or_default();
        result.map_err(|reason| match json_path {
            Some(path) => format!("json_path `{}`: {reason}", path::shorten(path)),
            None => reason,
        })
    }

    /// Completes the levels of `last` from depth `from` down: checks that its leaf is whole,
    /// then walks it once more so that each completing level shows what it held back.
    fn close(&mut self, last: &Last, from: usize) -> Result<(), String> {
        if let Some(kind) = self.cx.pending.take() {
            return Err(format!(
                "the value of `{}` stopped at `{}`, which is not {}",
                path::shorten(&last.text),
                self.cx.text,
                kind.name()
            ));
        }
        if self.cx.held_text || self.cx.holds_anything() {
            self.cx.commit = Some(from);
            self.cx.len = last.segs().len();
            let root = Arc::make_mut(&mut self.partial);
            let mut slot = Some(std::mem::take(root));
            let result = T::__apply(&mut slot, last.segs(), &Value::Null, &mut self.cx);
            *root = slot.unwrap_or_default();
            self.cx.commit = None;
            self.cx.release_from(from);
            result
                .map_err(|reason| format!("json_path `{}`: {reason}", path::shorten(&last.text)))?;
        }
        self.cx.held_text = false;
        self.cx.text.clear();
        Ok(())
    }

    /// The partial value so far. O(1): shares the assembler's value.
    pub(crate) fn partial(&mut self) -> Arc<T::Partial> {
        Arc::clone(&self.partial)
    }

    /// Completes every level of the last path, as the end of the stream does, so that the
    /// partial shows every value that arrived whole (a number is shown once its field
    /// completes). Later chunks start a new path.
    pub(crate) fn settle(&mut self) -> Result<(), String> {
        match self.last.take() {
            Some(last) => {
                let closed = self.close(&last, 0);
                self.spare = last;
                closed
            }
            None => Ok(()),
        }
    }

    /// A hash of the partial's JSON, written into the hasher as it is serialized (nothing
    /// is copied): two partials of the same `T` with the same fingerprint show the same value.
    pub(crate) fn fingerprint(&self) -> u64 {
        use std::hash::Hasher as _;
        struct Hashing(std::collections::hash_map::DefaultHasher);
        impl std::io::Write for Hashing {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.write(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        // In blocks: a partial is written in many small pieces, each a call of the hasher.
        let mut hashing = std::io::BufWriter::with_capacity(
            8192,
            Hashing(std::collections::hash_map::DefaultHasher::new()),
        );
        // A partial is plain data: serializing it does not fail (else both sides differ).
        let _ = serde_json::to_writer(&mut hashing, &*self.partial);
        let _ = std::io::Write::flush(&mut hashing);
        hashing.get_ref().0.finish()
    }

    /// The JSON assembled so far (for errors).
    pub(crate) fn so_far(&self) -> Value {
        serde_json::to_value(&*self.partial).unwrap_or(Value::Null)
    }

    /// Ends the stream: the final value, and the json_path of the field that was still open.
    #[allow(clippy::result_large_err)] // the crate's one error type, kept whole
    pub(crate) fn finish(mut self) -> Result<(T, Option<String>), Error> {
        let last = self.last.take();
        if let Some(last) = &last
            && let Err(reason) = self.close(last, 0)
        {
            return Err(Error::Incomplete {
                reason,
                source: None,
                partial: self.so_far(),
            });
        }
        let open = last.map(|last| last.text).filter(|t| !t.is_empty());
        // Read into `T` from the partial's JSON text: one compact copy, never a `Value` tree
        // (several times larger), and the partial is dropped before `T` is built (unless a
        // caller still holds it).
        // Sized first (serialized into a counter), so the text is held in its own size.
        let mut size = Counter(0);
        let _ = serde_json::to_writer(&mut size, &*self.partial);
        let mut text = Vec::with_capacity(size.0);
        serde_json::to_writer(&mut text, &*self.partial).map_err(|e| Error::Output {
            json: Value::Null,
            path: String::new(),
            message: e.to_string(),
        })?;
        self.partial = Arc::default();
        if let Ok(value) = read_deep::<T>(&text) {
            return Ok((value, open));
        }
        // What did not read as it is: completed from the schema (arrays, objects and options
        // the service sent nothing for), then read again, or the error saying why not.
        let arrived: Value = read_deep(&text).unwrap_or(Value::Null);
        drop(text);
        let mut json = arrived.clone();
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
                    reason.push_str(&format!(" and {} more", missing.len().saturating_sub(3)));
                }
                return Err(Error::Incomplete {
                    reason,
                    source: None,
                    partial: arrived,
                });
            }
        }
        match serde_path_to_error::deserialize::<_, T>(&json) {
            Ok(value) => Ok((value, open)),
            Err(error) => {
                let (path, message) = (error.path().to_string(), error.into_inner().to_string());
                if self.schema.is_none() && message.starts_with("missing field") {
                    return Err(Error::Incomplete {
                        reason: format!("{message} at `{path}`"),
                        source: None,
                        partial: arrived,
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
}

/// Reads the JSON of a partial value, which nests at most [`MAX_DEPTH`] levels plus its
/// leaf: past `serde_json`'s own recursion limit (128), which the deepest allowed value
/// reaches, and as safely (the depth is bounded all the same).
fn read_deep<T: DeserializeOwned>(text: &[u8]) -> serde_json::Result<T> {
    let mut reader = serde_json::Deserializer::from_slice(text);
    reader.disable_recursion_limit();
    let value = T::deserialize(&mut reader)?;
    reader.end()?;
    Ok(value)
}

/// A writer that counts what is written to it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(bytes.len());
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The longest key whose `String` [`Last::parse`] reuses for the key of a later path.
const MAX_REUSED_KEY: usize = 64;

/// The previous chunk's path: as sent, parsed relative to the output, and where each of its
/// segments ends in the text.
#[derive(Default)]
struct Last {
    text: String,
    /// Every segment of `text`, a `response` prefix included: the path is `all[skip..]`.
    all: Vec<Seg<'static>>,
    /// Where each of `all` ends in `text`.
    ends: Vec<usize>,
    /// 1 when `all` starts with the documented `response` prefix, else 0.
    skip: usize,
}

impl Last {
    /// Parses `text` into `self`, reusing its buffers: a path differs from the one two chunks
    /// before mostly by an index or a field name, so a new path allocates nothing once the
    /// buffers have grown (a key goes into the `String` already at its place).
    fn parse<T: Partial>(&mut self, text: &str) -> Result<(), String> {
        self.text.clear();
        self.text.push_str(text);
        self.ends.clear();
        let (all, ends) = (&mut self.all, &mut self.ends);
        let mut len = 0usize;
        path::parse_each(text, |seg, end| {
            match (all.get_mut(len), seg) {
                // A short key only: a long one is not kept at every level for later paths.
                (Some(Seg::Key(Cow::Owned(old))), Seg::Key(key))
                    if old.capacity() <= MAX_REUSED_KEY =>
                {
                    if *old != *key {
                        old.clear();
                        old.push_str(&key);
                    }
                }
                (Some(slot), seg) => *slot = seg.into_owned(),
                (None, seg) => all.push(seg.into_owned()),
            }
            ends.push(end);
            len = len.saturating_add(1);
        })?;
        all.truncate(len);
        // The documented prefix, unless the whole path is a path of `T` (a field named
        // `response`) and the rest is not.
        self.skip = match all.split_first() {
            Some((Seg::Key(key), rest))
                if key == "response" && (T::__resolve(rest) || !T::__resolve(all)) =>
            {
                1
            }
            _ => 0,
        };
        Ok(())
    }

    /// The path, relative to the output.
    fn segs(&self) -> &[Seg<'static>] {
        self.all.get(self.skip..).unwrap_or_default()
    }

    /// How many leading segments `self` and `other` share.
    fn shared_with(&self, other: &Last) -> usize {
        self.segs()
            .iter()
            .zip(other.segs())
            .take_while(|(a, b)| a == b)
            .count()
    }

    /// The paths of the levels at depth `from` and deeper, innermost first (never the root).
    fn completed_from(&self, from: usize) -> Vec<String> {
        // Level `depth` ends at `ends[depth - 1]`, a character boundary of `text`.
        let ends = self
            .ends
            .get(self.skip.saturating_add(from.max(1).saturating_sub(1))..);
        ends.unwrap_or_default()
            .iter()
            .rev()
            .filter_map(|&end| self.text.get(..end))
            .map(str::to_owned)
            .collect()
    }
}
