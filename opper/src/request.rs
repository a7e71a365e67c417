//! What a call sends: the task definition, its model, examples, configuration and input.

use std::borrow::Cow;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::reask::Policy;
use crate::stream::{ChunkStream, Stream};
use crate::validate::{OutputCheck, Validator, ValidatorFn};
use crate::{Error, Opper, Partial, Response, Result};

/// A model to run a task with: a name such as `"openai/gpt-4o-mini"`, optionally with options
/// and extra headers, or a fallback chain tried in order.
///
/// ```
/// use opper::Model;
///
/// let simple: Model = "openai/gpt-4o-mini".into();
/// let tuned = Model::new("anthropic/claude-sonnet-4").option("temperature", 0.2);
/// let chain = Model::fallback([tuned, simple]);
/// assert_eq!(
///     serde_json::to_value(&chain).unwrap(),
///     serde_json::json!([
///         {"name": "anthropic/claude-sonnet-4", "options": {"temperature": 0.2}},
///         "openai/gpt-4o-mini"
///     ])
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Model(ModelKind);

#[derive(Debug, Clone, PartialEq)]
enum ModelKind {
    Name(String),
    Spec {
        name: String,
        options: Map<String, Value>,
        extra_headers: Vec<(String, String)>,
    },
    Fallback(Vec<Model>),
}

impl Model {
    /// A model by name, to which options or extra headers can be added.
    pub fn new(name: impl Into<String>) -> Self {
        Model(ModelKind::Name(name.into()))
    }

    /// A fallback chain: the API tries each model in order until one succeeds.
    pub fn fallback(models: impl IntoIterator<Item = impl Into<Model>>) -> Self {
        let mut chain = Vec::new();
        for model in models {
            match model.into() {
                Model(ModelKind::Fallback(inner)) => chain.extend(inner),
                model => chain.push(model),
            }
        }
        Model(ModelKind::Fallback(chain))
    }

    /// Adds a model option, such as `temperature` or `max_tokens`, sent in `options`.
    ///
    /// On a fallback chain, the option goes to every model of the chain.
    #[must_use]
    pub fn option(self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        let (key, value) = (key.into(), value.into());
        self.map_spec(&|options, _| {
            options.insert(key.clone(), value.clone());
        })
    }

    /// Adds a header that the API passes on to the model's provider.
    ///
    /// On a fallback chain, the header goes to every model of the chain.
    #[must_use]
    pub fn extra_header(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        self.map_spec(&|_, headers| {
            headers.retain(|(existing, _)| *existing != name);
            headers.push((name.clone(), value.clone()));
        })
    }

    /// The model's name, or the first model's name of a fallback chain.
    pub fn name(&self) -> Option<&str> {
        match &self.0 {
            ModelKind::Name(name) | ModelKind::Spec { name, .. } => Some(name),
            ModelKind::Fallback(chain) => chain.first().and_then(Model::name),
        }
    }

    fn map_spec(self, f: &EditSpec<'_>) -> Self {
        match self.0 {
            ModelKind::Name(name) => {
                let (mut options, mut extra_headers) = (Map::new(), Vec::new());
                f(&mut options, &mut extra_headers);
                Model(ModelKind::Spec {
                    name,
                    options,
                    extra_headers,
                })
            }
            ModelKind::Spec {
                name,
                mut options,
                mut extra_headers,
            } => {
                f(&mut options, &mut extra_headers);
                Model(ModelKind::Spec {
                    name,
                    options,
                    extra_headers,
                })
            }
            ModelKind::Fallback(chain) => Model(ModelKind::Fallback(
                chain.into_iter().map(|model| model.map_spec(f)).collect(),
            )),
        }
    }
}

/// Edits a model's options and extra headers.
type EditSpec<'a> = dyn Fn(&mut Map<String, Value>, &mut Vec<(String, String)>) + 'a;

impl From<&str> for Model {
    fn from(name: &str) -> Self {
        Model::new(name)
    }
}

impl From<String> for Model {
    fn from(name: String) -> Self {
        Model::new(name)
    }
}

impl<M: Into<Model>> From<Vec<M>> for Model {
    fn from(models: Vec<M>) -> Self {
        Model::fallback(models)
    }
}

impl<M: Into<Model>, const N: usize> From<[M; N]> for Model {
    fn from(models: [M; N]) -> Self {
        Model::fallback(models)
    }
}

