//! Splitting a value into the chunks of a `/call/stream` response, the way the Opper service
//! does: the crate's one chunker, for the testing server and for the reassembly unit tests.

mod frame;
// The JSON text deltas of a v3 stream.
mod text;

use serde_json::Value;

use crate::protocol::v2::chunk::StreamingChunk;
use crate::testing::rng::Rng;

#[cfg(feature = "testing")]
pub(crate) use frame::python_json;
#[cfg(feature = "testing")]
pub(crate) use text::text_deltas;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    Words,
    Random(u64),
    Whole,
}

/// How [`chunks_for`] splits a value into chunks.
///
/// The default is what the server does: `json_path` with the `response.` prefix, strings split
/// at word boundaries (`"John"`, `" Doe"`; long words in pieces of at most 8 characters),
/// numbers and booleans whole and typed.
///
/// ```
/// use opper::testing::ChunkOptions;
///
/// let options = ChunkOptions::new().prefix(false).numbers_as_text(true).random_splits(42);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkOptions {
    prefix: bool,
    numbers_as_text: bool,
    booleans_as_text: bool,
    text_mode: bool,
    split: Split,
    max_piece: usize,
    /// Each number and boolean typed or as text, each key `.key` or `["key"]`, at random.
    vary: bool,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkOptions {
    /// The service's way: prefixed paths, word-sized string pieces, typed numbers and booleans.
    pub fn new() -> Self {
        Self {
            prefix: true,
            numbers_as_text: false,
            booleans_as_text: false,
            text_mode: false,
            split: Split::Words,
            max_piece: 8,
            vary: false,
        }
    }

    /// Whether `json_path` starts with `response.` (default `true`). Without it, paths look like
    /// `people[0].name`.
    pub fn prefix(mut self, on: bool) -> Self {
        self.prefix = on;
        self
    }

    /// Sends numbers as the text of the number (`"42"`) instead of a JSON number. With
    /// [`random_splits`](Self::random_splits) the text is also split over several chunks.
    pub fn numbers_as_text(mut self, on: bool) -> Self {
        self.numbers_as_text = on;
        self
    }

    /// Sends booleans as text (`"true"`) instead of a JSON boolean, split like numbers.
    pub fn booleans_as_text(mut self, on: bool) -> Self {
        self.booleans_as_text = on;
        self
    }

    /// Text mode (no `output_schema`): chunks have `chunk_type` `"text"` and no `json_path`; a
    /// value that is not a string is sent as its JSON text.
    pub fn text_mode(mut self, on: bool) -> Self {
        self.text_mode = on;
        self
    }

    /// Splits strings (and numbers or booleans sent as text) at random character boundaries,
    /// pieces of 1 to `max_piece` characters, drawn from `seed`.
    pub fn random_splits(mut self, seed: u64) -> Self {
        self.split = Split::Random(seed);
        self
    }

    /// Sends every string in one chunk.
    pub fn whole_strings(mut self) -> Self {
        self.split = Split::Whole;
        self
    }

    /// The longest piece of a string, in characters (default 8, at least 1).
    pub fn max_piece(mut self, chars: usize) -> Self {
        self.max_piece = chars.max(1);
        self
    }

    /// For the reassembly tests: every number and boolean is typed or text, and every key
    /// `.key` or `["key"]`, at random (from the [`random_splits`](Self::random_splits) seed).
    #[cfg(test)]
    pub(crate) fn vary(mut self) -> Self {
        self.vary = true;
        self
    }
}

