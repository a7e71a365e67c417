//! [`Example`]: a successful completion shown to the model.

use serde::Serialize;
use serde_json::Value;

use crate::error::Result;
use crate::task::json;

/// An example of a successful completion, added to the prompt.
///
/// ```
/// use serde_json::json;
///
/// let example = opper::Example::new(json!({"x": 1, "y": 3}), json!({"sum": 4})).comment("Adds two numbers");
/// assert_eq!(
///     serde_json::to_value(&example).unwrap(),
///     json!({"input": {"x": 1, "y": 3}, "output": {"sum": 4}, "comment": "Adds two numbers"})
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    input: Value,
    output: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

impl Example {
    /// An example from its input and output JSON.
    pub fn new(input: Value, output: Value) -> Self {
        Self {
            input,
            output,
            comment: None,
        }
    }

    /// An example from typed values, serialized to JSON; a NaN or an infinity in either is an
    /// [`Error::Input`](crate::Error::Input) (JSON cannot carry them).
    pub fn from_values(input: &impl Serialize, output: &impl Serialize) -> Result<Self> {
        let input = json::value(input)?;
        let output = json::value(output)?;
        Ok(Self::new(input, output))
    }

    /// A comment on why this output is right.
    #[must_use]
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }
}