impl Serialize for Model {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            ModelKind::Name(name) => serializer.serialize_str(name),
            ModelKind::Spec {
                name,
                options,
                extra_headers,
            } => {
                let len =
                    1 + usize::from(!options.is_empty()) + usize::from(!extra_headers.is_empty());
                let mut map = serializer.serialize_map(Some(len))?;
                map.serialize_entry("name", name)?;
                if !options.is_empty() {
                    map.serialize_entry("options", options)?;
                }
                if !extra_headers.is_empty() {
                    map.serialize_entry("extra_headers", &Pairs(extra_headers))?;
                }
                map.end()
            }
            ModelKind::Fallback(chain) => chain.serialize(serializer),
        }
    }
}

/// An example of a successful completion, added to the prompt.
///
/// ```
/// use serde_json::json;
///
/// let example = opper::Example::new(json!({"x": 1, "y": 3}), json!({"sum": 4})).comment("Adds two numbers");
/// assert_eq!(
///     serde_json::to_value(&example).unwrap(),
///     json!({"input": {"x": 1, "y": 3}, "output": {"sum": 4}, "comment": "Adds two numbers"})
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    input: Value,
    output: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

impl Example {
    /// An example from its input and output JSON.
    pub fn new(input: Value, output: Value) -> Self {
        Self {
            input,
            output,
            comment: None,
        }
    }

    /// An example from typed values, serialized to JSON.
    pub fn from_values(input: &impl Serialize, output: &impl Serialize) -> Result<Self> {
        let input = serde_json::to_value(input).map_err(Error::Input)?;
        let output = serde_json::to_value(output).map_err(Error::Input)?;
        Ok(Self::new(input, output))
    }

    /// A comment on why this output is right.
    #[must_use]
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }
}

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

/// A list of pairs serialized as a JSON object, in order.
struct Pairs<'a, V>(&'a [(String, V)]);

impl<V: Serialize> Serialize for Pairs<'_, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A task definition independent of any client or input: name, instructions, schemas, model,
/// examples, tags and configuration.
///
/// `#[opper::function]` builds one per function, once. Build one by hand to call a task
/// through [`Opper::task`].
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
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub(crate) name: String,
    pub(crate) instructions: Option<String>,
    pub(crate) input_schema: Option<Arc<Value>>,
    pub(crate) output_schema: Option<Arc<Value>>,
    pub(crate) model: Option<Model>,
    pub(crate) examples: Vec<Example>,
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) configuration: Configuration,
    /// An error found while building (an example that failed to serialize), reported on call.
    pub(crate) invalid: Option<String>,
    /// The request body's fixed parts, serialized on the first call and reused after.
    encoded: Encoded,
}

/// The JSON of a task's request body around its input and parent span, in the official
/// clients' key order: `{head[,"input":…]middle[,"parent_span_id":…]tail}`.
#[derive(Debug)]
struct Fragments {
    head: String,
    middle: String,
    tail: String,
}

/// A cache that never takes part in comparisons, and that every setter empties.
#[derive(Debug, Clone, Default)]
struct Encoded(std::sync::OnceLock<Arc<Fragments>>);

impl PartialEq for Encoded {
    fn eq(&self, _: &Self) -> bool {
        true
    }
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
            encoded: Encoded::default(),
        }
    }

    /// The task's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The model set on the task, if any.
    pub fn model_ref(&self) -> Option<&Model> {
        self.model.as_ref()
    }

    /// The output schema, if one is set (none means text mode).
    pub fn output_schema_ref(&self) -> Option<&Value> {
        self.output_schema.as_deref()
    }

    /// The instructions for the model.
    #[must_use]
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.encoded = Encoded::default();
        self.instructions = Some(instructions.into());
        self
    }

    /// The JSON Schema of the input.
    #[must_use]
    pub fn input_schema(mut self, schema: Value) -> Self {
        self.encoded = Encoded::default();
        self.input_schema = Some(Arc::new(schema));
        self
    }

    /// The JSON Schema of the input, derived from a type.
    #[must_use]
    pub fn input_type<T: JsonSchema + ?Sized>(self) -> Self {
        self.input_schema(crate::function::schema_for::<T>())
    }

    /// The JSON Schema of the output. Without one, the call runs in text mode.
    #[must_use]
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.encoded = Encoded::default();
        self.output_schema = Some(Arc::new(schema));
        self
    }

    /// The JSON Schema of the output, derived from a type.
    #[must_use]
    pub fn output_type<T: JsonSchema + ?Sized>(self) -> Self {
        self.output_schema(crate::function::schema_for::<T>())
    }

    /// The model, a model with options, or a fallback chain.
    #[must_use]
    pub fn model(mut self, model: impl Into<Model>) -> Self {
        self.encoded = Encoded::default();
        self.model = Some(model.into());
        self
    }

    /// Adds an example of a successful completion.
    #[must_use]
    pub fn example(mut self, example: Example) -> Self {
        self.encoded = Encoded::default();
        self.examples.push(example);
        self
    }

    /// Adds an example from typed values; a value that cannot be serialized makes every call of
    /// the task fail with [`Error::Input`].
    #[must_use]
    pub fn example_values(
        mut self,
        input: &impl Serialize,
        output: &impl Serialize,
        comment: Option<&str>,
    ) -> Self {
        self.encoded = Encoded::default();
        match Example::from_values(input, output) {
            Ok(example) => {
                let example = match comment {
                    Some(comment) => example.comment(comment),
                    None => example,
                };
                self.examples.push(example);
            }
            Err(error) => self.invalid = Some(format!("an example of `{}`: {error}", self.name)),
        }
        self
    }

    /// Adds a tag, replacing an earlier tag of the same key.
    #[must_use]
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.encoded = Encoded::default();
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
        self.encoded = Encoded::default();
        self.configuration = configuration;
        self
    }

    pub(crate) fn check(&self) -> Result<()> {
        match &self.invalid {
            Some(message) => Err(Error::Input(serde::ser::Error::custom(message))),
            None => Ok(()),
        }
    }
}