/// Splits `value` into the chunks a stream of it carries, in order, without the first
/// `{"span_id": ...}` event.
///
/// Strings become several chunks whose deltas concatenate to the string; numbers and booleans
/// one chunk each; array items get `[i]` paths, object fields `.name` paths (`["name"]` when the
/// name holds `.`, `[`, `]`, quotes or a backslash, or starts with `$`). Values that never get a
/// delta (an empty array, an empty object, `null`) get no chunk, as with the service.
///
/// ```
/// use opper::testing::{ChunkOptions, chunks_for};
/// use serde_json::json;
///
/// let chunks = chunks_for(&json!({"name": "John Doe", "age": 41}), &ChunkOptions::new());
/// let paths: Vec<_> = chunks.iter().map(|c| c.json_path.clone().unwrap()).collect();
/// // Fields in the value's own order, as the model writes them.
/// assert_eq!(paths, ["response.name", "response.name", "response.age"]);
/// assert_eq!(chunks[0].delta, Some(json!("John")));
/// assert_eq!(chunks[1].delta, Some(json!(" Doe")));
/// ```
pub fn chunks_for(value: &Value, options: &ChunkOptions) -> Vec<StreamingChunk> {
    let mut chunker = Chunker {
        options,
        rng: Rng::new(match options.split {
            Split::Random(seed) => seed,
            _ => 0,
        }),
        out: Vec::new(),
    };
    if options.text_mode {
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        for piece in chunker.split_text(&text) {
            chunker.out.push(StreamingChunk::text(piece));
        }
        return chunker.out;
    }
    let mut path = String::from(if options.prefix { "response" } else { "" });
    chunker.walk(value, &mut path);
    chunker.out
}

struct Chunker<'a> {
    options: &'a ChunkOptions,
    rng: Rng,
    out: Vec<StreamingChunk>,
}

impl Chunker<'_> {
    fn walk(&mut self, value: &Value, path: &mut String) {
        match value {
            Value::Null => {}
            Value::String(text) => {
                for piece in self.split_text(text) {
                    self.out.push(StreamingChunk::json(path.clone(), piece));
                }
            }
            Value::Number(_) | Value::Bool(_) => {
                let as_text = if self.options.vary {
                    self.rng.coin()
                } else if value.is_number() {
                    self.options.numbers_as_text
                } else {
                    self.options.booleans_as_text
                };
                if !as_text {
                    self.out
                        .push(StreamingChunk::json(path.clone(), value.clone()));
                    return;
                }
                let text = value.to_string();
                let pieces = match self.options.split {
                    Split::Random(_) => self.split_text(&text),
                    _ => vec![text],
                };
                for piece in pieces {
                    self.out.push(StreamingChunk::json(path.clone(), piece));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    self.walk(item, path);
                    path.truncate(len);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    let len = path.len();
                    self.push_key(path, key);
                    self.walk(item, path);
                    path.truncate(len);
                }
            }
        }
    }

    /// Appends `.key` (just `key` at an unprefixed root), or `["key"]` for a key that cannot be
    /// written plainly.
    fn push_key(&mut self, path: &mut String, key: &str) {
        let plain = !key.is_empty()
            && !key.contains(['.', '[', ']', '"', '\'', '\\'])
            && !key.starts_with('$');
        if plain && !(self.options.vary && self.rng.coin()) {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
        } else {
            path.push_str("[\"");
            path.push_str(&key.replace('\\', "\\\\").replace('"', "\\\""));
            path.push_str("\"]");
        }
    }

    /// Splits a string into pieces that concatenate back to it. An empty string is one empty
    /// piece.
    fn split_text(&mut self, text: &str) -> Vec<String> {
        if text.is_empty() {
            return vec![String::new()];
        }
        let max_piece = self.options.max_piece;
        let mut pieces = Vec::new();
        match self.options.split {
            Split::Whole => pieces.push(text.to_owned()),
            Split::Random(_) => {
                let mut rest = text;
                while !rest.is_empty() {
                    // At most `max_piece`, itself a `usize`: the sum cannot saturate.
                    let len = self.rng.below_usize(max_piece).saturating_add(1);
                    let end = rest.char_indices().nth(len).map_or(rest.len(), |(i, _)| i);
                    // `end` is a character boundary of `rest` (or its length).
                    let (piece, tail) = rest.split_at_checked(end).unwrap_or((rest, ""));
                    pieces.push(piece.to_owned());
                    rest = tail;
                }
            }
            Split::Words => {
                // A piece is leading whitespace plus one word, like an LLM token stream.
                let mut current = String::new();
                let mut in_word = false;
                let mut word_len = 0;
                for c in text.chars() {
                    let space = c.is_whitespace();
                    if (space && in_word) || (!space && word_len >= max_piece) {
                        pieces.push(std::mem::take(&mut current));
                        in_word = false;
                        word_len = 0;
                    }
                    current.push(c);
                    if !space {
                        in_word = true;
                        word_len = word_len.saturating_add(1);
                    }
                }
                if !current.is_empty() {
                    pieces.push(current);
                }
            }
        }
        pieces
    }
}
