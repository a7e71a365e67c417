//! Reading a stream, one stage a file: a body read under the stream's two clocks (`timeouts`)
//! into SSE events (`sse`, `body`), recorded for the cache (`record`) or replayed from it
//! (`replay`), decoded into frames (`frames`), becomes the raw chunks of a [`ChunkStream`]
//! (`chunks`, those stages composed; each a [`Chunk`], `raw`); its frames become partial
//! [`Update`]s and the output (`updates`, v3's JSON text read by the pump in `text`), asked
//! again while a validator rejects it (`again`): the typed [`Stream`] composes them (`typed`).

// `sse`'s `pub` items are for the fuzz targets (`__fuzz`).
#[allow(unreachable_pub)]
pub(crate) mod sse;
pub(crate) mod timeouts;
pub(crate) mod body;
pub(crate) mod record;
pub(crate) mod replay;
pub(crate) mod frames;
pub(crate) mod raw;
pub(crate) mod chunks;
pub(crate) mod text;
pub(crate) mod updates;
pub(crate) mod again;
pub(crate) mod typed;

pub use chunks::ChunkStream;
pub use raw::Chunk;
pub use typed::Stream;
pub use updates::Update;