impl Task {
    /// The body of `POST /v2/call` and `/v2/call/stream`: keys in the order the official
    /// clients send them, unset fields omitted. The task's own fields are serialized once.
    pub(crate) fn encode(
        &self,
        input: Option<&RawValue>,
        parent_span_id: Option<&str>,
    ) -> Result<Vec<u8>> {
        self.check()?;
        let fragments = match self.encoded.0.get() {
            Some(fragments) => fragments,
            None => {
                let fragments = Arc::new(self.fragments().map_err(Error::Input)?);
                self.encoded.0.get_or_init(|| fragments)
            }
        };
        let input_len = input.map_or(0, |input| input.get().len());
        let mut body = Vec::with_capacity(
            fragments.head.len() + fragments.middle.len() + fragments.tail.len() + input_len + 80,
        );
        body.push(b'{');
        body.extend_from_slice(fragments.head.as_bytes());
        if let Some(input) = input {
            body.extend_from_slice(b",\"input\":");
            body.extend_from_slice(input.get().as_bytes());
        }
        body.extend_from_slice(fragments.middle.as_bytes());
        if let Some(parent) = parent_span_id {
            body.extend_from_slice(b",\"parent_span_id\":");
            serde_json::to_writer(&mut body, parent).map_err(Error::Input)?;
        }
        body.extend_from_slice(fragments.tail.as_bytes());
        body.push(b'}');
        Ok(body)
    }

    fn fragments(&self) -> serde_json::Result<Fragments> {
        fn field(out: &mut String, key: &str, value: &impl Serialize) -> serde_json::Result<()> {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(key)?);
            out.push(':');
            out.push_str(&serde_json::to_string(value)?);
            Ok(())
        }
        let mut head = String::new();
        field(&mut head, "name", &self.name)?;
        if let Some(instructions) = &self.instructions {
            field(&mut head, "instructions", instructions)?;
        }
        if let Some(schema) = &self.input_schema {
            field(&mut head, "input_schema", &**schema)?;
        }
        if let Some(schema) = &self.output_schema {
            field(&mut head, "output_schema", &**schema)?;
        }
        // `middle` and `tail` follow other fields: each of their fields starts with a comma.
        let mut middle = String::from(" ");
        if let Some(model) = &self.model {
            field(&mut middle, "model", model)?;
        }
        if !self.examples.is_empty() {
            field(&mut middle, "examples", &self.examples)?;
        }
        let mut tail = String::from(" ");
        if !self.tags.is_empty() {
            field(&mut tail, "tags", &Pairs(&self.tags))?;
        }
        if !self.configuration.is_empty() {
            field(&mut tail, "configuration", &self.configuration)?;
        }
        Ok(Fragments {
            head,
            middle: middle.split_off(1),
            tail: tail.split_off(1),
        })
    }
}

/// What a built call sends: the client, the task, the input and the parent span.
type CallParts<'a> = (
    &'a Opper,
    Cow<'a, Task>,
    Option<Box<RawValue>>,
    Option<String>,
);

