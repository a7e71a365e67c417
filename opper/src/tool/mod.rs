//! Tools: Rust functions an agent lets the model call. A [`Tool`] has a name, a description,
//! the JSON Schema of its parameters and an async call from JSON arguments to the JSON text of
//! its output (`json`: as the official client writes it, bounded), from any return value a tool
//! may have (`output`); each call is recorded as a [`ToolCall`] (`record`).

// The parts, leaves first.
pub(crate) mod json;
pub(crate) mod output;
pub(crate) mod record;
pub(crate) mod generated;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use output::ToolOutput;
pub use record::ToolCall;

/// A call of a tool, not yet run: it runs when polled, and dropping it cancels it.
pub type ToolFuture = Pin<Box<dyn Future<Output = Result<String, String>> + Send>>;

type Call = dyn Fn(Value) -> ToolFuture + Send + Sync;

/// A function the model may call during an [`Agent`](crate::Agent)'s run.
///
/// `#[opper::tool]` makes one from a `fn` (`<name>_tool()`); `Tool::new` from a closure, for
/// tools with state. Its `parameters` are the JSON Schema of the closure's argument type; the
/// model's arguments are deserialized into it, and the return value (any `T: Serialize`, or
/// `Result<T, E: Display>`: see [`ToolOutput`]) is sent back as JSON text.
///
/// ```
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize, JsonSchema)]
/// struct LookupArgs {
///     /// The order's number
///     number: u64,
/// }
///
/// #[derive(Serialize)]
/// struct Order {
///     number: u64,
///     status: &'static str,
/// }
///
/// # async fn run() {
/// let shipped = std::sync::Arc::new(vec![42u64]);
/// let lookup = opper::Tool::new("lookup_order", "Find an order by its number", {
///     let shipped = shipped.clone();
///     move |args: LookupArgs| {
///         let shipped = shipped.clone();
///         async move {
///             let status = if shipped.contains(&args.number) { "shipped" } else { "open" };
///             Order { number: args.number, status }
///         }
///     }
/// });
/// assert_eq!(lookup.get_name(), "lookup_order");
/// assert_eq!(
///     lookup.call(r#"{"number": 42}"#).await,
///     Ok(r#"{"number": 42, "status": "shipped"}"#.to_owned())
/// );
/// # }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run());
/// ```
#[derive(Clone)]
pub struct Tool {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    description: Option<String>,
    parameters: Option<Value>,
    call: Box<Call>,
}

impl fmt::Debug for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tool")
            .field("name", &self.inner.name)
            .field("description", &self.inner.description)
            .field("parameters", &self.inner.parameters)
            .finish_non_exhaustive()
    }
}

impl Tool {
    /// The most bytes of a call's arguments kept (and sent back to the model in the run's
    /// history): 64 KiB. A call whose arguments are longer does not run; the model reads an
    /// error.
    pub const MAX_ARGUMENT_BYTES: usize = 64 * 1024;

    /// The most bytes of a tool's output sent back to the model: 64 KiB. A longer output
    /// reaches the model as an error saying so (cut JSON would mean nothing).
    pub const MAX_OUTPUT_BYTES: usize = json::MAX_OUTPUT_BYTES;

    /// The most bytes of a tool error's message sent back to the model: 4 KiB.
    pub const MAX_ERROR_BYTES: usize = json::MAX_ERROR_BYTES;

    /// A tool named `name` (what the model calls), described by `description` (what the model
    /// reads; `""` for none) that runs `f` on its arguments deserialized into `A`.
    ///
    /// `A`'s JSON Schema is the tool's `parameters`. `f` returns a future of any
    /// `T: Serialize` or `Result<T, E: Display>` (see [`ToolOutput`]); it is called once per
    /// call of the model, and its future is polled by the run, never spawned.
    pub fn new<A, F, Fut, M>(name: impl Into<String>, description: impl Into<String>, f: F) -> Tool
    where
        A: DeserializeOwned + JsonSchema,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: ToolOutput<M>,
    {
        let parameters = schema_generator().into_root_schema_for::<A>().to_value();
        let call = move |arguments: Value| -> ToolFuture {
            match serde_json::from_value::<A>(arguments) {
                Ok(arguments) => {
                    let running = f(arguments);
                    Box::pin(async move { running.await.into_output() })
                }
                Err(error) => Box::pin(std::future::ready(Err(bad_arguments(&error)))),
            }
        };
        Self::from_parts(
            name.into(),
            description.into(),
            Some(parameters),
            Box::new(call),
        )
    }

