//! The v3 wire (`/v3/functions/{name}/call` and `/stream`, the "Task API"): the request body,
//! the `{data, meta}` answer, the `202` pending answer, the stream's frames and the error body,
//! as the official v3 clients (Python `opperai` 2.1.1) send and read them.

// The parts, leaves first: a name as a segment of a path, the request body, the answer (a
// call's, and a stream's `complete`), the pending `202`, the error body, the stream's events,
// and the reader of the JSON text the stream's `content` events carry.
pub(crate) mod segment;
pub(crate) mod body;
pub(crate) mod answer;
pub(crate) mod pending;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod text;

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use serde_json::value::RawValue;

use crate::error::ApiError;
use crate::error::Error;
use crate::error::Result;
use crate::protocol::frame::{Decoded, Endpoint};
use crate::protocol::wire::Wire;
use crate::reask::output::OutputText;
use crate::response::Response;
use crate::task::Task;

/// The version's prefix, which a base URL may already end in.
pub(crate) const PREFIX: &str = "/v3";
/// Top-level fields of the body that change from run to run: not part of a cache key.
pub(crate) const UNKEYED: [&str; 1] = ["parent_span_id"];
/// Where a model's extra headers are in the body: `model.extra_headers` (also in each model
/// of a fallback chain).
pub(crate) const MODEL: &str = "model";
pub(crate) const EXTRA_HEADERS: &str = "extra_headers";

/// `/v3/functions/{name}/call` or `/stream`, the name percent-encoded as one path segment
/// (as Python's `quote(name, safe="")`: letters, digits and `-._~` are kept).
pub(crate) fn path(endpoint: Endpoint, name: &str) -> String {
    let mut path = String::with_capacity(name.len().saturating_add(24));
    path.push_str("/v3/functions/");
    segment::push(&mut path, name);
    path.push_str(match endpoint {
        Endpoint::Call => "/call",
        Endpoint::Stream => "/stream",
    });
    path
}

/// The v3 wire, as [`Api::V3`](crate::Api::V3) speaks it.
pub(crate) struct V3;

impl Wire for V3 {
    fn prefix(&self) -> &'static str {
        PREFIX
    }

    fn path(&self, endpoint: Endpoint, name: &str) -> Cow<'static, str> {
        Cow::Owned(path(endpoint, name))
    }

    fn unkeyed(&self) -> &'static [&'static str] {
        &UNKEYED
    }

    fn header_fields(&self) -> (&'static str, &'static str) {
        (MODEL, EXTRA_HEADERS)
    }

    fn encode(
        &self,
        task: &Task,
        input: Option<&RawValue>,
        parent_span_id: Option<&str>,
    ) -> Result<Vec<u8>> {
        body::encode(task, input, parent_span_id)
    }

    fn answer(&self, body: Bytes) -> Result<Response<OutputText>> {
        answer::answer(body)
    }

    fn answers_later(&self, status: u16) -> bool {
        status == pending::PENDING
    }

    fn not_an_answer(&self, status: u16, bytes: &[u8]) -> Option<Error> {
        pending::pending(status, bytes)
    }

    fn api_error(
        &self,
        status: u16,
        body: String,
        truncated: bool,
        retry_after: Option<Duration>,
    ) -> ApiError {
        error::api_error(status, body, truncated, retry_after)
    }

    fn frame(&self, event: &str, data: String, at_eof: bool) -> Result<Option<Decoded>> {
        events::frame(event, data, at_eof)
    }

    fn check_recorded(&self, event: &str, data: &str) -> std::result::Result<(), String> {
        events::check_recorded(event, data)
    }

    fn ends_with_complete(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_path_segment() {
        assert_eq!(
            path(Endpoint::Call, "add_numbers"),
            "/v3/functions/add_numbers/call"
        );
        assert_eq!(
            path(Endpoint::Stream, "my/fn ä?#"),
            "/v3/functions/my%2Ffn%20%C3%A4%3F%23/stream"
        );
    }
}
