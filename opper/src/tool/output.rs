//! What a tool may return: any `T: Serialize`, or `Result<T, E: Display>` (an `Err` goes to the
//! model as `{"error": "<Display>"}`).

use std::fmt::Display;

use serde::Serialize;

use crate::tool::json;

/// A tool's return value: any `T: Serialize` (the model reads its JSON), or
/// `Result<T, E>` with `T: Serialize` and `E: Display` (an `Err` reaches the model as
/// `{"error": "<Display>"}`, and the run goes on).
///
/// `M` tells the two forms apart and is inferred. A `Result` whose error type is itself
/// `Serialize` (a `String`) fits both forms: convert the error to one that is not, such as
/// `Box<dyn std::error::Error + Send + Sync>` (`Err(message.into())`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned by an opper tool",
    label = "a tool returns `T: serde::Serialize` or `Result<T, E>` with `E: std::fmt::Display`",
    note = "add `#[derive(serde::Serialize)]` to the output type"
)]
pub trait ToolOutput<M>: Send {
    /// The output's JSON text, or the error's message.
    fn into_output(self) -> Result<String, String>;
}

/// [`ToolOutput`]'s form for a plain `T: Serialize`.
#[derive(Debug)]
pub enum Plain {}

/// [`ToolOutput`]'s form for `Result<T, E: Display>`.
#[derive(Debug)]
pub enum Fallible {}

impl<T: Serialize + Send> ToolOutput<Plain> for T {
    fn into_output(self) -> Result<String, String> {
        json::output(&self)
    }
}

impl<T: Serialize + Send, E: Display + Send> ToolOutput<Fallible> for Result<T, E> {
    fn into_output(self) -> Result<String, String> {
        match self {
            Ok(value) => json::output(&value),
            Err(error) => Err(json::message(&error)),
        }
    }
}
