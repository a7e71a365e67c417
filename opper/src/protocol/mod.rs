//! The wire of the Opper API, one module per version: every field name of a request body, an
//! answer, a stream chunk or an error body lives here and nowhere else. Above this layer the
//! client, the stream, the cache and the re-asks handle the crate's own types, and choose the
//! version's module through [`Api`] without naming a field.

// The parts, leaves first: JSON in and out for both versions, JSON checked without being
// built (a cache entry's recorded events), v2's wire, the frames both
// versions decode into (a v2 chunk is one), then v3's wire, the spans wire (v3's, used by
// clients of both versions), and the agent's (v3's `/v3/compat/openresponses`).
pub(crate) mod json;
pub(crate) mod check;
pub(crate) mod v2;
pub(crate) mod frame;
pub(crate) mod v3;
pub(crate) mod spans;
pub(crate) mod openresponses;

pub(crate) use frame::{Endpoint, Frame};

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use serde_json::value::RawValue;

// Defined below the error type, which names it; the version's wire is chosen here.
pub(crate) use crate::api::Api;
use crate::reask::output::OutputText;

use crate::StreamingChunk;
use crate::error::ApiError;
use crate::error::Error;
use crate::error::Result;
use crate::response::Response;
use crate::task::Task;

impl std::str::FromStr for Api {
    type Err = Error;

    /// `v2` or `v3` (any case, spaces around ignored); anything else is [`Error::Config`].
    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "v2" => Ok(Api::V2),
            "v3" => Ok(Api::V3),
            _ => Err(Error::config(format!(
                "OPPER_API_VERSION is {:?}; use v2 or v3",
                crate::error::truncate(text, 100)
            ))),
        }
    }
}

impl Api {
    /// The version's path prefix, which a base URL may already end in.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Api::V2 => v2::PREFIX,
            Api::V3 => v3::PREFIX,
        }
    }

    /// The path of `endpoint` for the task `name`, below the base URL.
    pub(crate) fn path(self, endpoint: Endpoint, name: &str) -> Cow<'static, str> {
        match (self, endpoint) {
            (Api::V2, Endpoint::Call) => Cow::Borrowed(v2::CALL),
            (Api::V2, Endpoint::Stream) => Cow::Borrowed(v2::STREAM),
            (Api::V3, endpoint) => Cow::Owned(v3::path(endpoint, name)),
        }
    }

    /// Top-level body fields the cache leaves out of a request's key.
    pub(crate) fn unkeyed(self) -> &'static [&'static str] {
        match self {
            Api::V2 => &v2::UNKEYED,
            Api::V3 => &v3::UNKEYED,
        }
    }

    /// Where a model's extra headers are in a body: the model's field, and its headers' field.
    pub(crate) fn header_fields(self) -> (&'static str, &'static str) {
        match self {
            Api::V2 => (v2::MODEL, v2::EXTRA_HEADERS),
            Api::V3 => (v3::MODEL, v3::EXTRA_HEADERS),
        }
    }

    /// The request body of a call or stream of `task`.
    pub(crate) fn encode(
        self,
        task: &Task,
        input: Option<&RawValue>,
        parent_span_id: Option<&str>,
    ) -> Result<Vec<u8>> {
        match self {
            Api::V2 => v2::encode(task, input, parent_span_id),
            Api::V3 => v3::encode(task, input, parent_span_id),
        }
    }

    /// A call's successful body (live or cached), with its output as JSON.
    pub(crate) fn answer(self, body: Bytes) -> Result<Response<OutputText>> {
        match self {
            Api::V2 => v2::answer(body),
            Api::V3 => v3::answer(body),
        }
    }

    /// Whether a success status means the work is not done (v3's 202): its body is then no
    /// answer nor stream, but the error [`not_an_answer`](Self::not_an_answer) reads.
    pub(crate) fn answers_later(self, status: u16) -> bool {
        match self {
            Api::V2 => false,
            Api::V3 => status == v3::PENDING,
        }
    }

    /// A success status whose body is not an answer (v3's 202): the error it stands for.
    pub(crate) fn not_an_answer(self, status: u16, bytes: &[u8]) -> Option<Error> {
        match self {
            Api::V2 => None,
            Api::V3 => v3::pending(status, bytes),
        }
    }

    /// An error status's body.
    pub(crate) fn api_error(
        self,
        status: u16,
        body: String,
        truncated: bool,
        retry_after: Option<Duration>,
    ) -> ApiError {
        match self {
            Api::V2 => v2::api_error(status, body, truncated, retry_after),
            Api::V3 => v3::api_error(status, body, truncated, retry_after),
        }
    }

    /// The frame an SSE event carries (`event`: its name, `at_eof`: cut by the end of the
    /// body); `Ok(None)` for events that carry nothing the stream uses. A stream replayed from
    /// the cache goes through it too, event by event, as recorded.
    pub(crate) fn frame(self, event: &str, data: String, at_eof: bool) -> Result<Option<Frame>> {
        match self {
            // No allocation beyond the chunk itself: v2's path is benchmarked.
            Api::V2 => Ok(v2::chunk(&data, at_eof)?.map(Frame::Chunk)),
            Api::V3 => v3::frame(event, data, at_eof),
        }
    }

    /// Checks an event recorded in a cache entry (`event`: its name, empty when none) as
    /// [`frame`](Self::frame) reads it, building nothing: why it would not replay as it was
    /// recorded (it is not what this version reads, or it is an error).
    pub(crate) fn check_recorded(self, event: &str, data: &str) -> std::result::Result<(), String> {
        match self {
            Api::V2 => v2::check_recorded(data),
            Api::V3 => v3::check_recorded(event, data),
        }
    }

    /// The span id an event's data carries, read before the stream is handed out.
    pub(crate) fn span_id_of(self, data: &str) -> Option<String> {
        match self {
            Api::V2 => serde_json::from_str::<StreamingChunk>(data)
                .ok()
                .and_then(|chunk| chunk.span_id),
            Api::V3 => None,
        }
    }

    /// Whether a clean stream must end with a final answer ([`Frame::Complete`]): one that
    /// ends without it was cut.
    pub(crate) fn ends_with_complete(self) -> bool {
        match self {
            Api::V2 => false,
            Api::V3 => true,
        }
    }
}

/// Whether an event's `data` carries anything (keep-alives and `[DONE]` do not): the idle
/// timeout counts only those that do.
pub(crate) fn carries_data(data: &str) -> bool {
    v2::carries_chunk(data)
}
