//! Partial values: the typed, incomplete output of a stream. (Skeleton: being implemented.)

use std::fmt::Debug;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;

/// A type whose value can arrive chunk by chunk over a stream.
pub trait Partial: Sized {
    /// The partial form: every field optional, nested types as their partials.
    type Partial: Debug + Clone + Default + Serialize + Send + Sync + 'static;
}

/// Reassembles chunks into a partial value, then the final value.
pub(crate) struct Assembler<T: Partial> {
    partial: Arc<T::Partial>,
    #[allow(dead_code)]
    schema: Option<Arc<Value>>,
}

impl<T: Partial + DeserializeOwned> Assembler<T> {
    pub(crate) fn new(schema: Option<Arc<Value>>) -> Self {
        Self {
            partial: Arc::default(),
            schema,
        }
    }

    /// Applies one chunk; returns the json_path of a field this chunk completed, if any.
    pub(crate) fn push(
        &mut self,
        _json_path: Option<&str>,
        _delta: &Value,
    ) -> Result<Option<String>, String> {
        Err("not implemented yet".into())
    }

    pub(crate) fn partial(&self) -> Arc<T::Partial> {
        Arc::clone(&self.partial)
    }

    pub(crate) fn so_far(&self) -> Value {
        serde_json::to_value(&*self.partial).unwrap_or(Value::Null)
    }

    /// Ends the stream: the final value, and the json_path of the field that was still open.
    pub(crate) fn finish(self) -> Result<(T, Option<String>), Error> {
        Err(Error::Config("not implemented yet".into()))
    }
}
