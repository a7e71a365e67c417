//! Reading a stream: a body read under the stream's two clocks (`timeouts`) into SSE events
//! (`sse`, `body`) becomes the
//! raw chunks of a [`ChunkStream`] (`chunks`: recorded for the cache or replayed from it; each
//! a [`Chunk`], `raw`), which
//! the typed [`Stream`] reassembles into partial updates and the output (`typed`).

// `sse`'s `pub` items are for the fuzz targets (`__fuzz`).
#[allow(unreachable_pub)]
pub(crate) mod sse;
pub(crate) mod timeouts;
pub(crate) mod body;
pub(crate) mod raw;
pub(crate) mod chunks;
pub(crate) mod typed;

pub use chunks::ChunkStream;
pub use raw::Chunk;
pub use typed::{Stream, Update};
