//! Spans in Opper, through the client: create one (`POST /v3/spans`) and end it
//! (`PATCH /v3/spans/{id}`), once each, within the client's timeouts. The spans endpoint is
//! v3's whatever version the client's calls speak. What to do when either fails (a trace
//! runs its work untraced, and logs) is the caller's.

use bytes::Bytes;
use reqwest::Method;

use crate::protocol::Api;
use crate::protocol::spans::{self, SpanEnd, SpanStart};
use crate::trace::parent::SpanHandle;
use crate::{Opper, Result};

impl Opper {
    /// Creates the span `start` describes: its handle, or why it could not be created (an
    /// error status, a transport failure or timeout, or an answer without the span's ids).
    /// Sent once: a span that cannot be created at once is not worth holding the work back.
    pub(crate) async fn start_span(&self, start: &SpanStart) -> Result<SpanHandle> {
        let body = Bytes::from(spans::encode(start)?);
        let (_, bytes) = self
            .transport()
            .send_json_once(Method::POST, spans::CREATE, body, Api::V3)
            .await?;
        spans::created(&bytes)
    }

    /// Ends the span `id` as `end` says (any success status; the answer's body is not read
    /// beyond the client's limits).
    pub(crate) async fn end_span(&self, id: &str, end: &SpanEnd) -> Result<()> {
        let body = Bytes::from(spans::encode(end)?);
        self.transport()
            .send_json_once(Method::PATCH, &spans::path_of(id), body, Api::V3)
            .await
            .map(drop)
    }
}
