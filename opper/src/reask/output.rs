//! An output's JSON into its type, naming where it stops fitting.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{Error, Result};

/// Deserializes an output, naming the path where it stops fitting.
pub(crate) fn deserialize_output<T: DeserializeOwned>(json: Value) -> Result<T> {
    match serde_path_to_error::deserialize::<_, T>(&json) {
        Ok(output) => Ok(output),
        Err(error) => Err(Error::Output {
            path: error.path().to_string(),
            message: error.into_inner().to_string(),
            json,
        }),
    }
}

/// Deserializes an output from its JSON text, naming the path where it stops fitting (the text
/// is read as a `Value` only then, for the error).
pub(crate) fn deserialize_text<T: DeserializeOwned>(text: &str) -> Result<T> {
    let mut reader = serde_json::Deserializer::from_str(text);
    let (path, message) = match serde_path_to_error::deserialize::<_, T>(&mut reader) {
        Ok(output) => match reader.end() {
            Ok(()) => return Ok(output),
            Err(error) => (String::new(), error.to_string()),
        },
        Err(error) => (error.path().to_string(), error.into_inner().to_string()),
    };
    Err(Error::Output {
        path,
        message,
        json: serde_json::from_str(text).unwrap_or_default(),
    })
}
