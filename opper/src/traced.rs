//! Traces: a block of work as one span in Opper ([`trace`], [`Trace`]), the calls inside
//! nested under it, on clients of either API version.

use std::fmt;
use std::future::Future;

use serde::Serialize;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::client::Opper;
use crate::client::default::given_or_default;
use crate::client::spans::{OpenSpan, log_untraced};
use crate::protocol::spans::{SpanEnd, SpanStart};
use crate::trace::parent::{self, SpanHandle};

/// Runs `future` as a span named `name` in Opper, with the default client: the calls and
/// streams made inside are nested under it (they send its id as `parent_span_id`), on v2 and
/// v3 clients alike. The same as `Trace::new(name).run(future)`; [`Trace`] has the options.
///
/// ```no_run
/// # async fn pick_city(text: &str) -> opper::Result<String> { Ok(text.into()) }
/// # async fn plan_day(city: String) -> opper::Result<String> { Ok(city) }
/// # async fn run(text: &str) -> opper::Result<()> {
/// // One trace in Opper's dashboard, named "plan-trip", with both calls under it.
/// let plan = opper::trace("plan-trip", async {
///     let city = pick_city(text).await?;
///     plan_day(city).await
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub fn trace<F>(name: impl Into<String>, future: F) -> impl Future<Output = F::Output>
where
    F: Future,
    F::Output: TraceOutput,
{
    Trace::new(name).run(future)
}

/// A trace with options: its input, tags, metadata and client; [`run`](Trace::run) runs a
/// future inside it.
///
/// ```no_run
/// # #[derive(serde::Serialize)] struct Request { city: String }
/// # async fn plan_day(city: &str) -> opper::Result<String> { Ok(city.into()) }
/// # async fn run(opper: opper::Opper, request: Request) -> opper::Result<()> {
/// let plan = opper::Trace::new("plan-trip")
///     .input(&request) // any Serialize: a string as it is, anything else as its JSON text
///     .tags([("user", "u_123")])
///     .meta(serde_json::json!({"release": "1.4"}))
///     .client(&opper) // default: the default client
///     .run(async { plan_day(&request.city).await })
///     .await?;
/// # Ok(()) }
/// ```
///
/// # What is sent
/// At the start, `POST /v3/spans` with the name, the input, the start time, the metadata and
/// the tags; inside another trace (or a [`with_parent_span`](crate::with_parent_span) scope),
/// its span as `parent_id` (and its `trace_id`). At the end, before `run` returns,
/// `PATCH /v3/spans/{id}` with the end time, and the `Display` of the error when the future's
/// output is an `Err` ([`TraceOutput`]). The spans endpoint is v3's, whatever
/// [`Api`](crate::Api) the client's calls speak; both requests are sent once, within the
/// client's timeouts. The output is returned as it is.
///
/// # Nesting and concurrency
/// Inside, [`current_span`](crate::current_span) is this trace's span, and calls and streams
/// send its id as `parent_span_id` unless a [`with_parent_span`](crate::with_parent_span)
/// scope inside, or the call itself, names another. When a nested trace ends, the enclosing
/// one is current again. The scope belongs to the future: traces running side by side
/// (`join!`, `select!`) never see each other's spans, and a task you spawn inside is outside
/// it unless its future is wrapped in `opper::with_parent_span(&span, fut)` with the
/// [`current_span`](crate::current_span) (nothing is spawned by the trace itself).
///
/// # A trace never breaks the work
/// When the span cannot be created (an error status, a timeout, an answer without its ids, no
/// default client), the future runs untraced: its calls keep the enclosing scope's parent, if
/// any, and nothing is sent at the end. That is logged at `warn`, once per trace name. A
/// failed end is logged at `warn` too; neither changes the output. A client that only replays
/// a cache ([`Cache::replay_only`](crate::Cache::replay_only)) sends no span at all.
///
/// # Dropped or timed out
/// A trace future dropped before it ends (a `select!` that took another branch, a
/// `tokio::time::timeout` that passed) sends nothing more: no task carries on its requests.
/// A request in flight is abandoned with it, and a span already created stays open in Opper,
/// without an end time.
#[derive(Debug, Clone)]
#[must_use = "a trace does nothing until `run` is awaited"]
pub struct Trace {
    name: String,
    input: Option<String>,
    meta: Option<Value>,
    tags: Option<Map<String, Value>>,
    client: Option<Opper>,
}

impl Trace {
    /// A trace named `name`, with the default client.
    pub fn new(name: impl Into<String>) -> Self {
        Trace {
            name: name.into(),
            input: None,
            meta: None,
            tags: None,
            client: None,
        }
    }

    /// The span's input, sent as text: a string as it is, anything else as its JSON text. A
    /// value that does not serialize is logged and left out.
    pub fn input<I: Serialize + ?Sized>(mut self, input: &I) -> Self {
        self.input = match text(input) {
            Ok(text) => Some(text),
            Err(error) => {
                self.log_unsent("input", &error);
                None
            }
        };
        self
    }

