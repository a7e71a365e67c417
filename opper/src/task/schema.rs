//! JSON Schemas: derived from a type, and held by a task as a value and as the JSON it sends.

use std::sync::Arc;

use schemars::JsonSchema;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::tool::schema_generator;

/// The JSON Schema of a type as the API wants it: draft 2020-12 with `$defs`, without `$schema`.
pub fn schema_for<T: JsonSchema + ?Sized>() -> Value {
    schema_generator().into_root_schema_for::<T>().to_value()
}

/// A schema as a task holds it: the value (a stream completes its output from it) and its JSON
/// text (spliced into every request body), both made once, when the schema is set.
#[derive(Clone)]
pub(crate) struct Schema {
    value: Arc<Value>,
    json: Arc<RawValue>,
}

impl Schema {
    pub(crate) fn new(value: Value) -> serde_json::Result<Self> {
        let json = serde_json::value::to_raw_value(&value)?;
        Ok(Self {
            value: Arc::new(value),
            json: Arc::from(json),
        })
    }

    pub(crate) fn value(&self) -> &Arc<Value> {
        &self.value
    }

    pub(crate) fn json(&self) -> &RawValue {
        &self.json
    }
}

impl PartialEq for Schema {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}
