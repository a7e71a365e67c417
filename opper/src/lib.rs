#![doc = include_str!("../../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cache;
mod client;
mod error;
mod function;
pub mod partial;
mod request;
mod response;
pub mod sse;
mod stream;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

#[doc(hidden)]
pub mod __private;
#[doc(hidden)]
pub mod __fuzz {
    //! Fuzzing entry points; not a public API.
    pub use crate::fuzz::{assemble, json_path, sse};
}
mod fuzz;

pub use cache::Cache;
pub use client::{Opper, OpperBuilder, RetryPolicy};
pub use error::{ApiError, Error, Result, TransportError};
pub use function::{ParentSpan, WithParentSpan, current_parent_span, with_parent_span};
pub use partial::Partial;
pub use request::{CallBuilder, Configuration, Example, Model, Task};
pub use response::{Cost, Response, Usage};
pub use sse::{ChunkType, StreamingChunk};
pub use stream::{ChunkStream, Stream, Update};

/// Turns a bodiless `async fn` signature into a typed call of an Opper task.
///
/// ```no_run
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Serialize, Deserialize, JsonSchema)]
/// struct Sum {
///     sum: i64,
/// }
///
/// /// Calculate the sum of two numbers
/// #[opper::function(
///     model = "openai/gpt-4o-mini",
///     example(input(x = 1, y = 3), output = Sum { sum: 4 }, comment = "Adds two numbers"),
///     tags(project = "project_456"),
///     max_attempts = 3,
/// )]
/// async fn add_numbers(
///     /// The first number
///     x: i64,
///     /// The second number
///     y: i64,
/// ) -> opper::Result<Sum>;
///
/// # async fn run() -> opper::Result<()> {
/// // The default client, from OPPER_API_KEY / OPPER_BASE_URL:
/// let sum = add_numbers(4, 5).await?;
/// // An explicit client:
/// let client = opper::Opper::from_env()?;
/// let sum = add_numbers_with(&client, 4, 5).await?;
/// # Ok(()) }
/// ```
///
/// The function's name is the task's `name` and its doc comment the `instructions`. Its
/// parameters are the fields of the input object, each `///` comment the description of its
/// property in `input_schema`; mark a single parameter `#[input]` to send that value (any
/// `Serialize + JsonSchema` type) as the whole input. Schemas are built once per function.
///
/// # Return types
/// | declared | endpoint | `output_schema` | result |
/// | --- | --- | --- | --- |
/// | `opper::Result<T>` | `/v2/call` | schema of `T` | `json_payload` as `T` |
/// | `opper::Result<String>` | `/v2/call` | none (text mode) | `message` |
/// | `opper::Result<opper::Response<T>>` | `/v2/call` | as for `T` | `T` with `span_id`, `usage`, `cost`, `cached` |
/// | `opper::Result<opper::Stream<T>>` | `/v2/call/stream` | schema of `T` (`T: opper::Partial`) | typed updates, then `T` |
/// | `opper::Result<opper::Stream<String>>` | `/v2/call/stream` | none | text deltas, then the text |
///
/// # Keys
/// - `name = "..."`, `instructions = "..."`: override the function's name and doc comment.
/// - `model = "provider/model"`; with options and headers for the provider
///   `model("openai/gpt-4o", temperature = 0.2, extra_headers("x-key" = "..."))`; a fallback chain
///   `model = [model("a", temperature = 0.1), "b"]`.
/// - `tags(key = "value", ...)`.
/// - `example(input(param = expr, ...), output = expr, comment = "...")`, repeatable; with
///   `#[input]`, `example(input = expr, output = expr)`. Checked against the signature at
///   compile time (the output type must also implement `Serialize`).
/// - configuration: `max_attempts`, `cache_ttl`, `input_validation`, `xml_mode`,
///   `few_shot_count`, at the top level or inside `configuration(...)`.
/// - `crate = "::path"`: where `opper` is, when the dependency is renamed.
///
/// # Generated items
/// `name(params)` calls with the default client (from the environment on first use, or the one
/// set with [`Opper::set_default`]); `name_with(&client, params)` with an explicit [`Opper`].
/// Both have the visibility of the declaration.
#[doc(inline)]
pub use opper_macros::function;

/// Derives [`Partial`](trait@Partial): the partial form of an output type, filled chunk by chunk
/// while a [`Stream`] runs.
///
/// For `struct Team` it generates `PartialTeam` (rename it with `#[opper(partial = "Name")]`),
/// with the type's visibility: every field an `Option` of the field type's partial (nested
/// structs as their partials, `Vec<T>` as a vector of partials), `Debug`, `Clone`, `Default`,
/// and `Serialize` to the JSON known so far. Serde's `rename`, `rename_all`, `alias`, `skip`,
/// `default` and `flatten` are honoured; unit-only enums stream as their text.
///
/// ```
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// #[derive(Debug, Deserialize, JsonSchema, opper::Partial)]
/// #[serde(rename_all = "camelCase")]
/// struct Person {
///     full_name: String,
///     age: Option<u32>,
/// }
///
/// let partial = PartialPerson { full_name: Some("Ann".into()), age: None };
/// assert_eq!(serde_json::to_value(&partial).unwrap(), serde_json::json!({"fullName": "Ann"}));
/// ```
#[doc(inline)]
pub use opper_macros::Partial;
