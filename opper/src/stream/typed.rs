//! The typed [`Stream`]: the stages composed. An attempt's chunks ([`ChunkStream`]) are made
//! into updates (`updates`, v3's text through `text`), and, while a validator rejects the
//! output, asked again (`again`).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream as FuturesStream;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;
use crate::error::Result;
use crate::partial::Partial;
use crate::stream::again::Again;
use crate::stream::chunks::ChunkStream;
use crate::stream::updates::{Assembly, Update};

/// Puts what a stream had assembled into an error that ended it.
fn with_partial(mut error: Error, so_far: Value) -> Error {
    match &mut error {
        Error::StreamChunk { partial, .. }
        | Error::InvalidChunk { partial, .. }
        | Error::EventTooLarge { partial, .. }
        | Error::Incomplete { partial, .. } => *partial = so_far,
        _ => {}
    }
    error
}

/// A streamed call: typed partial [`Update`]s as chunks arrive, then the final output.
///
/// On [`Api::V3`](crate::Api::V3) the stream carries the model's JSON text; it is read as it
/// arrives into the same updates as v2's chunks (paths in v2's form, the same rules of what a
/// partial shows). The text is not a contract: a model may write a sentence before the JSON,
/// JSON that does not fit the output type, or a key twice; the updates then stop (the stream
/// goes on), and the final output is always the `complete` event's `data`, read straight into
/// `T`. Text after `complete` is not read, and the last update shows the final output (see
/// [`Update::partial`]). A text task's updates carry the
/// text with an empty `json_path`. A v3 stream that ends without `complete` is cut
/// ([`Error::Incomplete`], with what had arrived).
///
/// Returned by `#[opper::function]`s declared `-> opper::Result<opper::Stream<T>>` and by
/// [`CallBuilder::stream`](crate::CallBuilder::stream).
///
/// What a stream builds is bounded by what the server sent: a chunk deeper than
/// [`partial::MAX_DEPTH`](crate::partial::MAX_DEPTH), or one creating more array items than
/// the stream has paid for ([`partial::FREE_ITEMS`](crate::partial::FREE_ITEMS) plus one per
/// byte of `json_path`), ends it with [`Error::InvalidChunk`]. The whole body of a stream is
/// bounded like a call's, by
/// [`OpperBuilder::max_response_bytes`](crate::OpperBuilder::max_response_bytes): past it,
/// the stream ends with [`Error::ResponseTooLarge`] (which keeps no partial).
///
/// ```no_run
/// # #[derive(serde::Deserialize, schemars::JsonSchema, opper::Partial, Debug)]
/// # struct Team { summary: String }
/// # async fn run(mut stream: opper::Stream<Team>) -> opper::Result<()> {
/// use futures::StreamExt;
///
/// while let Some(update) = stream.next().await {
///     let update = update?;
///     println!("{} <- {}", update.json_path, update.delta);
/// }
/// let team: Team = stream.finish().await?;
/// # Ok(()) }
/// ```
pub struct Stream<T> {
    /// The current attempt's chunks.
    chunks: ChunkStream,
    /// The current attempt's frames made into updates.
    assembly: Assembly<T>,
    /// Why the stream failed, once it did.
    failure: Option<String>,
    /// Set when the output is validated or re-asked: the stream then judges the output when
    /// its chunks end, and opens the re-ask itself.
    again: Option<Box<Again<T>>>,
}

impl<T> Unpin for Stream<T> {}

impl<T> std::fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("chunks", &self.chunks)
            .field("failure", &self.failure)
            .field("attempt", &self.assembly.attempt())
            .finish_non_exhaustive()
    }
}

