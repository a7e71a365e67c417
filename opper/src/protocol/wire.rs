//! What a version of the API is to the rest of the crate: one trait, implemented by a unit
//! struct in each version's folder (`v2::V2`, `v3::V3`) and chosen in one place,
//! [`Api::wire`](crate::Api). A new version is a new folder and one arm there.

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use serde_json::value::RawValue;

use crate::error::ApiError;
use crate::error::Error;
use crate::error::Result;
use crate::protocol::frame::{Decoded, Endpoint};
use crate::reask::output::OutputText;
use crate::response::Response;
use crate::task::Task;

/// A version's wire: its paths, request bodies, answers, stream events and error bodies, read
/// into and written from the crate's own types.
pub(crate) trait Wire: Sync {
    /// The version's path prefix, which a base URL may already end in.
    fn prefix(&self) -> &'static str;

    /// The path of `endpoint` for the task `name`, below the base URL.
    fn path(&self, endpoint: Endpoint, name: &str) -> Cow<'static, str>;

    /// Top-level body fields the cache leaves out of a request's key.
    fn unkeyed(&self) -> &'static [&'static str];

    /// Where a model's extra headers are in a body: the model's field, and its headers' field.
    fn header_fields(&self) -> (&'static str, &'static str);

    /// The request body of a call or stream of `task`.
    fn encode(
        &self,
        task: &Task,
        input: Option<&RawValue>,
        parent_span_id: Option<&str>,
    ) -> Result<Vec<u8>>;

    /// A call's successful body (live or cached), with its output as JSON.
    fn answer(&self, body: Bytes) -> Result<Response<OutputText>>;

    /// Whether a success status means the work is not done (v3's 202): its body is then no
    /// answer nor stream, but the error [`not_an_answer`](Self::not_an_answer) reads.
    fn answers_later(&self, _status: u16) -> bool {
        false
    }

    /// A success status whose body is not an answer (v3's 202): the error it stands for.
    fn not_an_answer(&self, _status: u16, _bytes: &[u8]) -> Option<Error> {
        None
    }

    /// An error status's body.
    fn api_error(
        &self,
        status: u16,
        body: String,
        truncated: bool,
        retry_after: Option<Duration>,
    ) -> ApiError;

    /// The frame an SSE event carries (`event`: its name, `at_eof`: cut by the end of the
    /// body); `Ok(None)` for events that carry nothing the stream uses. An error the stream
    /// sends is an `Err`. A stream replayed from the cache goes through it too, event by
    /// event, as recorded.
    fn frame(&self, event: &str, data: String, at_eof: bool) -> Result<Option<Decoded>>;

    /// Checks an event recorded in a cache entry (`event`: its name, empty when none) as
    /// [`frame`](Self::frame) reads it, building nothing: why it would not replay as it was
    /// recorded (it is not what this version reads, or it is an error).
    fn check_recorded(&self, event: &str, data: &str) -> std::result::Result<(), String>;

    /// The span id an event's data carries, read before the stream is handed out.
    fn span_id_of(&self, _data: &str) -> Option<String> {
        None
    }

    /// Whether a clean stream must end with a final answer
    /// ([`Frame::Complete`](crate::protocol::Frame::Complete)): one that
    /// ends without it was cut.
    fn ends_with_complete(&self) -> bool {
        false
    }
}
