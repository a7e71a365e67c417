//! A call's tracing: its span, and what is recorded on it when the call (or stream) ends.

// Logging once per name, then the parent-span scope, below the spans that read it.
pub(crate) mod once;
pub(crate) mod parent;

use std::time::Instant;

use crate::error::Error;
use crate::error::Rejection;
use crate::response::Response;

/// What a span traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A call (`POST /v2/call`, `/v3/functions/{name}/call`).
    Call,
    /// A stream (`POST /v2/call/stream`, `/v3/functions/{name}/stream`).
    Stream,
}

/// The OpenTelemetry GenAI operation of a call or stream: Opper runs a task as a chat with its
/// model, so `chat` (the semantic conventions' value for a chat completion).
const OPERATION: &str = "chat";
/// The OpenTelemetry GenAI provider: the service the client speaks to.
const PROVIDER: &str = "opper";

/// The span of one attempt of a call: `opper.call` or `opper.stream`.
///
/// Its fields carry the OpenTelemetry GenAI semantic conventions' names where one exists, so
/// that an exporter (`tracing-opentelemetry`) shows what its users expect: `otel.name`
/// (`chat {model}`, the conventions' span name), `otel.kind` (`client`),
/// `gen_ai.operation.name` (`chat`), `gen_ai.provider.name` (`opper`),
/// `gen_ai.request.model` (the first model's name), and as the call goes
/// `gen_ai.response.id` (v2's span id, else v3's trace uuid), `gen_ai.usage.input_tokens`,
/// `gen_ai.usage.output_tokens` and `error.type` (the HTTP status, `timeout`, `connect` or
/// `_OTHER`). The crate's own fields, where the conventions have none: the API version
/// (`api`: `v2` or `v3`), the task, the attempt's number (1, then 2 for the first re-ask,
/// ...), `span_id`, `trace_uuid`, `cache` (`"hit"` or `"miss"`, when the client has a cache),
/// `attempts`, `outcome`, `latency_ms`, `total_tokens`, and a stream's `chunks`.
pub(crate) fn call_span(
    api: &'static str,
    kind: Kind,
    task: &str,
    model: Option<&str>,
    attempt: u32,
) -> tracing::Span {
    let otel_name = match model {
        Some(model) => format!("{OPERATION} {model}"),
        None => OPERATION.to_owned(),
    };
    let model = model.unwrap_or("");
    // The fields both spans have, then each one's own: tracing fixes a span's fields when it
    // is made, under a literal name.
    macro_rules! span {
        ($name:literal $(, $own:ident)*) => {
            tracing::info_span!(
                $name,
                otel.name = %otel_name,
                otel.kind = "client",
                gen_ai.operation.name = OPERATION,
                gen_ai.provider.name = PROVIDER,
                gen_ai.request.model = model,
                api,
                task,
                attempt,
                gen_ai.response.id = tracing::field::Empty,
                span_id = tracing::field::Empty,
                trace_uuid = tracing::field::Empty,
                cache = tracing::field::Empty,
                attempts = tracing::field::Empty,
                outcome = tracing::field::Empty,
                error.r#type = tracing::field::Empty,
                latency_ms = tracing::field::Empty,
                gen_ai.usage.input_tokens = tracing::field::Empty,
                gen_ai.usage.output_tokens = tracing::field::Empty,
                $($own = tracing::field::Empty,)*
            )
        };
    }
    match kind {
        Kind::Stream => span!("opper.stream", chunks),
        Kind::Call => span!("opper.call", total_tokens),
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
            match error.status() {
                // A string, as the conventions type `error.type`.
                Some(status) => span.record("error.type", status.to_string().as_str()),
                None if error.is_timeout() => span.record("error.type", "timeout"),
                None if matches!(error, Error::Transport(t) if t.is_connect()) => {
                    span.record("error.type", "connect")
                }
                None => span.record("error.type", "_OTHER"),
            };
            // As an error, so a subscriber shows its sources too (the API's answer to a status).
            tracing::warn!(parent: span, error = error as &(dyn std::error::Error + 'static), "opper call failed");
        }
    }
}

/// Records an answered call's span id and token usage (this attempt's own).
pub(crate) fn record_response<T>(span: &tracing::Span, response: &Response<T>) {
    if let Some(trace_uuid) = &response.trace_uuid {
        record_trace_uuid(span, trace_uuid);
    }
    if let Some(span_id) = &response.span_id {
        record_span_id(span, span_id);
    }
    if let Some(usage) = &response.usage {
        span.record("gen_ai.usage.input_tokens", usage.input_tokens);
        span.record("gen_ai.usage.output_tokens", usage.output_tokens);
        span.record("total_tokens", usage.total_tokens);
    }
}

/// Records a call's or stream's span id (v2), which is also its `gen_ai.response.id`.
pub(crate) fn record_span_id(span: &tracing::Span, span_id: &str) {
    span.record("span_id", span_id);
    span.record("gen_ai.response.id", span_id);
}

/// Records a call's or stream's trace uuid (v3), its `gen_ai.response.id` unless a span id
/// is recorded after it.
pub(crate) fn record_trace_uuid(span: &tracing::Span, trace_uuid: &str) {
    span.record("trace_uuid", trace_uuid);
    span.record("gen_ai.response.id", trace_uuid);
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
