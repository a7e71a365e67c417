//! The record of one tool call in an agent's run.

use std::time::Duration;

/// One tool call an agent made: which tool, with what, and what came of it.
///
/// ```
/// # fn show(call: &opper::ToolCall) {
/// match &call.output {
///     Ok(json) => println!("{}({}) = {json} in {:?}", call.name, call.input, call.duration),
///     Err(error) => println!("{}({}) failed: {error}", call.name, call.input),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ToolCall {
    /// The tool's name, as the model called it (also for a tool the agent does not have).
    pub name: String,
    /// The call's id, given by the model (`call_id`).
    pub call_id: String,
    /// The arguments, the JSON text exactly as the model streamed them (at most
    /// [`Tool::MAX_ARGUMENT_BYTES`](crate::Tool::MAX_ARGUMENT_BYTES) of it).
    pub input: String,
    /// The output's JSON text as the model read it, or the error's message (the model read
    /// `{"error": "<message>"}`): the tool's `Err`, an unknown tool, arguments that did not
    /// parse or fit the tool's parameters.
    pub output: Result<String, String>,
    /// How long the tool ran (zero when it did not run).
    pub duration: Duration,
}
