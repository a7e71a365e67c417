//! Spans in Opper, through the client: create one (`POST /v3/spans`) and end it
//! (`PATCH /v3/spans/{id}`), once each, within the client's timeouts. The spans endpoint is
//! v3's whatever version the client's calls speak.
//!
//! [`OpenSpan`] is what the crate's features build on (a trace, an agent's run, a tool call):
//! a span that never breaks the work it describes. When it cannot be created, that is logged
//! at `warn` once per span name and the work runs untraced; a failed end is logged at `warn`.

use bytes::Bytes;
use reqwest::Method;

use crate::client::handle::Opper;
use crate::error::{Error, Result};
use crate::protocol::Api;
use crate::protocol::spans::{self, SpanEnd, SpanStart};
use crate::trace::once::OncePerName;
use crate::trace::parent::SpanHandle;

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

/// The span names whose span could not be created, logged once each.
static UNTRACED: OncePerName = OncePerName::new();

/// A span created in Opper and not ended yet: [`start`](Self::start) it, run the work inside
/// [`parent::in_span`](crate::trace::parent::in_span) with its [`handle`](Self::handle), then
/// [`end`](Self::end) it. Dropping it sends nothing (the span stays open in Opper).
#[derive(Debug)]
pub(crate) struct OpenSpan {
    client: Opper,
    name: String,
    handle: SpanHandle,
}

impl OpenSpan {
    /// Creates the span `start` describes with `client`. `None` when it could not be created
    /// (logged at `warn`, once per span name), and, silently, when the client only replays a
    /// cache (it sends nothing).
    pub(crate) async fn start(client: &Opper, start: &SpanStart) -> Option<OpenSpan> {
        if client.replays_only() {
            return None;
        }
        match client.start_span(start).await {
            Ok(handle) => Some(OpenSpan {
                client: client.clone(),
                name: start.name.clone(),
                handle,
            }),
            Err(error) => {
                log_untraced(&start.name, &error);
                None
            }
        }
    }

    /// The span's id and trace id.
    pub(crate) fn handle(&self) -> &SpanHandle {
        &self.handle
    }

    /// Ends the span as `end` says; a failure is logged at `warn`.
    pub(crate) async fn end(self, end: &SpanEnd) {
        if let Err(error) = self.client.end_span(self.handle.id(), end).await {
            tracing::warn!(
                span = %self.name,
                span_id = %self.handle.id(),
                // As an error, so a subscriber shows its sources (the API's answer to a status).
                error = &error as &(dyn std::error::Error + 'static),
                "opper: the end of a span could not be sent"
            );
        }
    }
}

/// Logs, the first time for `name`, that its span could not be created because of `error`.
pub(crate) fn log_untraced(name: &str, error: &Error) {
    if UNTRACED.first(name) {
        tracing::warn!(
            span = %name,
            error = error as &(dyn std::error::Error + 'static),
            "opper: a span could not be created; the work runs untraced"
        );
    }
}
