//! Streams: the raw chunks of `/v2/call/stream`, and the typed [`Stream`] built on them.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_core::Stream as FuturesStream;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::cache::{Store, StreamAnswer};
use crate::error::{TransportError, truncate};
use crate::partial::{Assembler, Partial};
use crate::sse::{DecodeError, Decoder, Event, EventQueue};
use crate::trace::record_outcome;
use crate::wire::StreamingChunk;
use crate::{Error, Result};

type Body = Pin<Box<dyn FuturesStream<Item = reqwest::Result<Bytes>> + Send>>;

/// The raw chunks of a `/v2/call/stream` response, in order.
///
/// Yields every [`StreamingChunk`] (the first often carries only the `span_id`). An `error`
/// chunk, an event that is not JSON, an oversized event or a broken connection ends it with an
/// [`Error`]. Dropping it closes the connection.
pub struct ChunkStream {
    body: Option<Body>,
    /// A cached stream's chunks, served instead of a body.
    replay: Option<std::vec::IntoIter<StreamingChunk>>,
    /// The chunks so far of a stream the cache is to store once it ends cleanly.
    recording: Option<Recording>,
    decoder: Decoder,
    queue: EventQueue,
    span_id: Option<String>,
    chunks: u64,
    finished: bool,
    /// A failure met while reading, handed out after the events decoded before it.
    pending: Option<Error>,
    span: tracing::Span,
    started: Instant,
}

impl std::fmt::Debug for ChunkStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkStream")
            .field("span_id", &self.span_id)
            .field("chunks", &self.chunks)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

/// A stream's chunks so far, and where to store them once it ends cleanly.
#[derive(Debug)]
struct Recording {
    store: Store<StreamAnswer>,
    chunks: Vec<StreamingChunk>,
    /// Whether the consumer commits (see [`ChunkStream::hold_recording`]).
    held: bool,
    /// Whether the stream ended cleanly.
    ended: bool,
}

enum Next {
    Chunk(StreamingChunk),
    End,
}

impl ChunkStream {
    pub(crate) fn new(
        response: reqwest::Response,
        max_event_bytes: usize,
        span: tracing::Span,
    ) -> Self {
        Self {
            body: Some(Box::pin(response.bytes_stream())),
            replay: None,
            recording: None,
            decoder: Decoder::with_limit(max_event_bytes),
            queue: EventQueue::new(),
            span_id: None,
            chunks: 0,
            finished: false,
            pending: None,
            span,
            started: Instant::now(),
        }
    }

    /// A stream that serves cached chunks as the live one served them: the span id known from
    /// the start when the first chunk carries it (as [`prefetch`](Self::prefetch) makes it),
    /// else from the chunk that brings it.
    pub(crate) fn replay(chunks: Vec<StreamingChunk>, span: tracing::Span) -> Self {
        let mut stream = Self {
            body: None,
            replay: None,
            recording: None,
            decoder: Decoder::new(),
            queue: EventQueue::new(),
            span_id: None,
            chunks: 0,
            finished: false,
            pending: None,
            span,
            started: Instant::now(),
        };
        if let Some(first) = chunks.first() {
            stream.note_span_id(first);
        }
        stream.replay = Some(chunks.into_iter());
        stream
    }

    /// Takes the call's span id from the first chunk that has one.
    fn note_span_id(&mut self, chunk: &StreamingChunk) {
        if self.span_id.is_none() {
            if let Some(id) = &chunk.span_id {
                self.span.record("span_id", id.as_str());
                self.span_id = Some(id.clone());
            }
        }
    }

    /// Records every chunk from now on, for `store` to keep once the stream ends cleanly.
    pub(crate) fn record_into(&mut self, store: Store<StreamAnswer>) {
        self.recording = Some(Recording {
            store,
            chunks: Vec::new(),
            held: false,
            ended: false,
        });
    }

    /// Keeps the recording past the stream's clean end, until [`commit_recording`]: for a
    /// consumer that judges the output first (a validator stores only the accepted one).
    ///
    /// [`commit_recording`]: Self::commit_recording
    #[allow(dead_code)]
    pub(crate) fn hold_recording(&mut self) {
        if let Some(recording) = &mut self.recording {
            recording.held = true;
        }
    }

