//! [`CallBuilder`]: one call, built field by field and sent; and the [`Opper`] methods that
//! start one.

// The attempts of a call or a stream, below the builder that starts them.
pub(crate) mod attempts;

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::client::Opper;
use crate::error::Result;
use crate::partial::Partial;
use crate::reask::Policy;
use crate::reask::validate::{OutputCheck, Validator, ValidatorFn};
use crate::response::Response;
use crate::stream::again::{Again, Reopen};
use crate::stream::chunks::ChunkStream;
use crate::stream::typed::Stream;
use crate::task::Task;
use crate::task::configuration::Configuration;
use crate::task::example::Example;
use crate::task::json;
use crate::task::model::Model;
use crate::task::schema::schema_for;
use crate::trace::parent;

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
/// println!("{} (span {:?})", reply.output, reply.span_id);
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
    fn new(client: &'a Opper, task: Cow<'a, Task>) -> Self {
        Self {
            client,
            task,
            input: None,
            parent_span_id: None,
            check: (),
            reasks: None,
        }
    }

    /// Opens the stream (`POST /v2/call/stream`; v3: `/v3/functions/{name}/stream`) and hands
    /// back the raw chunks (never re-asked); see [`ChunkStream`] for what v3 yields.
    pub async fn stream_raw(self) -> Result<ChunkStream> {
        let ((client, task, input, parent), (), _) = self.parts()?;
        attempts::open_stream(client, &task, input.as_deref(), parent.as_deref(), 1).await
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
        self.input_schema(schema_for::<T>())
    }

    /// The JSON Schema of the output, derived from a type.
    pub fn output_type<T: JsonSchema + ?Sized>(self) -> Self {
        self.output_schema(schema_for::<T>())
    }

    /// The input data. Serialized now, with its fields in declaration order; a failure (such as
    /// a NaN or an infinity, which JSON cannot carry) is an [`Error::Input`](crate::Error::Input)
    /// when the call is sent, before any request.
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
    /// println!("{} after {} re-asks", reply.output.sum, reply.reasks);
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
    /// with the deserialization error (path and reason) as the reason.
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

    /// Sends `POST /v2/call` (v3: `/v3/functions/{name}/call`) and deserializes the output into
    /// `T`: `json_payload` when the service returned one, else the text `message` (so
    /// `T = String` reads text mode); on v3 the answer's `data`. With a
    /// validator or re-asks, a rejected output is asked again.
    pub async fn send<T: DeserializeOwned>(self) -> Result<Response<T>>
    where
        V: OutputCheck<T>,
    {
        let ((client, task, input, parent), policy) = self.split()?;
        attempts::execute(client, &task, input.as_deref(), parent.as_deref(), &policy).await
    }

    /// Sends `POST /v2/call/stream` (v3: `/v3/functions/{name}/stream`) and reassembles the
    /// chunks (v3: the model's JSON text) into `T`. With a validator or
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
/// to ask again: the client, the task, the input, and the parent span resolved now (a re-ask is
/// opened wherever the stream is polled, maybe outside a `with_parent_span` scope).
pub(crate) async fn open_stream<T: Partial + DeserializeOwned + 'static>(
    client: &Opper,
    task: Cow<'_, Task>,
    input: Option<Box<RawValue>>,
    parent: Option<String>,
    policy: Policy<T>,
) -> Result<Stream<T>> {
    let parent = parent::resolve(parent.as_deref()).map(|parent| parent.to_string());
    let mut chunks =
        attempts::open_stream(client, &task, input.as_deref(), parent.as_deref(), 1).await?;
    let schema = task.output_schema_value();
    // A stream the cache records is judged at its end too, as a validated one is: so only an
    // output that reads as `T` is stored (a v3 stream whose `complete` does not fit `T` still
    // ends cleanly).
    if !policy.is_active() && !chunks.records() {
        return Ok(Stream::new(chunks, schema, None));
    }
    // A replayed answer that is rejected cannot be asked again: that would be a request.
    let policy = match client.replays_only() {
        true => policy.replaying(task.get_name()),
        false => policy,
    };
    // Stored only once the output is accepted, under this first request whichever attempt passes.
    chunks.hold_recording();
    let original = task.get_instructions().map(str::to_owned);
    let (client, task) = (client.clone(), task.into_owned());
    let reopen: Reopen = Box::new(move |instructions, attempt| {
        let client = client.clone();
        let task = task.clone().instructions(instructions);
        let input = input.clone();
        let parent = parent.clone();
        Box::pin(async move {
            attempts::open_stream(&client, &task, input.as_deref(), parent.as_deref(), attempt)
                .await
        })
    });
    Ok(Stream::new(
        chunks,
        schema,
        Some(Again::new(policy, original, reopen)),
    ))
}
