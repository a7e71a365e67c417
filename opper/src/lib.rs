#![doc = include_str!("../docs/crate.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Numbers and text from a server, a file or a user are never trusted: arithmetic on them is
// checked, saturating or `try_`, and nothing on them may panic (no `unwrap`, `expect`, indexing,
// truncating casts). These lints find every such site in the library (tests excepted); a site
// that cannot fail says why in an `allow` on the smallest item around it.
#![cfg_attr(
    not(test),
    warn(
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::cast_possible_truncation
    )
)]

// The stages, leaves first: a module uses only modules listed above it, and a folder's parts
// only the parts listed above them (`scripts/check-layers` fails otherwise).
// 0. JSON text read from a server (the bounds on what a stream builds, the number grammar);
// tools: functions an agent lets the model call, and the record of each call.
mod jsontext;
mod tool;
// 1. The API version, the error type (which names it), and what a call answers.
mod api;
mod error;
mod response;
// 2. The task: what a call sends besides its input (schemas, model, examples, configuration).
mod task;
// 3. Tracing (spans, the parent-span scope), then re-asks (judging outputs, wording re-asks).
mod trace;
mod reask;
// 4. The wire: request bodies, answers, chunks and error bodies, one module per API version.
mod protocol;
// 5. The response cache on disk (keys, entries).
mod cache;
// 6. Reassembly of a streamed output into typed partials.
pub mod partial;
// 7. Streams: SSE, the stream's clocks, raw chunks, the typed stream.
mod stream;
// 8. The client: the `Opper` handle, its builder, HTTP, retries, the default client.
mod client;
// 9. A call: the builder, and the attempts of a call or stream (cache, retries, re-asks).
mod call;
// 10. Traces: a block of work as one span in Opper, the calls inside nested under it.
mod traced;
// 11. Agents: a task that calls the program's tools in a loop until it answers.
mod agent;
// 12. Support for the macros, the fuzz targets, and the testing server.
#[doc(hidden)]
pub mod __private;
#[cfg(feature = "fuzzing")]
mod fuzz;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz {
    //! Fuzzing entry points (the `fuzzing` feature); not a public API.
    pub use crate::fuzz::{assemble, json_path, json_text, sse};
    pub use crate::stream::sse::{DecodeError, Decoder, Event};
}
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use agent::{Agent, AgentEvent, AgentRun, AgentStream};
pub use api::Api;
pub use cache::Cache;
pub use call::CallBuilder;
pub use client::retry::RetryPolicy;
pub use client::{Opper, OpperBuilder};
pub use error::{ApiError, Error, PendingOperation, Rejection, Result, TransportError};
pub use partial::Partial;
pub use reask::validate::{OutputCheck, Validator, ValidatorFn};
pub use response::{Cost, Response, Usage};
pub use stream::{Chunk, ChunkStream, Stream, Update};
// Their old paths, kept for code written before the raw stream yielded `Chunk`s: v2's chunk
// is now what the built-in server scripts (`testing::StreamingChunk`, `testing::ChunkType`).
pub use task::Task;
pub use task::configuration::Configuration;
pub use task::example::Example;
pub use task::model::Model;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub use testing::{ChunkType, StreamingChunk};
pub use tool::{Tool, ToolCall, ToolFuture, ToolOutput};
pub use trace::parent::{
    ParentSpan, SpanHandle, WithParentSpan, current_parent_span, current_span, with_parent_span,
};
pub use traced::{Trace, TraceOutput, trace};

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
/// `Serialize + JsonSchema` type) as the whole input. Schemas are built once per function, and
/// in a generic `impl` once per instantiation (`Repo::<A>::get` and `Repo::<B>::get` each send
/// their own).
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
/// On an [`Api::V3`] client the endpoints are `/v3/functions/{name}/call` and `/stream`, the
/// output is the answer's `data` (a stream's `complete` event), and a task with `example`s is
/// [`Error::Unsupported`].
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
/// - `validate = EXPR`: checks the output; EXPR is anything callable as
///   `Fn(&T) -> Result<(), E>` with `E: Display` (a fn path, a closure,
///   `garde::Validate::validate`). A rejected output is asked again with the rejected output and
///   the reason appended to the instructions; [`Error::Rejected`] when none is accepted. On an
///   agent (`tools = [...]`) the run goes on instead: the next turn's history ends with a
///   `system` message in the same words (the rejected answer and the reason), and the turn
///   counts in [`AgentRun::iterations`]; in the `final_answer` fallback, the calls made beside
///   the rejected answer are sent back first.
/// - `reasks = N`: how many times to ask again (default 2 with `validate`, else 0). With re-asks,
///   output that does not deserialize into `T` is asked again too.
/// - `crate = "::path"`: where `opper` is, when the dependency is renamed.
///
/// # Parameters
/// Owned (`String`, `Vec<T>`, any `Serialize + JsonSchema` type) or borrowed (`&str`, `&[T]`,
/// `&T`: the schema is the referent's). The input is serialized when the call starts, so a
/// returned [`Stream`] borrows nothing. `&mut` parameters and named lifetimes are refused.
///
/// # Generated items
/// `name(params)` calls with the default client (from the environment on first use, or the one
/// set with [`Opper::set_default`]); `name_with(&client, params)` with an explicit [`Opper`].
/// Both have the visibility of the declaration. In an inherent `impl` block they are associated
/// functions (`Type::name(..)`, `Type::name_with(&client, ..)`); an `&self` method calls with the
/// client `self` gives through `AsRef<Opper>` (and has no `_with` companion):
///
/// ```no_run
/// # use schemars::JsonSchema;
/// # use serde::Deserialize;
/// # #[derive(Debug, Deserialize, JsonSchema)]
/// # struct Summary { text: String }
/// struct Summarizer {
///     opper: opper::Opper,
/// }
///
/// impl AsRef<opper::Opper> for Summarizer {
///     fn as_ref(&self) -> &opper::Opper {
///         &self.opper
///     }
/// }
///
/// impl Summarizer {
///     /// Summarize the text in one sentence.
///     #[opper::function(model = "openai/gpt-4o-mini")]
///     async fn summarize(&self, text: &str) -> opper::Result<Summary>;
/// }
///
/// # async fn run() -> opper::Result<()> {
/// let summarizer = Summarizer { opper: opper::Opper::from_env()? };
/// let summary = summarizer.summarize("A long text.").await?;
/// # Ok(()) }
/// ```
///
/// A task cannot be a trait's method: declare it in an inherent `impl` and call it from the
/// trait's method.
#[doc(inline)]
pub use opper_macros::function;