    /// Stores a held recording, if the stream ended cleanly.
    #[allow(dead_code)]
    pub(crate) fn commit_recording(&mut self) {
        if self.recording.as_ref().is_some_and(|r| r.ended) {
            if let Some(recording) = self.recording.take() {
                recording.store.stream(&recording.chunks);
            }
        }
    }

    /// The call's span, once the service has sent it.
    pub fn span_id(&self) -> Option<&str> {
        self.span_id.as_deref()
    }

    /// Reads until at least one event is decoded, without handing it out. A failure before
    /// any event is returned (so the request may be retried): a stream that closes or breaks
    /// before its first event is a transport failure.
    pub(crate) async fn prefetch(&mut self) -> Result<()> {
        std::future::poll_fn(|cx| {
            while self.queue.is_empty() && self.pending.is_none() {
                match self.poll_bytes(cx) {
                    Poll::Ready(Ok(true)) => {}
                    Poll::Ready(Ok(false)) => {
                        return Poll::Ready(Err(Error::Transport(TransportError::closed(
                            "the stream closed before its first event",
                        ))));
                    }
                    Poll::Ready(Err(error)) => self.pending = Some(error),
                    Poll::Pending => return Poll::Pending,
                }
            }
            if !self.queue.is_empty() {
                return Poll::Ready(Ok(()));
            }
            Poll::Ready(Err(match self.pending.take() {
                Some(Error::Incomplete {
                    source: Some(source),
                    ..
                }) if source.is_timeout() => Error::Timeout(source),
                Some(Error::Incomplete {
                    source: Some(source),
                    ..
                }) => Error::Transport(source),
                Some(other) => other,
                None => unreachable!("the loop ends with an event or a failure"),
            }))
        })
        .await?;
        // Take the span id of a leading span-only chunk now, so `span_id()` works at once.
        if let Some(event) = self.queue.front() {
            if let Ok(chunk) = serde_json::from_str::<StreamingChunk>(&event.data) {
                self.note_span_id(&chunk);
            }
        }
        Ok(())
    }

