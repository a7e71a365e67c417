//! Splitting a value into streaming chunks the way the Opper service does.

use serde_json::{Map, Value};

use super::schema::Rng;

/// One event of a `/call/stream` response: the JSON of a `StreamingChunk`.
///
/// Fields that are `None` are left out of the JSON, as the service does.
///
/// ```
/// use opper::testing::Chunk;
/// use serde_json::json;
///
/// let chunk = Chunk::json("response.name", json!("Ann"));
/// assert_eq!(
///     chunk.to_sse(),
///     "data: {\"delta\": \"Ann\", \"json_path\": \"response.name\", \"chunk_type\": \"json\"}\n\n"
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Chunk {
    /// The call's span; set in the first event of a stream, alone.
    pub span_id: Option<String>,
    /// The increment: a string, a number or a boolean.
    pub delta: Option<Value>,
    /// The field the delta belongs to (structured mode only), e.g. `response.people[0].name`.
    pub json_path: Option<String>,
    /// `"json"`, `"text"` or `"error"`.
    pub chunk_type: Option<String>,
    /// The error's kind, in an error chunk.
    pub error_type: Option<String>,
    /// The error's message, in an error chunk.
    pub error_message: Option<String>,
}

impl Chunk {
    fn empty() -> Self {
        Self {
            span_id: None,
            delta: None,
            json_path: None,
            chunk_type: None,
            error_type: None,
            error_message: None,
        }
    }

    /// The first event of a stream: `{"span_id": "..."}`.
    pub fn span(span_id: impl Into<String>) -> Self {
        Self {
            span_id: Some(span_id.into()),
            ..Self::empty()
        }
    }

    /// A structured-mode chunk: `{"delta": ..., "json_path": ..., "chunk_type": "json"}`.
    pub fn json(json_path: impl Into<String>, delta: impl Into<Value>) -> Self {
        Self {
            delta: Some(delta.into()),
            json_path: Some(json_path.into()),
            chunk_type: Some("json".to_owned()),
            ..Self::empty()
        }
    }

    /// A text-mode chunk: `{"delta": "...", "chunk_type": "text"}`.
    pub fn text(delta: impl Into<String>) -> Self {
        Self {
            delta: Some(Value::String(delta.into())),
            chunk_type: Some("text".to_owned()),
            ..Self::empty()
        }
    }

    /// An error chunk: `{"chunk_type": "error", "error_type": ..., "error_message": ...}`.
    pub fn error(error_type: impl Into<String>, error_message: impl Into<String>) -> Self {
        Self {
            chunk_type: Some("error".to_owned()),
            error_type: Some(error_type.into()),
            error_message: Some(error_message.into()),
            ..Self::empty()
        }
    }

    /// The chunk as a JSON object, without the fields that are `None`.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                map.insert(key.to_owned(), value);
            }
        };
        put("span_id", self.span_id.clone().map(Value::String));
        put("delta", self.delta.clone());
        put("json_path", self.json_path.clone().map(Value::String));
        put("chunk_type", self.chunk_type.clone().map(Value::String));
        put("error_type", self.error_type.clone().map(Value::String));
        put(
            "error_message",
            self.error_message.clone().map(Value::String),
        );
        Value::Object(map)
    }

    /// The chunk's JSON text, keys in the service's order (`span_id`, `delta`, `json_path`,
    /// `chunk_type`, `error_type`, `error_message`), separated as Python's `json.dumps` does.
    pub fn to_json_string(&self) -> String {
        let fields: [(&str, Option<Value>); 6] = [
            ("span_id", self.span_id.clone().map(Value::String)),
            ("delta", self.delta.clone()),
            ("json_path", self.json_path.clone().map(Value::String)),
            ("chunk_type", self.chunk_type.clone().map(Value::String)),
            ("error_type", self.error_type.clone().map(Value::String)),
            (
                "error_message",
                self.error_message.clone().map(Value::String),
            ),
        ];
        let mut out = String::from("{");
        for (key, value) in fields {
            let Some(value) = value else { continue };
            if out.len() > 1 {
                out.push_str(", ");
            }
            out.push('"');
            out.push_str(key);
            out.push_str("\": ");
            out.push_str(&python_style(&value));
        }
        out.push('}');
        out
    }

    /// The chunk framed as one Server-Sent Event: `data: {json}\n\n`.
    pub fn to_sse(&self) -> String {
        format!("data: {}\n\n", self.to_json_string())
    }
}