impl<T: Partial + DeserializeOwned + 'static> Stream<T> {
    pub(crate) fn new(
        chunks: ChunkStream,
        schema: Option<Arc<Value>>,
        again: Option<Again<T>>,
    ) -> Self {
        Self {
            chunks,
            assembly: Assembly::new(schema),
            failure: None,
            again: again.map(Box::new),
        }
    }

    /// The call's span, once the service has sent it (normally from the start).
    pub fn span_id(&self) -> Option<&str> {
        self.chunks.span_id()
    }

    /// Whether this crate's [`Cache`](crate::Cache) answered the stream, from disk and without
    /// a request: known once the stream is open. Of a re-asked stream, the current attempt's.
    pub fn cache_hit(&self) -> bool {
        self.chunks.cache_hit()
    }

    /// The partial output so far, typed (the same as the last [`Update::partial`]).
    ///
    /// It stays readable after the stream failed: when `next()`
    /// gives an error (a cut connection, an error chunk, a timeout), `partial()` is what had
    /// arrived, the value whose JSON the error keeps ([`Error::partial`]), so a program can use
    /// the part it got. [`finish`](Self::finish) consumes the stream: to keep the typed
    /// partial of a failure, read the updates with `next()`.
    ///
    /// ```no_run
    /// # #[derive(serde::Deserialize, schemars::JsonSchema, opper::Partial, Debug)]
    /// # struct Team { summary: String }
    /// # async fn run(mut stream: opper::Stream<Team>) -> opper::Result<()> {
    /// use futures::StreamExt;
    ///
    /// while let Some(update) = stream.next().await {
    ///     if let Err(error) = update {
    ///         let so_far: std::sync::Arc<PartialTeam> = stream.partial();
    ///         eprintln!("{error}; the summary so far: {:?}", so_far.summary);
    ///         return Err(error);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn partial(&mut self) -> Arc<T::Partial> {
        self.assembly.partial()
    }

    /// Reads what is left of the stream and returns the final output.
    ///
    /// Arrays, maps and options the service sent nothing for are completed from the schema.
    /// Fails, keeping what had arrived as JSON ([`Error::partial`]), if the stream failed or
    /// closed before a valid `T`; for the typed partial of a failure, read with `next()` and
    /// call [`partial`](Self::partial) (`opper::Error` is one type for every output, so it
    /// holds the partial as JSON, not typed).
    pub async fn finish(mut self) -> Result<T> {
        while let Some(update) = std::future::poll_fn(|cx| Pin::new(&mut self).poll_next(cx)).await
        {
            update?;
        }
        if let Some(reason) = self.failure.take() {
            return Err(Error::Incomplete {
                reason: format!("the stream had already failed: {reason}"),
                source: None,
                partial: self.assembly.so_far(),
            });
        }
        if let Some(accepted) = self.again.as_mut().and_then(|again| again.accepted()) {
            return Ok(accepted);
        }
        self.assembly.output()
    }

    /// The chunks ended: judges the output. `None`: accepted (kept for `finish`); an error: the
    /// final rejection; else a re-ask is being opened.
    fn judge(&mut self) -> Option<Result<()>> {
        let again = self.again.as_mut()?;
        let (output, json) = self.assembly.restart().judged();
        match again.judge(output, json, &mut self.chunks) {
            Ok(None) => None,
            Ok(Some(attempt)) => {
                self.assembly.set_attempt(attempt);
                Some(Ok(()))
            }
            Err(error) => Some(Err(error)),
        }
    }

    fn fail(&mut self, error: Error) -> Error {
        let error = with_partial(error, self.assembly.so_far());
        self.failure = Some(error.to_string());
        error
    }
}

impl<T: Partial + DeserializeOwned + 'static> FuturesStream for Stream<T> {
    type Item = Result<Update<T>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let failed = this.failure.is_some();
            if let Some(again) = this.again.as_mut() {
                if again.is_over(failed) {
                    // An accepted answer's cache entry is written before the end is seen.
                    return this.chunks.poll_written(cx).map(|()| None);
                }
                match again.poll_open(&mut this.chunks, cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(error)) => return Poll::Ready(Some(Err(this.fail(error)))),
                    Poll::Ready(Ok(())) => {}
                }
            }
            if let Some(update) = this.assembly.next_text(this.chunks.tracing_span()) {
                return Poll::Ready(Some(Ok(update)));
            }
            let frame = match this.chunks.poll_step(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => match this.judge() {
                    None => return this.chunks.poll_written(cx).map(|()| None),
                    Some(Ok(())) => continue,
                    Some(Err(error)) => return Poll::Ready(Some(Err(this.fail(error)))),
                },
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(this.fail(error)))),
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            match this.assembly.frame(frame, this.chunks.tracing_span()) {
                Ok(Some(update)) => return Poll::Ready(Some(Ok(update))),
                Ok(None) => {}
                Err(error) => {
                    this.chunks.end(Some(&error));
                    return Poll::Ready(Some(Err(this.fail(error))));
                }
            }
        }
    }
}
