//! The wire of the Opper API, one module per version: every field name of a request body, an
//! answer, a stream chunk or an error body lives here and nowhere else. Above this layer the
//! client, the stream, the cache and the re-asks handle the crate's own types.

pub(crate) mod v2;
