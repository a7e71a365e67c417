//! JSON in and out, the same for both versions: a request body written in one pass, an answer
//! read with the errors an unreadable one gets.

use serde::Deserialize;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::Error;
use crate::error::Result;
use crate::error::truncate;

/// A request body serialized in one pass, into a buffer sized for its largest parts (the
/// schemas and the input, copied in as the JSON they already are).
pub(crate) fn write(body: &impl Serialize, raw: [Option<&RawValue>; 3]) -> Result<Vec<u8>> {
    let capacity = raw
        .iter()
        .map(|raw| raw.map_or(0, |raw| raw.get().len()))
        .fold(256, usize::saturating_add);
    let mut bytes = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut bytes, body).map_err(Error::Input)?;
    Ok(bytes)
}

/// An answer's body read as `T`: an empty body, or one that is not that JSON, is
/// [`Error::InvalidResponse`] with the start of the body.
pub(crate) fn read<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T> {
    not_empty(bytes)?;
    serde_json::from_slice(bytes).map_err(|e| invalid(bytes, e.to_string()))
}

/// An empty body (or only whitespace) is [`Error::InvalidResponse`].
pub(crate) fn not_empty(bytes: &[u8]) -> Result<()> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::InvalidResponse {
            body: String::new(),
            reason: "the response body is empty".into(),
        });
    }
    Ok(())
}

/// [`Error::InvalidResponse`] for `bytes`, keeping their start.
pub(crate) fn invalid(bytes: &[u8], reason: String) -> Error {
    Error::InvalidResponse {
        body: truncate(&String::from_utf8_lossy(bytes), 2000).to_owned(),
        reason,
    }
}
