//! A stream's entry: `"chunks": [...]`, the events of the stream as they arrived, one per line.
//! An item is an event's `data` (its JSON text as sent, on one line), or
//! `{"event": name, "data": ...}` for an event with a name other than SSE's default. Both
//! versions write it (v2's chunks always were this; v3's entries written before name the same
//! list `"frames"`, read the same way).
//! An entry's items are located and checked when it is opened, built into nothing; each is
//! decoded only as it is replayed, by the decoder a live stream uses.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;

use super::seen::{Span, Spans};
use crate::api::Api;
use crate::jsontext::span::span_in;

/// What comes between two items of the list.
const SEPARATOR: &str = ",\n    ";

/// One event, as an item of an entry's `chunks`: for the recording to count, then add.
#[derive(Debug)]
pub(crate) struct Recorded<'a> {
    /// The event's name as a JSON string, when the item names it.
    name: Option<String>,
    /// The event's data, trimmed, on one line.
    data: Cow<'a, str>,
}

impl<'a> Recorded<'a> {
    /// The item of the event `event` (its name, empty when none was sent) carrying `data`. The
    /// name is written when it is not SSE's default (`message`, or none), and for data that
    /// would read as a named item itself.
    pub(crate) fn of(event: &str, data: &'a str) -> Self {
        let data = data.trim();
        // Raw line ends in JSON text are whitespace between tokens: a space says the same.
        let data = match data.contains(['\n', '\r']) {
            true => Cow::Owned(data.replace(['\n', '\r'], " ")),
            false => Cow::Borrowed(data),
        };
        let name = match event {
            "" | "message" if named(&data).is_none() => None,
            "" => Some("message"),
            name => Some(name),
        };
        Recorded {
            name: name.map(|name| Value::from(name).to_string()),
            data,
        }
    }

    /// Its length once added to `list` (the items so far).
    pub(crate) fn len_after(&self, list: &str) -> usize {
        let separator = if list.is_empty() { 0 } else { SEPARATOR.len() };
        let named = self.name.as_ref().map_or(0, |name| {
            name.len().saturating_add(r#"{"event":,"data":}"#.len())
        });
        separator
            .saturating_add(named)
            .saturating_add(self.data.len())
    }

    /// Adds it to `list`.
    pub(crate) fn push_to(&self, list: &mut String) {
        if !list.is_empty() {
            list.push_str(SEPARATOR);
        }
        match &self.name {
            None => list.push_str(&self.data),
            Some(name) => {
                list.push_str(r#"{"event":"#);
                list.push_str(name);
                list.push_str(r#","data":"#);
                list.push_str(&self.data);
                list.push('}');
            }
        }
    }
}

/// The text of an entry's `chunks` around its items (`list`, [`Recorded`] one after another).
pub(crate) fn render(out: &mut String, list: &str) {
    out.push_str(",\n  \"chunks\": [\n    ");
    out.push_str(list);
    out.push_str("\n  ]\n}\n");
}

/// Where each item of `items` (in `text`, an entry's) is, each checked by `api` as it reads the
/// event (`Wire::check_recorded`): why not, when one is not what `api` reads, or an error.
pub(crate) fn check(api: Api, text: &str, items: &[&RawValue]) -> Result<Spans, String> {
    if items.is_empty() {
        return Err("it holds no chunks".into());
    }
    let wire = api.wire();
    let mut spans = Vec::with_capacity(items.len());
    for item in items {
        let (event, data) = match named(item.get()) {
            Some((event, data)) => (Some(event), data),
            None => (None, item.get()),
        };
        wire.check_recorded(event.as_deref().unwrap_or(""), data)?;
        let data = span_in(text.as_bytes(), data.as_bytes())
            .ok_or("a chunk is not in the entry's text")?;
        let event = event.map(|event| Arc::from(event.as_ref()));
        spans.push(Span { data, event });
    }
    Ok(spans.into())
}

/// A named item's event name and data: an object of exactly an `event` string and a `data`
/// (anything else, an invalid item included, is data).
fn named(item: &str) -> Option<(Cow<'_, str>, &str)> {
    // Most items are data: only one that spells both keys (or may, escaped) can be named.
    let may_be =
        (item.contains(r#""event""#) && item.contains(r#""data""#)) || item.contains("\\u");
    if !may_be {
        return None;
    }
    let mut reader = serde_json::Deserializer::from_str(item);
    let found = serde::Deserializer::deserialize_map(&mut reader, Named).ok()?;
    reader.end().ok()?;
    found.map(|(event, data)| (event, data.get()))
}

/// The visitor of [`named`].
struct Named;

impl<'de> serde::de::Visitor<'de> for Named {
    type Value = Option<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a named event")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut members: A,
    ) -> Result<Self::Value, A::Error> {
        let (mut event, mut data, mut other) = (None, None, false);
        while let Some(key) = members.next_key::<Key>()? {
            match key {
                Key::Event if event.is_none() => event = Some(members.next_value::<Name<'de>>()?.0),
                Key::Data if data.is_none() => data = Some(members.next_value()?),
                _ => {
                    other = true;
                    members.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(match (event, data, other) {
            (Some(event), Some(data), false) => Some((event, data)),
            _ => None,
        })
    }
}

/// A key of a named item.
enum Key {
    Event,
    Data,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The visitor of [`Key`].
struct KeyVisitor;

impl serde::de::Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Key, E> {
        Ok(match key {
            "event" => Key::Event,
            "data" => Key::Data,
            _ => Key::Other,
        })
    }
}

/// An event's name: a string, borrowed when it has no escape (another value is no name: the
/// item is then data).
struct Name<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(NameVisitor).map(Name)
    }
}

/// The visitor of [`Name`].
struct NameVisitor;

impl<'de> serde::de::Visitor<'de> for NameVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a name")
    }

    fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(name))
    }

    fn visit_str<E>(self, name: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(name.to_owned()))
    }
}

/// A stream's answer read back from an entry: the entry's text and where each recorded event
/// is in it, each checked when the entry was read, decoded only as it is replayed.
pub(crate) struct StreamAnswer {
    text: String,
    spans: Spans,
}

impl std::fmt::Debug for StreamAnswer {
    /// The counts, not the text (a long stream's is megabytes).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamAnswer")
            .field("frames", &self.spans.len())
            .field("bytes", &self.text.len())
            .finish()
    }
}

impl StreamAnswer {
    /// The checked entry `text`, its events at `spans`.
    pub(crate) fn new(text: String, spans: Spans) -> Self {
        StreamAnswer { text, spans }
    }

    /// The `index`th event: its name (empty when it has none) and its data's JSON text.
    pub(crate) fn event(&self, index: usize) -> Option<(&str, &str)> {
        let span = self.spans.get(index)?;
        let data = self.text.get(span.data.clone()).unwrap_or_default();
        Some((span.event.as_deref().unwrap_or_default(), data))
    }
}
