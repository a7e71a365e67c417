//! The `content` deltas of a v3 stream: an output written as compact JSON text the way a model
//! may write it, cut into small deltas at awkward places on purpose.

use serde_json::Value;

use crate::testing::rng::Rng;

/// The longest delta, in characters.
const MAX_DELTA: usize = 6;

/// The compact JSON text of `value`, cut into deltas of 1 to 6 characters (on char boundaries)
/// that concatenate to it. Deterministic for a `seed`.
///
/// The text is valid JSON for `value`, written with the freedom a model has: each non-ASCII
/// character raw or escaped (`\u00e9`, a surrogate pair `\ud83d\ude00` beyond the BMP), `/`
/// sometimes escaped as `\/`, control characters as their short escapes or `\u00XX`. Cuts fall
/// more often than chance right after a `\`, inside a `\uXXXX` or between its pair, inside
/// numbers and `true`/`false`/`null`, and between a key and its colon.
pub(crate) fn text_deltas(value: &Value, seed: u64) -> Vec<String> {
    let mut writer = Writer {
        rng: Rng::new(seed),
        text: String::new(),
        awkward: Vec::new(),
    };
    writer.value(value);
    writer.cut()
}

struct Writer {
    rng: Rng,
    text: String,
    /// Byte offsets in `text` where a cut is awkward for a reader, ascending.
    awkward: Vec<usize>,
}

impl Writer {
    fn mark(&mut self) {
        self.awkward.push(self.text.len());
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => {
                let token = value.to_string();
                for (i, c) in token.char_indices() {
                    if i > 0 {
                        self.mark();
                    }
                    self.text.push(c);
                }
            }
            Value::String(text) => self.string(text),
            Value::Array(items) => {
                self.text.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.text.push(',');
                    }
                    self.value(item);
                }
                self.text.push(']');
            }
            Value::Object(map) => {
                self.text.push('{');
                for (i, (key, item)) in map.iter().enumerate() {
                    if i > 0 {
                        self.text.push(',');
                    }
                    self.string(key);
                    self.mark();
                    self.text.push(':');
                    self.value(item);
                }
                self.text.push('}');
            }
        }
    }

    fn string(&mut self, text: &str) {
        self.text.push('"');
        for c in text.chars() {
            match c {
                '"' => self.escape("\""),
                '\\' => self.escape("\\"),
                '\n' => self.escape("n"),
                '\r' => self.escape("r"),
                '\t' => self.escape("t"),
                '\u{8}' => self.escape("b"),
                '\u{c}' => self.escape("f"),
                '/' if self.rng.below(4) == 0 => self.escape("/"),
                c if c < ' ' || (!c.is_ascii() && self.rng.coin()) => {
                    let mut units = [0; 2];
                    for unit in c.encode_utf16(&mut units) {
                        self.unicode(*unit);
                    }
                }
                c => self.text.push(c),
            }
        }
        self.text.push('"');
    }

    /// `\` and the escape's letter.
    fn escape(&mut self, letter: &str) {
        self.text.push('\\');
        self.mark();
        self.text.push_str(letter);
    }

    /// `\uXXXX`, with awkward cuts after each of its characters.
    fn unicode(&mut self, unit: u16) {
        self.mark();
        let escape = format!("\\u{unit:04x}");
        for c in escape.chars() {
            self.text.push(c);
            self.mark();
        }
    }

    /// Cuts the text: each delta ends at an awkward place within reach two times in three,
    /// else after 1 to 6 characters at random.
    fn cut(mut self) -> Vec<String> {
        let text = std::mem::take(&mut self.text);
        let mut deltas = Vec::new();
        let mut start = 0;
        let mut next_awkward = 0;
        while start < text.len() {
            let rest = text.get(start..).unwrap_or_default();
            // The byte offset of the end of the longest delta from here.
            let reach = rest
                .char_indices()
                .nth(MAX_DELTA)
                .map_or(text.len(), |(i, _)| start.saturating_add(i));
            while self
                .awkward
                .get(next_awkward)
                .is_some_and(|&at| at <= start)
            {
                next_awkward = next_awkward.saturating_add(1);
            }
            let candidates = self
                .awkward
                .get(next_awkward..)
                .unwrap_or_default()
                .iter()
                .take_while(|&&at| at <= reach)
                .count();
            let end = if candidates > 0 && self.rng.below(3) != 0 {
                let pick = next_awkward.saturating_add(self.rng.below_usize(candidates));
                self.awkward.get(pick).copied().unwrap_or(reach)
            } else {
                let chars = self.rng.below_usize(MAX_DELTA).saturating_add(1);
                rest.char_indices()
                    .nth(chars)
                    .map_or(text.len(), |(i, _)| start.saturating_add(i))
            };
            deltas.push(text.get(start..end).unwrap_or_default().to_owned());
            start = end;
        }
        deltas
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::{Value, json};

    use super::text_deltas;

    #[test]
    fn deltas_are_small_and_concatenate_to_the_json_of_the_value() {
        let value =
            json!({"name": "Zoë \"Z\" \\ 😀/x\n\u{1}", "n": [-1.25e-7, 42, true, null], "e": {}});
        for seed in 0..50 {
            let deltas = text_deltas(&value, seed);
            assert!(deltas.iter().all(|d| (1..=6).contains(&d.chars().count())));
            let text = deltas.concat();
            assert_eq!(
                serde_json::from_str::<Value>(&text).unwrap(),
                value,
                "{text}"
            );
            assert_eq!(text_deltas(&value, seed), deltas, "deterministic");
        }
    }

    #[test]
    fn cuts_fall_inside_escapes_surrogates_numbers_and_literals() {
        let value = json!({"s": "é😀\n", "n": 12345, "t": true});
        let mut seen = [false; 5];
        for seed in 0..200 {
            let deltas = text_deltas(&value, seed);
            let text = deltas.concat();
            let mut at = 0;
            for delta in &deltas[..deltas.len() - 1] {
                at += delta.len();
                let (before, after) = text.split_at(at);
                seen[0] |= before.ends_with('\\');
                seen[1] |= before.ends_with("\\u00") || before.ends_with("\\ud8");
                seen[2] |= before.ends_with("\\ud83d") && after.starts_with("\\ude00");
                seen[3] |= before.ends_with("123");
                seen[4] |= before.ends_with("tr");
            }
        }
        assert_eq!(seen, [true; 5]);
    }
}
