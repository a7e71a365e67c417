//! An output's JSON into its type, naming where it stops fitting; an answer's output as the
//! JSON text it arrived in.

use std::ops::Range;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;
use crate::error::Result;

/// Deserializes an output from its JSON text, naming the path where it stops fitting (the text
/// is read as a `Value` only then, for the error).
pub(crate) fn deserialize_text<T: DeserializeOwned>(text: &str) -> Result<T> {
    let mut reader = serde_json::Deserializer::from_str(text);
    let (path, message) = match serde_path_to_error::deserialize::<_, T>(&mut reader) {
        Ok(output) => match reader.end() {
            Ok(()) => return Ok(output),
            Err(error) => (String::new(), error.to_string()),
        },
        Err(error) => {
            let path = error.path().to_string();
            let error = error.into_inner();
            // The path says where: the position in the text is left out.
            let at = format!(" at line {} column {}", error.line(), error.column());
            let message = error.to_string();
            (
                path,
                message.strip_suffix(&at).unwrap_or(&message).to_owned(),
            )
        }
    };
    Err(Error::Output {
        path,
        message,
        json: serde_json::from_str(text).unwrap_or_default(),
    })
}

/// An answer's output as the JSON text it arrived in: a piece of the answer's body, shared
/// (never copied), decoded straight into the output type where it is used, and into a
/// `Value` only where one is needed (a rejection, the raw stream's output).
#[derive(Debug, Clone)]
pub(crate) struct OutputText {
    body: Bytes,
    range: Range<usize>,
}

impl OutputText {
    /// The output at `range` of `body`, which must be UTF-8 (`null` if it is not, or if the
    /// range is not in it).
    pub(crate) fn new(body: Bytes, range: Range<usize>) -> Self {
        Self { body, range }
    }

    /// An output from its JSON.
    pub(crate) fn from_value(value: &Value) -> Self {
        let body = Bytes::from(value.to_string());
        let range = 0..body.len();
        Self { body, range }
    }

    /// The output's JSON text.
    pub(crate) fn text(&self) -> &str {
        self.body
            .get(self.range.clone())
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or("null")
    }

    /// The output as a `Value` (`null` if it cannot be one).
    pub(crate) fn to_value(&self) -> Value {
        serde_json::from_str(self.text()).unwrap_or_default()
    }
}
