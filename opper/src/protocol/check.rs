//! JSON read to be checked, building nothing: what a cache entry's recorded events are checked
//! with when the entry is opened (each version's `check_recorded`), so that a replayed event
//! decodes as it did live.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

/// A JSON string, as a `String` reads it, not kept.
pub(crate) struct Text;

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_string(Checker).map(|Json| Text)
    }
}

/// Any JSON value, as a [`Value`](serde_json::Value) reads it (numbers in range, the same
/// depth limit), not kept.
pub(crate) struct Json;

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Checker)
    }
}

/// The visitor of [`Text`] (strings only) and [`Json`] (anything a `Value` accepts).
struct Checker;

impl<'de> serde::de::Visitor<'de> for Checker {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Json, E> {
        Ok(Json)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Json, E> {
        Ok(Json)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Json, E> {
        Ok(Json)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Json, E> {
        Ok(Json)
    }

    fn visit_str<E>(self, _: &str) -> Result<Json, E> {
        Ok(Json)
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<Json, A::Error> {
        while items.next_element::<Json>()?.is_some() {}
        Ok(Json)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut members: A) -> Result<Json, A::Error> {
        while members.next_entry::<Text, Json>()?.is_some() {}
        Ok(Json)
    }
}

/// Whether `data` is a JSON object whose `type` is the string `kind` (the last `type`, as a
/// `Value` reads a repeated key). Anything else, invalid JSON included, is not.
pub(crate) fn type_is(data: &str, kind: &str) -> bool {
    let mut reader = serde_json::Deserializer::from_str(data);
    matches!(
        serde::Deserializer::deserialize_map(&mut reader, TypeOf),
        Ok(Some(Value::String(found))) if found == kind
    )
}

/// The visitor of [`type_is`]: an object's last `type`, not building its other members.
struct TypeOf;

impl<'de> serde::de::Visitor<'de> for TypeOf {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut members: A,
    ) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(IsType(is_type)) = members.next_key()? {
            if is_type {
                found = Some(members.next_value::<Value>()?);
            } else {
                members.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Whether an object's key is `type` (read without being kept).
struct IsType(bool);

impl<'de> Deserialize<'de> for IsType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(IsTypeVisitor)
    }
}

/// The visitor of [`IsType`].
struct IsTypeVisitor;

impl serde::de::Visitor<'_> for IsTypeVisitor {
    type Value = IsType;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<IsType, E> {
        Ok(IsType(key == "type"))
    }
}