/// A call being built: every request field as a chainable setter, then [`send`](Self::send),
/// [`stream`](Self::stream) or [`stream_raw`](Self::stream_raw).
///
/// Made by [`Opper::call`] (a new task by name) or [`Opper::task`] (a prepared [`Task`]).
/// [`validate`](Self::validate) adds a check of the output (which fixes its type, so `V`
/// becomes a [`Validator<T>`]), and [`reasks`](Self::reasks) how many times a rejected output
/// is asked again.
///
/// ```no_run
/// # async fn run() -> opper::Result<()> {
/// use serde_json::json;
///
/// let opper = opper::Opper::from_env()?;
/// let reply: opper::Response<serde_json::Value> = opper
///     .call("add_numbers")
///     .instructions("Calculate the sum of two numbers")
///     .output_schema(json!({"type": "object", "properties": {"sum": {"type": "integer"}}}))
///     .input(&json!({"x": 4, "y": 5}))
///     .model("openai/gpt-4o-mini")
///     .send()
///     .await?;
/// println!("{} (span {})", reply.output, reply.span_id);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a call does nothing until it is sent"]
pub struct CallBuilder<'a, V = ()> {
    client: &'a Opper,
    task: Cow<'a, Task>,
    input: Option<Result<Box<RawValue>>>,
    parent_span_id: Option<String>,
    check: V,
    reasks: Option<u32>,
}

macro_rules! task_setter {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*)) => {
        $(#[$doc])*
        pub fn $name(mut self, $($arg: $ty),*) -> Self {
            self.task = Cow::Owned(self.task.into_owned().$name($($arg),*));
            self
        }
    };
}

impl<'a> CallBuilder<'a> {
    pub(crate) fn new(client: &'a Opper, task: Cow<'a, Task>) -> Self {
        Self {
            client,
            task,
            input: None,
            parent_span_id: None,
            check: (),
            reasks: None,
        }
    }

    /// Sends `POST /v2/call/stream` and hands back the raw chunks (never re-asked).
    pub async fn stream_raw(self) -> Result<ChunkStream> {
        let ((client, task, input, parent), (), _) = self.parts()?;
        client
            .open_stream(&task, input.as_deref(), parent.as_deref(), 1)
            .await
    }
}

impl<'a, V> CallBuilder<'a, V> {
    task_setter!(
        /// The instructions for the model.
        instructions(instructions: impl Into<String>)
    );
    task_setter!(
        /// The JSON Schema of the input.
        input_schema(schema: Value)
    );
    task_setter!(
        /// The JSON Schema of the output; without one the call runs in text mode.
        output_schema(schema: Value)
    );
    task_setter!(
        /// The model, a model with options, or a fallback chain.
        model(model: impl Into<Model>)
    );
    task_setter!(
        /// Adds an example of a successful completion.
        example(example: Example)
    );
    task_setter!(
        /// Adds a tag.
        tag(key: impl Into<String>, value: impl Into<String>)
    );
    task_setter!(
        /// The configuration of the call.
        configuration(configuration: Configuration)
    );

    /// The JSON Schema of the input, derived from a type.
    pub fn input_type<T: JsonSchema + ?Sized>(self) -> Self {
        self.input_schema(crate::function::schema_for::<T>())
    }

    /// The JSON Schema of the output, derived from a type.
    pub fn output_type<T: JsonSchema + ?Sized>(self) -> Self {
        self.output_schema(crate::function::schema_for::<T>())
    }

    /// The input data. Serialized now, with its fields in declaration order; a failure is
    /// reported when the call is sent.
    pub fn input(mut self, input: &impl Serialize) -> Self {
        self.input = Some(serde_json::value::to_raw_value(input).map_err(Error::Input));
        self
    }

    /// Ties the call to a parent span (overrides an enclosing
    /// [`with_parent_span`](crate::with_parent_span) scope).
    pub fn parent_span_id(mut self, span_id: impl Into<String>) -> Self {
        self.parent_span_id = Some(span_id.into());
        self
    }