/// Derives [`Partial`](trait@Partial): the partial form of an output type, filled chunk by chunk
/// while a [`Stream`] runs.
///
/// For `struct Team` it generates `PartialTeam` (rename it with `#[opper(partial = "Name")]`),
/// with the type's visibility: every field an `Option` of the field type's partial (nested
/// structs as their partials, `Vec<T>` as a vector of partials), `Debug`, `Clone`, `Default`,
/// and `Serialize` to the JSON known so far. Serde's `rename`, `rename_all`, `alias`, `skip`,
/// `default` and `flatten` are honoured; a unit-only enum's partial is the enum itself (shown
/// once its variant is whole; it needs `Clone`, `Debug` and `Serialize`, and is streamed as a
/// field of a struct).
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
///
/// # When a field appears
///
/// A partial shows only what the final output will hold. A field *completes* when a chunk for
/// another path arrives (the stream moves past it) or when the stream ends cleanly. Then:
///
/// - a `String` appears at its first chunk and grows by prefix;
/// - a number, boolean or unit-enum variant appears only whole, once the field completes,
///   whether its deltas are typed (`4`, `2`) or text (`"4"`, `"2"`; `"Wri"`, `"ter"`), so
///   never `4` on the way to `42` nor `"Wri"` on the way to `"Writer"`;
/// - an `#[opper(atomic)]` field appears only whole, once it completes, whatever its type (a
///   `String` id or URL, a nested struct, a `Vec`): use it for values that mean nothing in part;
/// - a struct appears at its first field that appears, unless it has `#[opper(required)]`
///   fields: then it is absent from its parent (not pushed into the parent's `Vec`, `None` in an
///   `Option` or field, not in a map) until every required field has a value (a number,
///   boolean, variant or atomic field: a whole one), or until the struct completes. The
///   required fields of a `#[serde(flatten)]`ed struct are its parent's.
///
/// The table on [`Partial`](trait@Partial#what-a-partial-shows) says the same for every type.
///
/// ```
/// # #[cfg(feature = "testing")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> opper::Result<()> {
/// use futures::StreamExt;
/// use schemars::JsonSchema;
/// use serde::Deserialize;
/// use serde_json::{Value, json};
///
/// #[derive(Debug, Deserialize, JsonSchema, opper::Partial)]
/// struct Member {
///     #[opper(required)]   // a Member is not shown in its parent until `name` has a value
///     name: String,
///     #[opper(atomic)]     // shown only whole, like a number: ids, URLs, codes
///     homepage: String,
///     age: u32,
/// }
///
/// #[derive(Debug, Deserialize, JsonSchema, opper::Partial)]
/// struct Team {
///     members: Vec<Member>,
/// }
///
/// let server = opper::testing::MockServer::start().await;
/// let chunk = |path: &str, delta: Value| json!({"json_path": path, "delta": delta});
/// server.reply("team", opper::testing::Reply::events([
///     chunk("response.members[0].name", json!("An")),
///     chunk("response.members[0].name", json!("n")),
///     chunk("response.members[0].homepage", json!("https://")),
///     chunk("response.members[0].homepage", json!("ann.dev")),
///     chunk("response.members[0].age", json!("4")),
///     chunk("response.members[0].age", json!("2")),
///     chunk("response.members[1].homepage", json!("https://bo.dev")),
///     chunk("response.members[1].name", json!("Bo")),
///     chunk("response.members[1].age", json!(30)),
/// ]));
/// let mut stream = server.client().call("team").output_type::<Team>().stream::<Team>().await?;
/// let mut shown = Vec::new();
/// while let Some(update) = stream.next().await {
///     shown.push(serde_json::to_value(&*update?.partial).unwrap()["members"].clone());
/// }
/// assert_eq!(shown[0], json!([{"name": "An"}]));                  // a string grows
/// assert_eq!(shown[3], json!([{"name": "Ann"}]));                 // atomic: not yet
/// assert_eq!(shown[5], json!([{"name": "Ann", "homepage": "https://ann.dev"}])); // no `4`
/// assert_eq!(shown[6][0]["age"], 42);                             // whole, once complete
/// assert_eq!(shown[6].as_array().unwrap().len(), 1);              // member 1 has no name yet
/// assert_eq!(shown[7][1], json!({"name": "Bo", "homepage": "https://bo.dev"}));
/// assert_eq!(shown[8][1].get("age"), None);                     // typed: also when complete
/// let team = stream.finish().await?;
/// assert_eq!((team.members[1].name.as_str(), team.members[1].age), ("Bo", 30));
/// # Ok(()) }
/// # #[cfg(not(feature = "testing"))]
/// # fn main() {}
/// ```
///
/// # Attributes
///
/// - On the type: `#[opper(partial = "Name")]`, the partial type's name;
///   `#[opper(crate = "path")]`, where `opper` is when it is not `::opper`.
/// - On a field of a struct: `#[opper(atomic)]` and `#[opper(required)]`, described above;
///   both may go on one field (the struct then waits for that field's whole value).
///
/// Misuse is a compile error on the attribute: an unknown key, a key set twice, `atomic` or
/// `required` on a flattened field (it has no path of its own; mark its type's fields instead)
/// or a skipped one, on the type, or on an enum or its variants (a variant is shown only whole
/// already).
#[doc(inline)]
pub use opper_macros::Partial;