    /// A tool from what `#[opper::tool]` generates: `call` takes the parsed arguments.
    pub(crate) fn from_parts(
        name: String,
        description: String,
        parameters: Option<Value>,
        call: Box<Call>,
    ) -> Tool {
        let description = Some(description.trim().to_owned()).filter(|d| !d.is_empty());
        Tool {
            inner: Arc::new(Inner {
                name,
                description,
                parameters,
                call,
            }),
        }
    }

    /// The tool's name.
    pub fn get_name(&self) -> &str {
        &self.inner.name
    }

    /// The tool's description, if it has one.
    pub fn get_description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }

    /// The JSON Schema of the tool's parameters; `None` for a tool without any.
    pub fn get_parameters(&self) -> Option<&Value> {
        self.inner.parameters.as_ref()
    }

    /// Calls the tool with `arguments`, the JSON text of its parameters (an empty text is
    /// `{}`): `Ok` with the output's JSON text, or `Err` with the message the model reads as
    /// `{"error": "<message>"}` (the tool's error, or arguments that do not parse or do not
    /// fit its parameters). The tool runs when the future is polled; dropping it cancels it.
    pub fn call(&self, arguments: &str) -> ToolFuture {
        self.call_parsed(arguments, parse_arguments(arguments))
    }

    /// [`call`](Self::call) on `arguments` already read by [`parse_arguments`] as `parsed`
    /// (an agent's turn reads them once, for the call and its span).
    pub(crate) fn call_parsed(
        &self,
        arguments: &str,
        parsed: serde_json::Result<Value>,
    ) -> ToolFuture {
        match parsed {
            Ok(value) => (self.inner.call)(value),
            // The official client's words.
            Err(_) => Box::pin(std::future::ready(Err(format!(
                "Failed to parse tool arguments: {}",
                json::message(&arguments)
            )))),
        }
    }
}

/// A call's arguments, the JSON text the model streamed, as JSON (an empty text is `{}`).
pub(crate) fn parse_arguments(arguments: &str) -> serde_json::Result<Value> {
    match arguments.trim() {
        "" => Ok(Value::Object(serde_json::Map::new())),
        text => serde_json::from_str::<Value>(text),
    }
}

/// A generator with the settings of the schemas the API takes: draft 2020-12 with `$defs`, no
/// `$schema`. A task's schemas (`task::schema::schema_for`), a tool's `parameters` and a
/// generated function's `input_schema` are all made with it.
pub(crate) fn schema_generator() -> schemars::SchemaGenerator {
    schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.meta_schema = None)
        .into_generator()
}

/// The message of arguments that parse but do not fit the tool's parameters.
pub(crate) fn bad_arguments(error: &dyn fmt::Display) -> String {
    json::message(&format_args!("Invalid tool arguments: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, JsonSchema)]
    struct Args {
        a: i64,
        b: i64,
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn plain_and_fallible_returns_and_bad_arguments() {
        let add = Tool::new("add", "Add two integers.", |args: Args| async move {
            args.a + args.b
        });
        let div = Tool::new("div", "", |args: Args| async move {
            match args.b {
                0 => Err(std::fmt::Error),
                b => Ok(args.a / b),
            }
        });
        assert_eq!(div.get_description(), None);
        assert_eq!(
            add.get_parameters().unwrap()["required"],
            serde_json::json!(["a", "b"])
        );
        assert_eq!(block_on(add.call(r#"{"a":2,"b":3}"#)), Ok("5".into()));
        assert_eq!(
            block_on(div.call(r#"{"a":2,"b":0}"#)),
            Err("an error occurred when formatting an argument".into())
        );
        assert_eq!(
            block_on(add.call(r#"{"a":2,"b":"#)),
            Err(r#"Failed to parse tool arguments: {"a":2,"b":"#.into())
        );
        assert_eq!(
            block_on(add.call(r#"{"a":2}"#)),
            Err("Invalid tool arguments: missing field `b`".into())
        );
    }
}
