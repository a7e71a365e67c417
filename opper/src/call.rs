//! [`CallBuilder`]: one call, built field by field and sent; and the [`Opper`] methods that
//! start one.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::json;
use crate::schema::schema_for;
use crate::{
    ChunkStream, Configuration, Example, Model, Opper, Partial, Response, Result, Stream, Task,
};

impl Opper {
    /// A call of a new task by name; set its fields, then send it.
    pub fn call(&self, name: impl Into<String>) -> CallBuilder<'_> {
        CallBuilder::new(self, Cow::Owned(Task::new(name)))
    }

    /// A call of a prepared task; set its input, then send it.
    pub fn task<'a>(&'a self, task: &'a Task) -> CallBuilder<'a> {
        CallBuilder::new(self, Cow::Borrowed(task))
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
pub struct CallBuilder<'a> {
    client: &'a Opper,
    task: Cow<'a, Task>,
    input: Option<Result<Box<RawValue>>>,
    parent_span_id: Option<String>,
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
    fn new(client: &'a Opper, task: Cow<'a, Task>) -> Self {
        Self {
            client,
            task,
            input: None,
            parent_span_id: None,
        }
    }

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
        self.input_schema(schema_for::<T>())
    }

    /// The JSON Schema of the output, derived from a type.
    pub fn output_type<T: JsonSchema + ?Sized>(self) -> Self {
        self.output_schema(schema_for::<T>())
    }

    /// The input data. Serialized now, with its fields in declaration order; a failure is
    /// reported when the call is sent.
    pub fn input(mut self, input: &impl Serialize) -> Self {
        self.input = Some(json::input(input));
        self
    }

    /// Ties the call to a parent span (overrides an enclosing
    /// [`with_parent_span`](crate::with_parent_span) scope).
    pub fn parent_span_id(mut self, span_id: impl Into<String>) -> Self {
        self.parent_span_id = Some(span_id.into());
        self
    }

    fn parts(self) -> Result<CallParts<'a>> {
        let input = self.input.transpose()?;
        Ok((self.client, self.task, input, self.parent_span_id))
    }

    /// Sends `POST /v2/call` and deserializes the output into `T`: `json_payload` when the
    /// service returned one, else the text `message` (so `T = String` reads text mode).
    pub async fn send<T: DeserializeOwned>(self) -> Result<Response<T>> {
        let (client, task, input, parent) = self.parts()?;
        client
            .execute(&task, input.as_deref(), parent.as_deref())
            .await
    }

    /// Sends `POST /v2/call/stream` and reassembles the chunks into `T`.
    pub async fn stream<T: Partial + DeserializeOwned + 'static>(self) -> Result<Stream<T>> {
        let (client, task, input, parent) = self.parts()?;
        let chunks = client
            .open_stream(&task, input.as_deref(), parent.as_deref())
            .await?;
        Ok(Stream::new(chunks, task.output_schema_value()))
    }

    /// Sends `POST /v2/call/stream` and hands back the raw chunks.
    pub async fn stream_raw(self) -> Result<ChunkStream> {
        let (client, task, input, parent) = self.parts()?;
        client
            .open_stream(&task, input.as_deref(), parent.as_deref())
            .await
    }
}
