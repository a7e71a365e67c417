#![doc = include_str!("../../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod error;
mod function;
pub mod partial;
mod request;
mod response;
pub mod sse;
mod stream;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

#[doc(hidden)]
pub mod __private;
#[doc(hidden)]
pub mod __fuzz {
    //! Fuzzing entry points; not a public API.
    pub use crate::fuzz::{assemble, json_path, sse};
}
mod fuzz;

pub use client::{Opper, OpperBuilder, RetryPolicy};
pub use error::{ApiError, Error, Result, TransportError};
pub use function::{WithParentSpan, current_parent_span, with_parent_span};
pub use partial::Partial;
pub use request::{CallBuilder, Configuration, Example, Model, Task};
pub use response::{Cost, Response, Usage};
pub use sse::{ChunkType, StreamingChunk};
pub use stream::{ChunkStream, Stream, Update};

/// Turns a bodiless `async fn` signature into a typed call of an Opper task.
///
/// See the [crate documentation](crate) for the full tour.
#[doc(inline)]
pub use opper_macros::function;

/// Derives [`Partial`](trait@Partial): the partial form of an output type, filled chunk by chunk
/// while a [`Stream`] runs.
#[doc(inline)]
pub use opper_macros::Partial;
