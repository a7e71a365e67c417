//! The v2 wire (`/v2/call`, `/v2/call/stream`): the request body, the answer of a call, the
//! chunks of a stream and the body of an error, as the official v2 clients send and read them.

// The parts, leaves first: the request body, the answer, the error body, the stream's chunks.
pub(crate) mod body;
pub(crate) mod answer;
pub(crate) mod error;
// `StreamingChunk` and `ChunkType` are public as `opper::testing`'s (it scripts v2 replies
// with them); without that feature nothing outside the crate reaches them.
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub(crate) mod chunk;

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use serde_json::value::RawValue;

use crate::error::ApiError;
use crate::error::Result;
use crate::protocol::frame::{Decoded, Endpoint};
use crate::protocol::wire::Wire;
use crate::reask::output::OutputText;
use crate::response::Response;
use crate::task::Task;

/// The path of a call, below the base URL.
pub(crate) const CALL: &str = "/v2/call";
/// The path of a stream, below the base URL.
pub(crate) const STREAM: &str = "/v2/call/stream";
/// The version's prefix, which a base URL may already end in.
pub(crate) const PREFIX: &str = "/v2";
/// Top-level fields of the body that change from run to run or only label a call: not part of
/// what the cache keys a request by.
pub(crate) const UNKEYED: [&str; 2] = ["parent_span_id", "tags"];
/// Where a model's extra headers are in the body: `model.extra_headers` (also in each model of
/// a fallback chain).
pub(crate) const MODEL: &str = "model";
pub(crate) const EXTRA_HEADERS: &str = "extra_headers";

/// The v2 wire, as [`Api::V2`](crate::Api::V2) speaks it.
pub(crate) struct V2;

impl Wire for V2 {
    fn prefix(&self) -> &'static str {
        PREFIX
    }

    fn path(&self, endpoint: Endpoint, _name: &str) -> Cow<'static, str> {
        Cow::Borrowed(match endpoint {
            Endpoint::Call => CALL,
            Endpoint::Stream => STREAM,
        })
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

    fn api_error(
        &self,
        status: u16,
        body: String,
        truncated: bool,
        retry_after: Option<Duration>,
    ) -> ApiError {
        error::api_error(status, body, truncated, retry_after)
    }

    fn frame(&self, _event: &str, data: String, at_eof: bool) -> Result<Option<Decoded>> {
        // No allocation beyond the chunk's own: v2's path is benchmarked.
        chunk::decode(&data, at_eof)
    }

    fn check_recorded(&self, _event: &str, data: &str) -> std::result::Result<(), String> {
        chunk::check_recorded(data)
    }

    fn span_id_of(&self, data: &str) -> Option<String> {
        chunk::span_id_of(data)
    }
}