    /// Reads one piece of the body into the decoder. `Ok(true)`: more may come; `Ok(false)`: the
    /// body ended.
    fn poll_bytes(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool>> {
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(Ok(false));
        };
        match body.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(bytes))) => {
                match self.decoder.feed(&bytes, &mut self.queue) {
                    Ok(()) => Poll::Ready(Ok(true)),
                    Err(error) => {
                        // Stop reading: what is decoded so far stays queued.
                        self.body = None;
                        Poll::Ready(Err(decode_error(error)))
                    }
                }
            }
            Poll::Ready(Some(Err(error))) => {
                self.body = None;
                Poll::Ready(Err(Error::Incomplete {
                    reason: "the connection broke".into(),
                    source: Some(TransportError::from_reqwest(error)),
                    partial: Value::Null,
                }))
            }
            Poll::Ready(None) => {
                self.body = None;
                match self.decoder.finish() {
                    Ok(last) => {
                        self.queue.extend(last);
                        Poll::Ready(Ok(false))
                    }
                    // An unterminated last line that is not UTF-8 was cut inside a character.
                    Err(DecodeError::InvalidUtf8 { .. }) => Poll::Ready(Err(Error::Incomplete {
                        reason: "the stream was cut inside an event".into(),
                        source: None,
                        partial: Value::Null,
                    })),
                    Err(error) => Poll::Ready(Err(decode_error(error))),
                }
            }
        }
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Next>> {
        if let Some(replay) = &mut self.replay {
            let Some(chunk) = replay.next() else {
                return Poll::Ready(Ok(Next::End));
            };
            self.chunks += 1;
            self.note_span_id(&chunk);
            return Poll::Ready(Ok(Next::Chunk(chunk)));
        }
        loop {
            if let Some(event) = self.queue.pop_front() {
                match parse_event(event) {
                    Ok(Some(chunk)) => {
                        self.chunks += 1;
                        self.note_span_id(&chunk);
                        return Poll::Ready(Ok(Next::Chunk(chunk)));
                    }
                    Ok(None) => continue,
                    Err(error) => return Poll::Ready(Err(error)),
                }
            }
            if let Some(error) = self.pending.take() {
                return Poll::Ready(Err(error));
            }
            match self.poll_bytes(cx) {
                Poll::Ready(Ok(true)) => {}
                Poll::Ready(Ok(false)) if self.queue.is_empty() => {
                    return Poll::Ready(Ok(Next::End));
                }
                Poll::Ready(Ok(false)) => {}
                Poll::Ready(Err(error)) => self.pending = Some(error),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// The next chunk, `None` at the end; after an error, always `None`.
    fn poll_step(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<StreamingChunk>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        let step = match self.poll_chunk(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(step) => step,
        };
        match step {
            Ok(Next::Chunk(chunk)) => {
                if let Some(recording) = &mut self.recording {
                    recording.chunks.push(chunk.clone());
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Ok(Next::End) => {
                self.end(None);
                Poll::Ready(None)
            }
            Err(error) => {
                self.end(Some(&error));
                Poll::Ready(Some(Err(error)))
            }
        }
    }

    fn end(&mut self, error: Option<&Error>) {
        self.finished = true;
        self.body = None;
        self.replay = None;
        match (error, self.recording.take()) {
            (None, Some(recording)) if !recording.held => {
                recording.store.stream(&recording.chunks);
            }
            (None, Some(mut recording)) => {
                recording.ended = true;
                self.recording = Some(recording);
            }
            // A failed stream stores nothing; one dropped before its end never gets here.
            (Some(_), _) | (None, None) => {}
        }
        self.queue.clear();
        self.span.record("chunks", self.chunks);
        record_outcome(&self.span, self.started, error);
    }
}

impl FuturesStream for ChunkStream {
    type Item = Result<StreamingChunk>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_step(cx)
    }
}

fn decode_error(error: DecodeError) -> Error {
    match error {
        DecodeError::TooLarge { limit } => Error::EventTooLarge {
            limit,
            partial: Value::Null,
        },
        DecodeError::InvalidUtf8 { line } => Error::InvalidChunk {
            data: line,
            reason: "the event is not valid UTF-8".into(),
            partial: Value::Null,
        },
    }
}

/// An event's chunk; `Ok(None)` for events that carry nothing (empty data, keep-alives).
fn parse_event(event: Event) -> Result<Option<StreamingChunk>> {
    let data = event.data.trim();
    if data.is_empty() || data == "[DONE]" {
        return Ok(None);
    }
    match serde_json::from_str::<StreamingChunk>(data) {
        Ok(chunk) if chunk.is_error() => Err(Error::StreamChunk {
            error_type: chunk.error_type,
            error_message: chunk.error_message,
            partial: Value::Null,
        }),
        Ok(chunk) => Ok(Some(chunk)),
        Err(_) if event.at_eof => Err(Error::Incomplete {
            reason: "the stream was cut inside an event".into(),
            source: None,
            partial: Value::Null,
        }),
        Err(error) => Err(Error::InvalidChunk {
            data: truncate(data, 500).to_owned(),
            reason: format!("not a JSON chunk: {error}"),
            partial: Value::Null,
        }),
    }
}

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

/// What a [`Stream`] needs of its assembler, without naming `T::Partial` in the struct.
trait Reassemble<T> {
    fn push(&mut self, json_path: Option<&str>, delta: &Value) -> Result<Option<String>, String>;
    fn partial(&mut self) -> Arc<T::Partial>
    where
        T: Partial;
    fn so_far(&self) -> Value;
    fn finish(self: Box<Self>) -> Result<(T, Option<String>)>;
}

impl<T: Partial + DeserializeOwned> Reassemble<T> for Assembler<T> {
    fn push(&mut self, json_path: Option<&str>, delta: &Value) -> Result<Option<String>, String> {
        Assembler::push(self, json_path, delta)
    }

    fn partial(&mut self) -> Arc<T::Partial> {
        Assembler::partial(self)
    }

    fn so_far(&self) -> Value {
        Assembler::so_far(self)
    }

    fn finish(self: Box<Self>) -> Result<(T, Option<String>)> {
        Assembler::finish(*self)
    }
}

/// One step of a typed stream.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Update<T: Partial> {
    /// The chunk's `json_path` as sent (such as `response.people[0].name`); empty in text mode.
    pub json_path: String,
    /// The chunk's value: a string, number or boolean.
    pub delta: Value,
    /// The partial output after this chunk. Cheap: shared with the stream, and copied only if
    /// you still hold it when the next chunk arrives.
    pub partial: Arc<T::Partial>,
    /// The `json_path` of the field this chunk completed by moving past it, if any.
    pub completed: Option<String>,
}

/// A streamed call: typed partial [`Update`]s as chunks arrive, then the final output.
///
/// Returned by `#[opper::function]`s declared `-> opper::Result<opper::Stream<T>>` and by
/// [`CallBuilder::stream`](crate::CallBuilder::stream).
///
/// What a stream builds is bounded by what the server sent: a chunk deeper than
/// [`partial::MAX_DEPTH`](crate::partial::MAX_DEPTH), or one creating more array items than
/// the stream has paid for ([`partial::FREE_ITEMS`](crate::partial::FREE_ITEMS) plus one per
/// byte of `json_path`), ends it with [`Error::InvalidChunk`].
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
    chunks: ChunkStream,
    // Behind a trait object, so that `Stream<T>` itself asks nothing of `T`: a type that is
    // not `Partial` then fails once, where a stream of it is made, not at every mention.
    assembler: Box<dyn Reassemble<T> + Send>,
    failure: Option<String>,
}

impl<T> Unpin for Stream<T> {}

impl<T> std::fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("chunks", &self.chunks)
            .field("failure", &self.failure)
            .finish_non_exhaustive()
    }
}

