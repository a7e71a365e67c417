//! What a run comes to ([`AgentRun`]), the user's message, and the answer read from the last
//! turn.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;
use crate::error::Result;
use crate::protocol::openresponses::{self, Terminal};
use crate::response::Usage;
use crate::tool::ToolCall;

/// What an agent's run came to: the answer, with what it took.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AgentRun<T> {
    /// The answer: the last turn's message, read as `T`.
    pub output: T,
    /// Tokens used, summed over the turns.
    pub usage: Usage,
    /// How many turns the run took (the last one answered).
    pub iterations: u32,
    /// Every tool call, in the order the model made them.
    pub tool_calls: Vec<ToolCall>,
    /// The last response's `id`, when the service sent one.
    pub response_id: Option<String>,
}

/// The user's message: a string as it is, any other value its JSON text.
pub(super) fn content<I: Serialize + ?Sized>(input: &I) -> Result<String> {
    crate::traced::text(input).map_err(Error::Input)
}

/// The answer given as `final_answer`'s arguments (read leniently, `{}` when empty), as `T`,
/// with the JSON it was read from.
pub(super) fn final_answer_output<T: DeserializeOwned>(arguments: &str) -> Result<(T, Value)> {
    let arguments = match arguments.trim() {
        "" => "{}",
        text => text,
    };
    let value = openresponses::lenient_json(arguments).ok_or_else(|| Error::Output {
        json: Value::String(arguments.to_owned()),
        path: String::new(),
        message: "the model's `final_answer` arguments are not JSON".into(),
    })?;
    typed(value)
}

/// The answer of the last turn as `T`: its text, or (with a schema) the JSON in it; with the
/// JSON it was read from (a text answer: its string).
pub(super) fn answer<T: DeserializeOwned>(
    terminal: &Terminal,
    structured: bool,
    max_output_tokens: Option<u32>,
) -> Result<(T, Value)> {
    let value = if structured {
        openresponses::lenient_json(&terminal.text).ok_or_else(|| Error::Output {
            json: Value::String(terminal.text.clone()),
            path: String::new(),
            message: format!(
                "the agent has an output type but the model did not return a parseable structured response (status={}, output_tokens={}, max_output_tokens={})",
                terminal.status.as_deref().unwrap_or("None"),
                terminal.usage.output_tokens,
                max_output_tokens.unwrap_or(openresponses::DEFAULT_MAX_OUTPUT_TOKENS),
            ),
        })?
    } else {
        Value::String(terminal.text.clone())
    };
    typed(value)
}

/// `value` as `T` (and `value`), or where it stops fitting.
fn typed<T: DeserializeOwned>(value: Value) -> Result<(T, Value)> {
    match serde_path_to_error::deserialize(&value) {
        Ok(output) => Ok((output, value)),
        Err(error) => Err(Error::Output {
            path: error.path().to_string(),
            message: error.inner().to_string(),
            json: value,
        }),
    }
}