/// Serializes like Python's `json.dumps` with its default separators (`", "` and `": "`).
pub(crate) fn python_style(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(python_style).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), python_style(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

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
}

/// Splits `value` into the chunks a stream of it carries, in order, without the first
/// `{"span_id": ...}` event.
///
/// Strings become several chunks whose deltas concatenate to the string; numbers and booleans
/// one chunk each; array items get `[i]` paths, object fields `.name` paths. Values that never
/// get a delta (an empty array, an empty object, `null`) get no chunk, as with the service.
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
pub fn chunks_for(value: &Value, options: &ChunkOptions) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut rng = match options.split {
        Split::Random(seed) => Rng::new(seed),
        _ => Rng::new(0),
    };
    if options.text_mode {
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        for piece in split_text(&text, options, &mut rng) {
            out.push(Chunk::text(piece));
        }
        return out;
    }
    let root = if options.prefix { "response" } else { "" };
    walk(value, root.to_owned(), options, &mut rng, &mut out);
    out
}

fn walk(value: &Value, path: String, options: &ChunkOptions, rng: &mut Rng, out: &mut Vec<Chunk>) {
    match value {
        Value::Null => {}
        Value::String(text) => {
            for piece in split_text(text, options, rng) {
                out.push(Chunk::json(path.clone(), piece));
            }
        }
        Value::Number(_) if options.numbers_as_text => {
            for piece in split_scalar(&value.to_string(), options, rng) {
                out.push(Chunk::json(path.clone(), piece));
            }
        }
        Value::Bool(_) if options.booleans_as_text => {
            for piece in split_scalar(&value.to_string(), options, rng) {
                out.push(Chunk::json(path.clone(), piece));
            }
        }
        Value::Number(_) | Value::Bool(_) => out.push(Chunk::json(path, value.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, format!("{path}[{i}]"), options, rng, out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(item, child, options, rng, out);
            }
        }
    }
}

/// Splits the text of a number or boolean: whole, unless random splits are on.
fn split_scalar(text: &str, options: &ChunkOptions, rng: &mut Rng) -> Vec<String> {
    match options.split {
        Split::Random(_) => split_text(text, options, rng),
        _ => vec![text.to_owned()],
    }
}

/// Splits a string into pieces that concatenate back to it. An empty string is one empty piece.
pub(crate) fn split_text(text: &str, options: &ChunkOptions, rng: &mut Rng) -> Vec<String> {
    if text.is_empty() {
        return vec![String::new()];
    }
    let chars: Vec<char> = text.chars().collect();
    let mut pieces = Vec::new();
    match options.split {
        Split::Whole => pieces.push(text.to_owned()),
        Split::Random(_) => {
            let mut i = 0;
            while i < chars.len() {
                let len = 1 + rng.below(options.max_piece as u64) as usize;
                let end = (i + len).min(chars.len());
                pieces.push(chars[i..end].iter().collect());
                i = end;
            }
        }
        Split::Words => {
            // A piece is leading whitespace plus one word, like an LLM token stream.
            let mut current = String::new();
            let mut in_word = false;
            let mut word_len = 0;
            for &c in &chars {
                let space = c.is_whitespace();
                if (space && in_word) || (!space && word_len >= options.max_piece) {
                    pieces.push(std::mem::take(&mut current));
                    in_word = false;
                    word_len = 0;
                }
                current.push(c);
                if !space {
                    in_word = true;
                    word_len += 1;
                }
            }
            if !current.is_empty() {
                pieces.push(current);
            }
        }
    }
    pieces
}