impl<T: Partial + DeserializeOwned + 'static> Stream<T> {
    pub(crate) fn new(chunks: ChunkStream, schema: Option<Arc<Value>>) -> Self {
        Self {
            chunks,
            assembler: Box::new(Assembler::<T>::new(schema)),
            failure: None,
        }
    }

    /// The call's span, once the service has sent it (normally from the start).
    pub fn span_id(&self) -> Option<&str> {
        self.chunks.span_id()
    }

    /// The partial output so far.
    pub fn partial(&mut self) -> Arc<T::Partial> {
        self.assembler.partial()
    }

    /// Reads what is left of the stream and returns the final output.
    ///
    /// Arrays, maps and options the service sent nothing for are completed from the schema.
    /// Fails, keeping what had arrived, if the stream failed or closed before a valid `T`.
    pub async fn finish(mut self) -> Result<T> {
        while let Some(update) = std::future::poll_fn(|cx| Pin::new(&mut self).poll_next(cx)).await
        {
            update?;
        }
        if let Some(reason) = self.failure.take() {
            return Err(Error::Incomplete {
                reason: format!("the stream had already failed: {reason}"),
                source: None,
                partial: self.assembler.so_far(),
            });
        }
        self.assembler.finish().map(|(output, _)| output)
    }

    fn fail(&mut self, error: Error) -> Error {
        let error = with_partial(error, self.assembler.so_far());
        self.failure = Some(error.to_string());
        error
    }
}

impl<T: Partial + DeserializeOwned + 'static> FuturesStream for Stream<T> {
    type Item = Result<Update<T>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let chunk = match this.chunks.poll_step(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(this.fail(error)))),
                Poll::Ready(Some(Ok(chunk))) => chunk,
            };
            let Some(delta) = chunk.delta else { continue };
            let path = chunk.json_path.as_deref();
            match this.assembler.push(path, &delta) {
                Ok(completed) => {
                    return Poll::Ready(Some(Ok(Update {
                        json_path: chunk.json_path.unwrap_or_default(),
                        delta,
                        partial: this.assembler.partial(),
                        completed,
                    })));
                }
                Err(reason) => {
                    let error = Error::InvalidChunk {
                        data: format!(
                            "json_path {:?}, delta {}",
                            truncate(path.unwrap_or(""), 200),
                            truncate(&delta.to_string(), 200)
                        ),
                        reason,
                        partial: Value::Null,
                    };
                    this.chunks.end(Some(&error));
                    return Poll::Ready(Some(Err(this.fail(error))));
                }
            }
        }
    }
}