/// Makes a `fn` or `async fn` a tool an agent's model may call: `<name>_tool()` returns it as
/// an [`opper::Tool`](crate::Tool), and the function stays callable as written.
///
/// ```
/// use serde::Serialize;
///
/// #[derive(Serialize)]
/// struct Weather {
///     city: String,
///     temperature_c: i32,
/// }
///
/// /// Current weather in a city.
/// #[opper::tool]
/// async fn get_weather(
///     /// City name, e.g. "Paris"
///     city: &str,
/// ) -> Result<Weather, String> {
///     match city {
///         "Atlantis" => Err(format!("unknown city: {city}")),
///         _ => Ok(Weather { city: city.into(), temperature_c: 21 }),
///     }
/// }
///
/// /// Add two integers.
/// #[opper::tool]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// # async fn run() {
/// assert_eq!(add(2, 3), 5);                                   // callable as written
/// let tool = get_weather_tool();
/// assert_eq!(tool.get_description(), Some("Current weather in a city."));
/// assert_eq!(tool.get_parameters().unwrap()["properties"]["city"]["description"], "City name, e.g. \"Paris\"");
/// assert_eq!(tool.call(r#"{"city": "Paris"}"#).await.unwrap(), r#"{"city": "Paris", "temperature_c": 21}"#);
/// assert_eq!(tool.call(r#"{"city": "Atlantis"}"#).await, Err("unknown city: Atlantis".into()));
/// # }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run());
/// ```
///
/// The function's name is the tool's (`name = "..."` sets another) and its doc comment the
/// tool's description (none without one). Its parameters are the properties of the tool's
/// `parameters` schema, built as a task's input schema is (each `///` comment the property's
/// description; an `Option` is not required). A parameter is owned or borrowed (`&str`,
/// `&[T]`, `&T`: read from the arguments as `String`, `Vec<T>`, `T`), of any type with
/// `serde::Deserialize` and `schemars::JsonSchema`. The function returns any
/// `T: serde::Serialize` (the model reads its JSON) or `Result<T, E>` with `E: Display` (the
/// model reads `{"error": "<Display>"}`; any type named `Result` is read this way, so a
/// `String` error works here).
///
/// Refused with an error on the token: `self`, generics and lifetime parameters, `&mut` and
/// `impl Trait` parameters, patterns as parameters, `unsafe`, `extern`, a missing body; a
/// parameter or return type without the traits above is an error on the type. `crate = "..."`
/// says where `opper` is when the dependency is renamed.
#[doc(inline)]
pub use opper_macros::tool;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
