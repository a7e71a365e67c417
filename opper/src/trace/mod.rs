//! A call's tracing: its span, and what is recorded on it when the call (or stream) ends.

// The parent-span scope, below the spans that read it.
pub(crate) mod parent;

use std::time::Instant;

use crate::error::Rejection;
use crate::{Error, Response};

/// What a span traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A call (`POST /v2/call`, `/v3/functions/{name}/call`).
    Call,
    /// A stream (`POST /v2/call/stream`, `/v3/functions/{name}/stream`).
    Stream,
}

/// The span of one attempt of a call: `opper.call` or `opper.stream`, with the API version
/// (`api`: `v2` or `v3`), the task, the first
/// model's name and the attempt's number (1, then 2 for the first re-ask, ...); the other
/// fields are recorded as the call goes (`cache`: `"hit"` or `"miss"`, when the client
/// has a cache).
pub(crate) fn call_span(
    api: &'static str,
    kind: Kind,
    task: &str,
    model: Option<&str>,
    attempt: u32,
) -> tracing::Span {
    let model = model.unwrap_or("");
    // The fields both spans have, then each one's own: tracing fixes a span's fields when it
    // is made, under a literal name.
    macro_rules! span {
        ($name:literal $(, $own:ident)*) => {
            tracing::info_span!(
                $name,
                api,
                task,
                model,
                attempt,
                span_id = tracing::field::Empty,
                trace_uuid = tracing::field::Empty,
                cache = tracing::field::Empty,
                attempts = tracing::field::Empty,
                outcome = tracing::field::Empty,
                latency_ms = tracing::field::Empty,
                $($own = tracing::field::Empty,)*
            )
        };
    }
    match kind {
        Kind::Stream => span!("opper.stream", chunks),
        Kind::Call => span!("opper.call", input_tokens, output_tokens, total_tokens),
    }
}

/// Records how a call or stream ended, and logs a failure.
pub(crate) fn record_outcome(span: &tracing::Span, started: Instant, error: Option<&Error>) {
    span.record("latency_ms", millis_since(started));
    match error {
        None => {
            span.record("outcome", "ok");
        }
        Some(error) => {
            span.record("outcome", "error");
            // As an error, so a subscriber shows its sources too (the API's answer to a status).
            tracing::warn!(parent: span, error = error as &(dyn std::error::Error + 'static), "opper call failed");
        }
    }
}

/// Records an answered call's span id and token usage (this attempt's own).
pub(crate) fn record_response<T>(span: &tracing::Span, response: &Response<T>) {
    if let Some(span_id) = &response.span_id {
        span.record("span_id", span_id.as_str());
    }
    if let Some(trace_uuid) = &response.trace_uuid {
        span.record("trace_uuid", trace_uuid.as_str());
    }
    if let Some(usage) = &response.usage {
        span.record("input_tokens", usage.input_tokens);
        span.record("output_tokens", usage.output_tokens);
        span.record("total_tokens", usage.total_tokens);
    }
}

/// Records that a call's output was accepted, and logs it.
pub(crate) fn record_accepted(span: &tracing::Span, started: Instant) {
    record_outcome(span, started, None);
    tracing::info!(parent: span, "opper call succeeded");
}

/// Records that a call's output was rejected (the call will be asked again).
pub(crate) fn record_rejected(span: &tracing::Span, started: Instant) {
    span.record("latency_ms", millis_since(started));
    span.record("outcome", "rejected");
}

/// Logs a rejected output at `warn` on its attempt's span: the attempt, the re-asks left and the
/// reason (cut, its control characters escaped: it may quote the output); never the output or
/// the input.
pub(crate) fn log_rejection(span: &tracing::Span, attempt: u32, reasks_left: u32, reason: &str) {
    let reason = crate::error::escape(crate::error::truncate(reason, Rejection::MAX_REASON_BYTES));
    tracing::warn!(
        parent: span,
        attempt,
        reasks_left,
        reason = %reason,
        "opper output rejected"
    );
}

/// Milliseconds since `started`, saturating (a span would need 584 million years to overflow).
fn millis_since(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
