//! [`Task`]: what a call of a task sends besides its input, and the request body built from it.

// The parts of a task, leaves first.
pub(crate) mod json;
pub(crate) mod schema;
pub(crate) mod configuration;
pub(crate) mod example;
pub(crate) mod model;

use serde_json::Value;

use schemars::JsonSchema;

use crate::error::Error;
use crate::error::Result;
use crate::task::configuration::Configuration;
use crate::task::example::Example;
use crate::task::model::Model;
use crate::task::schema::{Schema, schema_for};

/// A task definition independent of any client or input: name, instructions, schemas, model,
/// examples, tags and configuration.
///
/// `#[opper::function]` builds one per function, once. Build one by hand to call a task
/// through [`Opper::task`](crate::Opper::task). Schemas are serialized once, when they are set,
/// and shared by every call of the task.
///
/// ```
/// use opper::{Configuration, Task};
///
/// let task = Task::new("add_numbers")
///     .instructions("Calculate the sum of two numbers")
///     .model("openai/gpt-4o-mini")
///     .tag("project", "project_456")
///     .configuration(Configuration::new().max_attempts(3));
/// assert_eq!(task.get_name(), "add_numbers");
/// assert_eq!(task.get_model().and_then(|model| model.get_name()), Some("openai/gpt-4o-mini"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub(crate) name: String,
    pub(crate) instructions: Option<String>,
    pub(crate) input_schema: Option<Schema>,
    pub(crate) output_schema: Option<Schema>,
    pub(crate) model: Option<Model>,
    pub(crate) examples: Vec<Example>,
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) configuration: Configuration,
    /// An error found while building (an example that failed to serialize), reported on call.
    invalid: Option<String>,
}

impl Task {
    /// A task with only its name set.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            instructions: None,
            input_schema: None,
            output_schema: None,
            model: None,
            examples: Vec::new(),
            tags: Vec::new(),
            configuration: Configuration::new(),
            invalid: None,
        }
    }

    /// The task's name.
    pub fn get_name(&self) -> &str {
        &self.name
    }

    /// The instructions set on the task, if any.
    pub fn get_instructions(&self) -> Option<&str> {
        self.instructions.as_deref()
    }

    /// The model set on the task, if any.
    pub fn get_model(&self) -> Option<&Model> {
        self.model.as_ref()
    }

    /// The output schema, if one is set (none means text mode).
    pub fn get_output_schema(&self) -> Option<&Value> {
        self.output_schema.as_ref().map(|schema| &**schema.value())
    }

    /// The instructions for the model.
    #[must_use]
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// The JSON Schema of the input.
    #[must_use]
    pub fn input_schema(mut self, schema: Value) -> Self {
        self.input_schema = self.schema(schema);
        self
    }

    /// The JSON Schema of the input, derived from a type.
    #[must_use]
    pub fn input_type<T: JsonSchema + ?Sized>(self) -> Self {
        self.input_schema(schema_for::<T>())
    }

    /// The JSON Schema of the output. Without one, the call runs in text mode.
    #[must_use]
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.output_schema = self.schema(schema);
        self
    }

    /// The JSON Schema of the output, derived from a type.
    #[must_use]
    pub fn output_type<T: JsonSchema + ?Sized>(self) -> Self {
        self.output_schema(schema_for::<T>())
    }

    /// The model, a model with options, or a fallback chain.
    #[must_use]
    pub fn model(mut self, model: impl Into<Model>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Adds an example of a successful completion.
    #[must_use]
    pub fn example(mut self, example: Example) -> Self {
        self.examples.push(example);
        self
    }

    /// Adds an example, or keeps why it could not be made: every call of the task then fails
    /// with [`Error::InvalidTask`].
    pub(crate) fn try_example(mut self, example: Result<Example>) -> Self {
        match example {
            Ok(example) => self.examples.push(example),
            Err(error) => {
                self.invalid = Some(format!(
                    "an example could not be serialized: {}",
                    chain(&error)
                ));
            }
        }
        self
    }

    /// `Ok` when every part of the task could be built; else [`Error::InvalidTask`], before any
    /// request is made.
    pub(crate) fn check(&self) -> Result<()> {
        match &self.invalid {
            None => Ok(()),
            Some(reason) => Err(Error::InvalidTask {
                task: self.name.clone(),
                reason: reason.clone(),
            }),
        }
    }

    /// Adds a tag, replacing an earlier tag of the same key.
    #[must_use]
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        match self.tags.iter_mut().find(|(existing, _)| *existing == key) {
            Some(slot) => slot.1 = value,
            None => self.tags.push((key, value)),
        }
        self
    }

    /// The configuration (replacing any earlier one).
    #[must_use]
    pub fn configuration(mut self, configuration: Configuration) -> Self {
        self.configuration = configuration;
        self
    }

    /// A schema serialized now; a failure makes every call of the task fail.
    fn schema(&mut self, schema: Value) -> Option<Schema> {
        match Schema::new(schema) {
            Ok(schema) => Some(schema),
            Err(error) => {
                self.invalid = Some(format!("a schema could not be serialized: {error}"));
                None
            }
        }
    }

    /// The output schema's value, which a stream completes its output from.
    pub(crate) fn output_schema_value(&self) -> Option<std::sync::Arc<Value>> {
        self.output_schema
            .as_ref()
            .map(|schema| schema.value().clone())
    }
}

/// An error's message and its sources', joined by `: `.
fn chain(error: &Error) -> String {
    let mut messages = vec![error.to_string()];
    let mut source = std::error::Error::source(error);
    while let Some(error) = source {
        messages.push(error.to_string());
        source = error.source();
    }
    messages.join(": ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn schemas_are_serialized_when_set_and_shared_by_clones() {
        let task = Task::new("t").input_schema(json!({"type": "object"}));
        let clone = task.clone();
        let (Some(a), Some(b)) = (&task.input_schema, &clone.input_schema) else {
            panic!("the schema is set");
        };
        assert!(std::ptr::eq(a.json(), b.json()), "a clone shares the JSON");
        assert_eq!(a.json().get(), r#"{"type":"object"}"#);
    }
}
