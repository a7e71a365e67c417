//! JSON pieces the request types share: ordered pairs written as an object, and inputs
//! serialized once to raw JSON.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::value::RawValue;

use crate::{Error, Result};

/// A list of pairs serialized as a JSON object, in order.
pub(crate) struct Pairs<'a, V>(pub(crate) &'a [(String, V)]);

impl<V: Serialize> Serialize for Pairs<'_, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A call's input as the JSON sent in `input`, with its fields in declaration order.
pub(crate) fn input<I: Serialize + ?Sized>(input: &I) -> Result<Box<RawValue>> {
    serde_json::value::to_raw_value(input).map_err(Error::Input)
}
