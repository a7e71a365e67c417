//! The chunk of `/v2/call/stream`: what one SSE event's `data` carries.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a chunk is to be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ChunkType {
    /// Text mode (no output schema): `delta` is text.
    Text,
    /// Structured mode: `delta` belongs to the field at `json_path`.
    Json,
    /// The service failed: see `error_type` and `error_message`.
    Error,
    /// A type this version does not know.
    #[serde(other)]
    Other,
}

/// One event of `/v2/call/stream`. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StreamingChunk {
    /// The call's span; usually alone in the first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// The increment: text, a number or a boolean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<Value>,
    /// Which field the delta belongs to, such as `response.people[0].name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    /// `text`, `json` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_type: Option<ChunkType>,
    /// The kind of error, in an `error` chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// The error's message, in an `error` chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl StreamingChunk {
    /// Whether this is an error chunk.
    pub fn is_error(&self) -> bool {
        self.chunk_type == Some(ChunkType::Error)
            || (self.chunk_type.is_none()
                && (self.error_type.is_some() || self.error_message.is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_parse_with_nulls_and_unknown_fields() {
        let chunk: StreamingChunk = serde_json::from_str(
            r#"{"delta": null, "json_path": "response.x", "chunk_type": "json", "new": 1}"#,
        )
        .unwrap();
        assert_eq!(chunk.delta, None);
        assert_eq!(chunk.chunk_type, Some(ChunkType::Json));
        let error: StreamingChunk = serde_json::from_str(
            r#"{"chunk_type": "error", "error_type": "X", "error_message": "m"}"#,
        )
        .unwrap();
        assert!(error.is_error());
    }
}
