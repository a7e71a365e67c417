//! Support for the code `#[opper::function]` and `#[derive(opper::Partial)]` generate. Not a
//! public API: names here may change in any release.

pub use ::schemars;
pub use ::serde;
pub use ::serde_json;
pub use serde_json::Value;

pub use crate::partial::derive::{first_key, no_field, object, split_key, unit_enum};
pub use crate::partial::{Cx, Seg};
pub use crate::schema::schema_for;
pub use crate::{Configuration, Model, Opper, Task};

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::default_client::default_client;
use crate::json::input;
use crate::{Example, Partial, Response, Result, Stream};

/// A task definition built once, on first use.
pub type TaskCell = std::sync::LazyLock<Task>;

/// Adds an example from typed values; a value that cannot be serialized makes every call of
/// the task fail with [`Error::Input`](crate::Error::Input).
pub fn example(
    task: Task,
    input: &impl Serialize,
    output: &impl Serialize,
    comment: Option<&str>,
) -> Task {
    let example = Example::from_values(input, output).map(|example| match comment {
        Some(comment) => example.comment(comment),
        None => example,
    });
    task.try_example(example)
}

fn client(client: Option<&Opper>) -> Result<std::borrow::Cow<'_, Opper>> {
    match client {
        Some(client) => Ok(std::borrow::Cow::Borrowed(client)),
        None => default_client().map(std::borrow::Cow::Owned),
    }
}

/// `POST /v2/call`: the output, deserialized (text mode when the task has no output schema and
/// `O` is `String`).
pub async fn call<I: Serialize + ?Sized, O: DeserializeOwned>(
    client_: Option<&Opper>,
    task: &Task,
    input_: &I,
) -> Result<O> {
    call_response(client_, task, input_)
        .await
        .map(Response::into_output)
}

/// `POST /v2/call`: the output with the call's metadata.
pub async fn call_response<I: Serialize + ?Sized, O: DeserializeOwned>(
    client_: Option<&Opper>,
    task: &Task,
    input_: &I,
) -> Result<Response<O>> {
    let input_ = input(input_)?;
    client(client_)?.execute(task, Some(&input_), None).await
}

/// `POST /v2/call/stream`: typed updates, then the output.
pub async fn stream<I: Serialize + ?Sized, O: Partial + DeserializeOwned + 'static>(
    client_: Option<&Opper>,
    task: &Task,
    input_: &I,
) -> Result<Stream<O>> {
    let input_ = input(input_)?;
    let chunks = client(client_)?
        .open_stream(task, Some(&input_), None)
        .await?;
    Ok(Stream::new(chunks, task.output_schema_value()))
}

/// Compile-time check: `T` can be the output of a task.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the output of an #[opper::function]",
    label = "needs `serde::Deserialize` and `schemars::JsonSchema`",
    note = "add `#[derive(serde::Deserialize, schemars::JsonSchema)]` to `{Self}`"
)]
pub trait Output: DeserializeOwned + JsonSchema {}
impl<T: DeserializeOwned + JsonSchema> Output for T {}

/// Compile-time check: `T` can be a parameter (or the whole input) of a task.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an input of an #[opper::function]",
    label = "needs `serde::Serialize` and `schemars::JsonSchema`",
    note = "add `#[derive(serde::Serialize, schemars::JsonSchema)]` to `{Self}`"
)]
pub trait Input: Serialize + JsonSchema {}
impl<T: Serialize + JsonSchema + ?Sized> Input for T {}

/// Compile-time check: `T` can be streamed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be streamed: it does not implement `opper::Partial`",
    label = "streamed outputs need `opper::Partial`",
    note = "add `#[derive(opper::Partial)]` to `{Self}`"
)]
pub trait Streamable: Partial + Output {}
impl<T: Partial + Output> Streamable for T {}

/// Compile-time check: an example's output can be sent.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is used in an `example(...)` but does not implement `serde::Serialize`",
    label = "examples are sent as JSON",
    note = "add `#[derive(serde::Serialize)]` to `{Self}`"
)]
pub trait ExampleOutput: Serialize {}
impl<T: Serialize> ExampleOutput for T {}

/// Asserts `T: Input` where the macro places it, so the error points at the user's type.
pub const fn assert_input<T: Input + ?Sized>() {}
