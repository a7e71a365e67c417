//! The client: the [`Opper`] handle (`handle`) on its configuration, checked when built
//! (`builder`, with the URL policy of `url`), and its HTTP transport with retries (`transport`,
//! `retry`); spans in Opper created and ended through it (`spans`); the process-wide default
//! client (`default`).

// The parts of the client, leaves first.
pub(crate) mod url;
pub(crate) mod retry;
pub(crate) mod transport;
pub(crate) mod handle;
pub(crate) mod spans;
pub(crate) mod builder;
pub(crate) mod default;

pub use builder::OpperBuilder;
pub use handle::Opper;