    /// Checks the output with `validator` (a fn or closure `Fn(&T) -> Result<(), E>`,
    /// `E: Display`): a rejected output is asked again with the reason, up to
    /// [`reasks`](Self::reasks) times (default 2). Fixes the output type to `T`.
    ///
    /// ```no_run
    /// # #[derive(serde::Deserialize)] struct Sum { sum: i64 }
    /// # async fn run(opper: opper::Opper) -> opper::Result<()> {
    /// let reply = opper
    ///     .call("add_numbers")
    ///     .input(&serde_json::json!({"x": 4, "y": 5}))
    ///     .validate(|s: &Sum| if s.sum > 0 { Ok(()) } else { Err("the sum must be positive") })
    ///     .send()
    ///     .await?;
    /// println!("{} after {} re-asks", reply.sum, reply.reasks);
    /// # Ok(()) }
    /// ```
    pub fn validate<T, E: std::fmt::Display>(
        self,
        validator: impl ValidatorFn<T, E>,
    ) -> CallBuilder<'a, Validator<T>> {
        CallBuilder {
            client: self.client,
            task: self.task,
            input: self.input,
            parent_span_id: self.parent_span_id,
            check: Validator::new(validator),
            reasks: self.reasks,
        }
    }

    /// How many times a rejected output is asked again: 2 by default with a validator, 0
    /// without. With re-asks, an output that does not deserialize into `T` is asked again too,
    /// with the deserialization error as the reason.
    pub fn reasks(mut self, reasks: u32) -> Self {
        self.reasks = Some(reasks);
        self
    }

    fn parts(self) -> Result<(CallParts<'a>, V, Option<u32>)> {
        let input = self.input.transpose()?;
        let parts = (self.client, self.task, input, self.parent_span_id);
        Ok((parts, self.check, self.reasks))
    }

    fn split<T>(self) -> Result<(CallParts<'a>, Policy<T>)>
    where
        V: OutputCheck<T>,
    {
        let (parts, check, reasks) = self.parts()?;
        Ok((parts, Policy::new(check.into_validator(), reasks)))
    }

    /// Sends `POST /v2/call` and deserializes the output into `T`: `json_payload` when the
    /// service returned one, else the text `message` (so `T = String` reads text mode). With a
    /// validator or re-asks, a rejected output is asked again.
    pub async fn send<T: DeserializeOwned>(self) -> Result<Response<T>>
    where
        V: OutputCheck<T>,
    {
        let ((client, task, input, parent), policy) = self.split()?;
        client
            .execute(&task, input.as_deref(), parent.as_deref(), &policy)
            .await
    }

    /// Sends `POST /v2/call/stream` and reassembles the chunks into `T`. With a validator or
    /// re-asks, a rejected output is asked again on the same [`Stream`].
    pub async fn stream<T: Partial + DeserializeOwned + 'static>(self) -> Result<Stream<T>>
    where
        V: OutputCheck<T>,
    {
        let ((client, task, input, parent), policy) = self.split()?;
        open_stream(client, task, input, parent, policy).await
    }
}

/// Opens a typed stream of `task`. With a policy that can reject, the stream keeps what it needs
/// to ask again: the client, the task, the input, and the parent span resolved now (a re-ask
/// is opened wherever the stream is polled, maybe outside a `with_parent_span` scope).
pub(crate) async fn open_stream<T: Partial + DeserializeOwned + 'static>(
    client: &Opper,
    task: Cow<'_, Task>,
    input: Option<Box<RawValue>>,
    parent: Option<String>,
    policy: Policy<T>,
) -> Result<Stream<T>> {
    let parent = parent.or_else(|| crate::function::current_parent_span().map(|p| p.to_string()));
    let chunks = client
        .open_stream(&task, input.as_deref(), parent.as_deref(), 1)
        .await?;
    let schema = task.output_schema.clone();
    if !policy.is_active() {
        return Ok(Stream::new(chunks, schema, None));
    }
    let original = task.instructions.clone();
    let (client, task) = (client.clone(), task.into_owned());
    let reopen: crate::stream::Reopen = Box::new(move |instructions, attempt| {
        let client = client.clone();
        let task = task.clone().instructions(instructions);
        let input = input.clone();
        let parent = parent.clone();
        Box::pin(async move {
            client
                .open_stream(&task, input.as_deref(), parent.as_deref(), attempt)
                .await
        })
    });
    let again = crate::stream::Again::new(policy, original, reopen);
    Ok(Stream::new(chunks, schema, Some(again)))
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
    fn the_cached_body_follows_every_change() {
        let task = Task::new("t").model("a");
        assert_eq!(encoded(&task, None, None), r#"{"name":"t","model":"a"}"#);
        let changed = task.clone().model("b").tag("k", "v");
        assert_eq!(
            encoded(&changed, None, None),
            r#"{"name":"t","model":"b","tags":{"k":"v"}}"#
        );
        assert_eq!(encoded(&task, None, None), r#"{"name":"t","model":"a"}"#);
        assert_eq!(
            task,
            Task::new("t").model("a"),
            "the cache takes no part in equality"
        );
    }
}
