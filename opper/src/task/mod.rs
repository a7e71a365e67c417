//! [`Task`]: what a call of a task sends besides its input, and the request body built from it.

// The parts of a task, leaves first.
pub(crate) mod configuration;
pub(crate) mod example;
pub(crate) mod json;
pub(crate) mod model;
pub(crate) mod schema;

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use schemars::JsonSchema;

use crate::task::json::Pairs;
use crate::task::schema::{Schema, schema_for};
use crate::{Configuration, Error, Example, Model, Result};

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
/// assert_eq!(task.name(), "add_numbers");
/// assert_eq!(task.get_model().and_then(|model| model.name()), Some("openai/gpt-4o-mini"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    name: String,
    instructions: Option<String>,
    input_schema: Option<Schema>,
    output_schema: Option<Schema>,
    model: Option<Model>,
    examples: Vec<Example>,
    tags: Vec<(String, String)>,
    configuration: Configuration,
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
    pub fn name(&self) -> &str {
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
    /// with [`Error::Input`].
    pub(crate) fn try_example(mut self, example: Result<Example>) -> Self {
        match example {
            Ok(example) => self.examples.push(example),
            Err(error) => self.invalid = Some(format!("an example of `{}`: {error}", self.name)),
        }
        self
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
                self.invalid = Some(format!("a schema of `{}`: {error}", self.name));
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

    /// The body of `POST /v2/call` and `/v2/call/stream`: keys in the order the official
    /// clients send them, unset fields omitted. Schemas are copied in as the JSON they were
    /// serialized to when set.
    pub(crate) fn encode(
        &self,
        input: Option<&RawValue>,
        parent_span_id: Option<&str>,
    ) -> Result<Vec<u8>> {
        if let Some(message) = &self.invalid {
            return Err(Error::Input(serde::ser::Error::custom(message)));
        }
        let body = Body {
            name: &self.name,
            instructions: self.instructions.as_deref(),
            input_schema: self.input_schema.as_ref().map(Schema::json),
            output_schema: self.output_schema.as_ref().map(Schema::json),
            input,
            model: self.model.as_ref(),
            examples: (!self.examples.is_empty()).then_some(&self.examples),
            parent_span_id,
            tags: (!self.tags.is_empty()).then_some(Pairs(&self.tags)),
            configuration: (!self.configuration.is_empty()).then_some(&self.configuration),
        };
        let raw_len = |raw: Option<&RawValue>| raw.map_or(0, |raw| raw.get().len());
        let mut bytes = Vec::with_capacity(
            [
                raw_len(body.input_schema),
                raw_len(body.output_schema),
                raw_len(input),
                256,
            ]
            .into_iter()
            .fold(0, usize::saturating_add),
        );
        serde_json::to_writer(&mut bytes, &body).map_err(Error::Input)?;
        Ok(bytes)
    }
}

/// The request body, borrowed from the task and the call; fields in the wire order.
#[derive(Serialize)]
struct Body<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_schema: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_schema: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a Model>,
    #[serde(skip_serializing_if = "Option::is_none")]
    examples: Option<&'a Vec<Example>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_span_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Pairs<'a, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    configuration: Option<&'a Configuration>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn encoded(task: &Task, input: Option<&Value>, parent: Option<&str>) -> String {
        let input = input.map(|input| serde_json::value::to_raw_value(input).unwrap());
        String::from_utf8(task.encode(input.as_deref(), parent).unwrap()).unwrap()
    }

    #[test]
    fn the_body_has_the_official_key_order_and_omits_what_is_unset() {
        assert_eq!(encoded(&Task::new("t"), None, None), r#"{"name":"t"}"#);
        let task = Task::new("t")
            .instructions("i")
            .input_schema(json!({"type": "object"}))
            .output_schema(json!({"type": "string"}))
            .model("m")
            .example(Example::new(json!(1), json!(2)))
            .tag("k", "v")
            .configuration(Configuration::new().cache_ttl(0));
        assert_eq!(
            encoded(&task, Some(&json!({"x": 1})), Some("p\"1")),
            concat!(
                r#"{"name":"t","instructions":"i","input_schema":{"type":"object"},"#,
                r#""output_schema":{"type":"string"},"input":{"x":1},"model":"m","#,
                r#""examples":[{"input":1,"output":2}],"parent_span_id":"p\"1","#,
                r#""tags":{"k":"v"},"configuration":{"invocation.cache.ttl":0}}"#
            )
        );
        assert_eq!(
            encoded(&Task::new("t").tag("k", "v"), None, Some("p")),
            r#"{"name":"t","parent_span_id":"p","tags":{"k":"v"}}"#
        );
    }

    #[test]
    fn the_body_follows_every_change() {
        let task = Task::new("t")
            .model("a")
            .output_schema(json!({"type": "string"}));
        assert_eq!(
            encoded(&task, None, None),
            r#"{"name":"t","output_schema":{"type":"string"},"model":"a"}"#
        );
        let changed = task
            .clone()
            .model("b")
            .tag("k", "v")
            .output_schema(json!({"type": "integer"}));
        assert_eq!(
            encoded(&changed, None, None),
            r#"{"name":"t","output_schema":{"type":"integer"},"model":"b","tags":{"k":"v"}}"#
        );
        assert_eq!(
            encoded(&task, None, None),
            r#"{"name":"t","output_schema":{"type":"string"},"model":"a"}"#
        );
        assert_eq!(
            task,
            Task::new("t")
                .model("a")
                .output_schema(json!({"type": "string"}))
        );
    }

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
