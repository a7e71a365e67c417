//! Which version of the Opper API a client speaks: below the error type, which names it
//! ([`Error::Unsupported`](crate::Error::Unsupported)); what each version sends and answers is
//! `protocol`'s.

/// Which version of the Opper API a client speaks.
///
/// v2 (`/v2/call`, `/v2/call/stream`) is the default. v3 (`/v3/functions/{name}/call` and
/// `/stream`, the "Task API") is one builder call, [`OpperBuilder::api`](crate::OpperBuilder::api),
/// or one environment variable, `OPPER_API_VERSION=v3`, away. The same tasks, [`CallBuilder`]s,
/// validators, re-asks, caches and typed [`Stream`]s work on both; what v3 lacks is said, not
/// faked:
///
/// - `tags` and `configuration` are not sent on v3 (logged at `warn`, once per task name);
/// - a task with `examples` is [`Error::Unsupported`] on v3, before any request (v3 keeps
///   examples on the function, server-side);
/// - [`Response::span_id`] is `None` (v3 has no span id) and [`Response::trace_uuid`] holds
///   v3's `meta.trace_uuid`; the rest of `meta` is [`Response::meta`];
/// - a v3 stream carries the model's JSON text, read as it arrives into the same
///   [`Update`](crate::Update)s as v2's `json_path` chunks; its `complete` event's data is the
///   final output.
///
/// ```
/// # fn run() -> opper::Result<()> {
/// let opper = opper::Opper::builder().api_key("op-...").api(opper::Api::V3).build()?;
/// assert_eq!(opper.api(), opper::Api::V3);
/// assert_eq!("v3".parse::<opper::Api>()?, opper::Api::V3);
/// # Ok(()) }
/// # run().unwrap();
/// ```
///
/// [`CallBuilder`]: crate::CallBuilder
/// [`Error::Unsupported`]: crate::Error::Unsupported
/// [`Response::span_id`]: crate::Response::span_id
/// [`Response::trace_uuid`]: crate::Response::trace_uuid
/// [`Response::meta`]: crate::Response::meta
/// [`Stream`]: crate::Stream
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Api {
    /// Opper API v2: `/v2/call`, chunks with a `json_path`.
    #[default]
    V2,
    /// Opper API v3: `/v3/functions/{name}/call`, the model's text in `content` deltas.
    V3,
}

impl std::fmt::Display for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl Api {
    /// `v2` or `v3`.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Api::V2 => "v2",
            Api::V3 => "v3",
        }
    }
}