    /// Tags of the span (added to those set before), such as `[("user", "u_123")]`; values are
    /// any JSON (`true`, numbers, text).
    pub fn tags<K, V>(mut self, tags: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<Value>,
    {
        let all = self.tags.get_or_insert_with(Map::new);
        all.extend(tags.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Metadata of the span: a JSON object (any `Serialize`). A value that does not serialize
    /// is logged and left out.
    pub fn meta(mut self, meta: impl Serialize) -> Self {
        self.meta = match serde_json::to_value(meta) {
            Ok(meta) => Some(meta),
            Err(error) => {
                self.log_unsent("meta", &error);
                None
            }
        };
        self
    }

    /// The client that sends the span (default: the default client, as
    /// `#[opper::function]`s use). The calls inside use their own clients; any of them is
    /// nested under the span.
    pub fn client(mut self, client: &Opper) -> Self {
        self.client = Some(client.clone());
        self
    }

    /// Runs `future` inside the trace and returns its output unchanged; see [`Trace`] for
    /// what is sent, and what happens when that fails.
    pub async fn run<F>(self, future: F) -> F::Output
    where
        F: Future,
        F::Output: TraceOutput,
    {
        let span = tracing::info_span!(
            "opper.trace",
            otel.name = %self.name,
            span_id = tracing::field::Empty,
            trace_id = tracing::field::Empty,
        );
        let client = match given_or_default(self.client.as_ref()) {
            Ok(client) => client,
            Err(error) => {
                span.in_scope(|| log_untraced(&self.name, &error));
                return future.instrument(span).await;
            }
        };
        let start = SpanStart {
            input: self.input,
            meta: self.meta,
            tags: self.tags,
            ..SpanStart::in_scope(self.name)
        };
        let Some(open) = OpenSpan::start(&client, &start)
            .instrument(span.clone())
            .await
        else {
            return future.instrument(span).await;
        };
        let handle = open.handle().clone();
        span.record("span_id", handle.id());
        span.record("trace_id", handle.trace_id());
        let output = parent::in_span(handle, future)
            .instrument(span.clone())
            .await;
        open.end(&SpanEnd::now(output.trace_error()))
            .instrument(span)
            .await;
        output
    }

    fn log_unsent(&self, what: &str, error: &serde_json::Error) {
        tracing::warn!(
            trace = %self.name,
            error = %error,
            "opper trace: the {what} does not serialize; it is not sent"
        );
    }
}

/// A value as a span's text: a string as it is, anything else its JSON text (a trace's input,
/// an agent's message).
pub(crate) fn text<I: Serialize + ?Sized>(value: &I) -> serde_json::Result<String> {
    Ok(match serde_json::to_value(value)? {
        Value::String(text) => text,
        other => other.to_string(),
    })
}

/// What a traced future may return: whether it failed, and why, for the span's `error`.
///
/// A `Result<T, E>` with `E: Display` failed when it is an `Err`; the span's error is the
/// error's `Display`. Other outputs (`()`, `Option<T>`, numbers, strings, `Vec<T>`, tuples,
/// [`Response`](crate::Response), [`SpanHandle`], JSON values, ...) never fail. For a type of
/// your own, `impl opper::TraceOutput for MyType {}` says it never fails, or write
/// [`trace_error`](TraceOutput::trace_error) (Rust has no way to ask "is this a `Result`?" of
/// any type, so the trait says it).
///
/// ```
/// struct Verdict { ok: bool }
///
/// impl opper::TraceOutput for Verdict {
///     fn trace_error(&self) -> Option<String> {
///         (!self.ok).then(|| "rejected".to_owned())
///     }
/// }
/// # let _ = opper::trace("check", async { Verdict { ok: true } });
/// ```
#[diagnostic::on_unimplemented(
    message = "a trace cannot tell whether `{Self}` is a failure",
    label = "the traced future's output",
    note = "return a `Result<_, E: Display>`, or say that `{Self}` never fails: `impl opper::TraceOutput for {Self} {{}}`"
)]
pub trait TraceOutput {
    /// The span's error, if the output is a failure (default: never).
    fn trace_error(&self) -> Option<String> {
        None
    }
}

impl<T, E: fmt::Display> TraceOutput for Result<T, E> {
    fn trace_error(&self) -> Option<String> {
        self.as_ref().err().map(ToString::to_string)
    }
}

macro_rules! never_fails {
    ($($ty:ty),* $(,)?) => {
        $(impl TraceOutput for $ty {})*
    };
}

never_fails!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    &str,
    Value,
);

impl<T> TraceOutput for Option<T> {}
impl<T> TraceOutput for Vec<T> {}
impl<T> TraceOutput for crate::response::Response<T> {}
impl TraceOutput for SpanHandle {}

macro_rules! tuples_never_fail {
    ($(($($t:ident),+)),* $(,)?) => {
        $(impl<$($t),+> TraceOutput for ($($t,)+) {})*
    };
}

tuples_never_fail!((A), (A, B), (A, B, C), (A, B, C, D));
impl<T: TraceOutput + ?Sized> TraceOutput for Box<T> {
    fn trace_error(&self) -> Option<String> {
        (**self).trace_error()
    }
}
