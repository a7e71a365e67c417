#![doc = include_str!("../docs/crate.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Layers, leaves first; each module uses only those above it in this list (checked by
// `scripts/check-layers`).
// Wire and error types.
mod error;
mod json;
mod response;
mod wire;
// What a task sends.
mod configuration;
mod example;
mod model;
mod schema;
mod task;
// Decoding, tracing, and the parent-span scope.
mod decode;
mod parent;
mod trace;
// The response cache on disk (keys, entries), below the streams and the client that use it.
mod cache;
// Streams: SSE, reassembly, the typed stream.
pub mod partial;
// Private; its `pub` items are for the fuzz targets (`__fuzz`). Until the decoder keeps only
// what the client reads, some of them are unused without the `fuzzing` feature.
#[allow(unreachable_pub)]
#[cfg_attr(not(feature = "fuzzing"), allow(dead_code))]
mod sse;
mod stream;
// The client (with its retry policy), the default client, the call builder.
mod call;
mod client;
mod default_client;
mod retry;
// Support for the macros, the fuzz targets, and the testing server.
#[doc(hidden)]
pub mod __private;
// The chunker and the small RNG serve the testing server and the unit tests; in a test build
// without the `testing` feature only the tests use them, and only in part.
#[cfg(any(test, feature = "testing"))]
#[cfg_attr(not(feature = "testing"), allow(dead_code, unreachable_pub))]
mod chunker;
#[cfg(any(test, feature = "testing"))]
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
mod rng;

#[cfg(feature = "fuzzing")]
mod fuzz;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz {
    //! Fuzzing entry points (the `fuzzing` feature); not a public API.
    pub use crate::fuzz::{assemble, json_path, sse};
    pub use crate::sse::{DecodeError, Decoder, Event};
}
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use cache::Cache;
pub use call::CallBuilder;
pub use client::{Opper, OpperBuilder};
pub use configuration::Configuration;
pub use error::{ApiError, Error, Result, TransportError};
pub use example::Example;
pub use model::Model;
pub use parent::{ParentSpan, WithParentSpan, current_parent_span, with_parent_span};
pub use partial::Partial;
pub use response::{Cost, Response, Usage};
pub use retry::RetryPolicy;
pub use stream::{ChunkStream, Stream, Update};
pub use task::Task;
pub use wire::{ChunkType, StreamingChunk};

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

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
