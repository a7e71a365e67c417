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
