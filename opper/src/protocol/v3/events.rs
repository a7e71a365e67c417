//! The events of a v3 stream: `content` text, tool calls, the `complete` answer, `error`,
//! `[DONE]`, decoded into the crate's frames, and what a cassette records of them.

use bytes::Bytes;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::error::Error;
use crate::error::Result;
use crate::protocol::frame::{Decoded, Frame};
use crate::protocol::v3::answer::read_answer;

/// The event name of the final answer.
const COMPLETE: &str = "complete";

/// The frame an event carries. `content` is text; the `complete` event is the final answer
/// (its data moved into the frame, not copied); `[DONE]` ends the stream; an
/// `error` frame ends it with its message. Unknown types, `done`, keep-alives, and lines
/// that are not JSON (as the official clients do) are skipped; a line cut by the end of the
/// body is a cut stream; a `complete` event that cannot be read ends the stream
/// ([`Error::InvalidChunk`], saying why).
pub(crate) fn frame(event: &str, data: String, at_eof: bool) -> Result<Option<Decoded>> {
    let trimmed = data.trim();
    if trimmed == "[DONE]" {
        return Ok(Some(Decoded::frame(Frame::Done)));
    }
    if trimmed.is_empty() {
        return Ok(None);
    }
    if event == COMPLETE {
        if at_eof && serde_json::from_str::<IgnoredAny>(trimmed).is_err() {
            return Err(Error::cut_inside_an_event());
        }
        return complete(data).map(|frame| Some(Decoded::frame(frame)));
    }
    // Most frames are `content`: read with borrowed text, into no map.
    if let Ok(content) = serde_json::from_str::<Content<'_>>(trimmed)
        && content.kind == "content"
    {
        return Ok(content
            .delta
            .filter(|delta| !delta.is_empty())
            .map(|delta| Decoded::frame(Frame::Text(delta.into_owned()))));
    }
    let value: Value = match serde_json::from_str(trimmed) {
        Ok(value) => value,
        Err(_) if at_eof => {
            return Err(Error::cut_inside_an_event());
        }
        Err(error) => {
            tracing::debug!(error = %error, "skipping a v3 stream line that is not JSON");
            return Ok(None);
        }
    };
    Ok(data_frame(&value)?.map(Decoded::frame))
}

/// A `content` frame (or another type, left to the general reader).
#[derive(Deserialize)]
struct Content<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    delta: Option<std::borrow::Cow<'a, str>>,
}

/// Checks a recorded event (a cache entry's frame: `event` its name, empty when none) as
/// [`frame`] reads it, building nothing: an `error` frame is refused (its replay would fail).
pub(crate) fn check_recorded(event: &str, data: &str) -> std::result::Result<(), String> {
    if event != COMPLETE && crate::protocol::check::type_is(data, "error") {
        return Err("it holds an error frame".into());
    }
    Ok(())
}

/// The final answer in a `complete` event's data.
fn complete(data: String) -> Result<Frame> {
    match read_answer(Bytes::from(data)) {
        Ok(answer) => Ok(Frame::Complete(Box::new(answer))),
        Err(reason) => Err(Error::InvalidChunk {
            data: "the `complete` event".into(),
            reason: format!("the final answer could not be read: {reason}"),
            partial: Value::Null,
        }),
    }
}

/// A data frame by its `type`: `content` is text, `tool_call_start` and `tool_call_delta` are
/// tool-call chunks, `error` ends the stream, others are skipped.
fn data_frame(value: &Value) -> Result<Option<Frame>> {
    match value.get("type").and_then(Value::as_str) {
        Some("content") => Ok(value
            .get("delta")
            .and_then(Value::as_str)
            .filter(|delta| !delta.is_empty())
            .map(|delta| Frame::Text(delta.to_owned()))),
        Some("tool_call_start" | "tool_call_delta") => Ok(Some(Frame::ToolCall(value.clone()))),
        Some("error") => {
            let message = match value.get("error") {
                Some(Value::String(message)) => Some(message.clone()),
                Some(Value::Object(error)) => error
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                Some(Value::Null) | None => None,
                Some(other) => Some(other.to_string()),
            };
            Err(Error::stream_chunk(None, message))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn frames_by_type() {
        let frame = |event: &str, data: &str, at_eof| frame(event, data.to_owned(), at_eof);
        let text = frame("", r#"{"type":"content","delta":"{\"a\""}"#, false).unwrap();
        assert!(matches!(text.unwrap().frame, Frame::Text(t) if t == "{\"a\""));
        assert!(
            frame("", r#"{"type":"reasoning","delta":"x"}"#, false)
                .unwrap()
                .is_none()
        );
        assert!(frame("", "not json", false).unwrap().is_none());
        assert!(matches!(
            frame("", "[DONE]", false).unwrap().unwrap().frame,
            Frame::Done
        ));
        assert!(matches!(
            frame("", r#"{"type":"error","error":"boom"}"#, false),
            Err(Error::StreamChunk { error_message: Some(m), .. }) if m == "boom"
        ));
        let complete = frame(
            "complete",
            r#"{"data": {"sum":9} ,"meta":{"trace_uuid":"t"}}"#,
            false,
        )
        .unwrap()
        .unwrap();
        let Frame::Complete(answer) = complete.frame else {
            panic!()
        };
        // Held as it arrived: the output is a piece of the event's text.
        assert_eq!(answer.output.text(), r#"{"sum":9}"#);
        assert_eq!(answer.trace_uuid.as_deref(), Some("t"));
    }
}
