//! [`Configuration`]: the `configuration` object of a call.

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::task::json::Pairs;

/// The `configuration` of a call: the API's dotted keys, set through named methods.
///
/// ```
/// let config = opper::Configuration::new().max_attempts(3).cache_ttl(0);
/// assert_eq!(
///     serde_json::to_value(&config).unwrap(),
///     serde_json::json!({
///         "invocation.structured_generation.max_attempts": 3,
///         "invocation.cache.ttl": 0
///     })
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Configuration(Vec<(String, Value)>);

impl Configuration {
    /// An empty configuration: the API's defaults apply.
    pub fn new() -> Self {
        Self::default()
    }

    /// `invocation.structured_generation.max_attempts`: how many times the API tries to produce
    /// output that fits the schema (API default 5).
    #[must_use]
    pub fn max_attempts(self, attempts: u32) -> Self {
        self.set("invocation.structured_generation.max_attempts", attempts)
    }

    /// `invocation.cache.ttl`: seconds to cache identical calls (0 turns caching off).
    #[must_use]
    pub fn cache_ttl(self, seconds: u64) -> Self {
        self.set("invocation.cache.ttl", seconds)
    }

    /// `beta.invocation.input_validation.enabled`: validate the input against its schema.
    #[must_use]
    pub fn input_validation(self, enabled: bool) -> Self {
        self.set("beta.invocation.input_validation.enabled", enabled)
    }

    /// `beta.invocation.xml_mode.enabled`: let the model answer in XML, converted to JSON.
    #[must_use]
    pub fn xml_mode(self, enabled: bool) -> Self {
        self.set("beta.invocation.xml_mode.enabled", enabled)
    }

    /// `invocation.few_shot.count`: examples drawn from the function's dataset (ignored by
    /// `/call`, accepted for completeness).
    #[must_use]
    pub fn few_shot_count(self, count: u32) -> Self {
        self.set("invocation.few_shot.count", count)
    }

    /// Sets any configuration key, replacing an earlier value of the same key.
    #[must_use]
    pub fn set(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        let (key, value) = (key.into(), value.into());
        match self.0.iter_mut().find(|(existing, _)| *existing == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
        self
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Configuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Pairs(&self.0).serialize(serializer)
    }
}
