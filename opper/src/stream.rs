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
use crate::reask::{Policy, Reasker, Step};
use crate::sse::{DecodeError, Decoder, Event, EventQueue};
use crate::timeouts::Timeouts;
use crate::trace::record_outcome;
use crate::wire::StreamingChunk;
use crate::{Error, Result};

type Body = Pin<Box<dyn FuturesStream<Item = reqwest::Result<Bytes>> + Send>>;

/// The raw chunks of a `/v2/call/stream` response, in order.
///
/// Yields every [`StreamingChunk`] (the first often carries only the `span_id`). An `error`
/// chunk, an event that is not JSON, an oversized event, a broken connection or a timeout (the
/// request timeout, which bounds the whole stream, or the idle timeout between data events) ends
/// it with an [`Error`]. Dropping it closes the connection.
pub struct ChunkStream {
    body: Option<Body>,
    timeouts: Timeouts,
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
        timeouts: Timeouts,
        span: tracing::Span,
    ) -> Self {
        Self {
            body: Some(Box::pin(response.bytes_stream())),
            timeouts,
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
            timeouts: Timeouts::none(),
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
        if self.span_id.is_none()
            && let Some(id) = &chunk.span_id
        {
            self.span.record("span_id", id.as_str());
            self.span_id = Some(id.clone());
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

    /// Gives up the recording, handing back where it was to be stored: a re-ask's stream
    /// records into it instead.
    pub(crate) fn take_store(&mut self) -> Option<Store<StreamAnswer>> {
        self.recording.take().map(|recording| recording.store)
    }

    /// Keeps the recording past the stream's clean end, until [`commit_recording`]: for a
    /// consumer that judges the output first (a validator stores only the accepted one).
    ///
    /// [`commit_recording`]: Self::commit_recording
    pub(crate) fn hold_recording(&mut self) {
        if let Some(recording) = &mut self.recording {
            recording.held = true;
        }
    }

    /// Stores a held recording, if the stream ended cleanly.
    pub(crate) fn commit_recording(&mut self) {
        if self.recording.as_ref().is_some_and(|r| r.ended)
            && let Some(recording) = self.recording.take()
        {
            recording.store.stream(&recording.chunks);
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
        if let Some(event) = self.queue.front()
            && let Ok(chunk) = serde_json::from_str::<StreamingChunk>(&event.data)
        {
            self.note_span_id(&chunk);
        }
        Ok(())
    }

    /// Reads one piece of the body into the decoder. `Ok(true)`: more may come; `Ok(false)`: the
    /// body ended.
    fn poll_bytes(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool>> {
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(Ok(false));
        };
        // Checked before every read, so that a server sending bytes without pause (comments,
        // say) cannot keep the stream from timing out.
        if let Some(timeout) = self.timeouts.check(cx) {
            self.body = None;
            return Poll::Ready(Err(Error::Incomplete {
                reason: "it timed out".into(),
                source: Some(timeout),
                partial: Value::Null,
            }));
        }
        match body.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(bytes))) => {
                let queued = self.queue.len();
                let fed = self.decoder.feed(&bytes, &mut self.queue);
                // Comments are never queued; events with no data (keep-alives) do not count.
                if self.queue.range(queued..).any(carries_data) {
                    self.timeouts.data_arrived();
                }
                match fed {
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

/// Whether an event carries a chunk: not empty, not a `[DONE]` marker.
fn carries_data(event: &Event) -> bool {
    let data = event.data.trim();
    !data.is_empty() && data != "[DONE]"
}

/// An event's chunk; `Ok(None)` for events that carry nothing (empty data, keep-alives).
fn parse_event(event: Event) -> Result<Option<StreamingChunk>> {
    if !carries_data(&event) {
        return Ok(None);
    }
    let data = event.data.trim();
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
    fn push(&mut self, json_path: Option<&str>, delta: &Value) -> Result<Vec<String>, String>;
    fn partial(&mut self) -> Arc<T::Partial>
    where
        T: Partial;
    fn so_far(&self) -> Value;
    fn finish(self: Box<Self>) -> Result<(T, Option<String>)>;
}

impl<T: Partial + DeserializeOwned> Reassemble<T> for Assembler<T> {
    fn push(&mut self, json_path: Option<&str>, delta: &Value) -> Result<Vec<String>, String> {
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
    /// you still hold it when the next chunk arrives. It never shows what the output will
    /// not hold: see [`Partial`](crate::Partial#what-a-partial-shows).
    pub partial: Arc<T::Partial>,
    /// Innermost first, every path this chunk completed by moving past it, array items and
    /// objects included, written like the previous chunk's `json_path`: a chunk for
    /// `response.people[1].name` after `response.people[0].role` completes
    /// `response.people[0].role` and `response.people[0]`. Empty while a field continues.
    pub completed: Vec<String>,
    /// Which attempt this update belongs to: 1 for the first stream, 2 for the first re-ask
    /// (whose partial starts empty again), and so on.
    pub attempt: u32,
}

/// Opens the stream of a re-ask: given its instructions and its attempt number.
pub(crate) type Reopen =
    Box<dyn FnMut(String, u32) -> Pin<Box<dyn Future<Output = Result<ChunkStream>> + Send>> + Send>;

/// What a stream whose output can be rejected needs to judge it and ask again.
pub(crate) struct Again<T> {
    policy: Policy<T>,
    original: Option<String>,
    reasker: Reasker,
    reopen: Reopen,
    opening: Option<Pin<Box<dyn Future<Output = Result<ChunkStream>> + Send>>>,
    /// The accepted output, kept for `finish()`.
    accepted: Option<T>,
}

impl<T> Again<T> {
    pub(crate) fn new(policy: Policy<T>, original: Option<String>, reopen: Reopen) -> Self {
        Self {
            policy,
            original,
            reasker: Reasker::new(),
            reopen,
            opening: None,
            accepted: None,
        }
    }
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
    schema: Option<Arc<Value>>,
    attempt: u32,
    /// Set when the output is validated or re-asked: the stream then judges the output when
    /// its chunks end, and opens the re-ask itself.
    again: Option<Box<Again<T>>>,
    /// The output was judged (accepted, or finally rejected): nothing more comes.
    judged: bool,
}

impl<T> Unpin for Stream<T> {}

impl<T> std::fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("chunks", &self.chunks)
            .field("failure", &self.failure)
            .field("attempt", &self.attempt)
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
            assembler: Box::new(Assembler::<T>::new(schema.clone())),
            failure: None,
            schema,
            attempt: 1,
            again: again.map(Box::new),
            judged: false,
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
        if let Some(accepted) = self.again.as_mut().and_then(|again| again.accepted.take()) {
            return Ok(accepted);
        }
        self.assembler.finish().map(|(output, _)| output)
    }

    /// The chunks ended: judges the output. `None`: accepted (kept for `finish`); an error: the
    /// final rejection; else a re-ask is being opened.
    fn judge(&mut self) -> Option<Result<()>> {
        let again = self.again.as_mut()?;
        let fresh = Box::new(Assembler::<T>::new(self.schema.clone()));
        let assembler = std::mem::replace(&mut self.assembler, fresh);
        let json = assembler.so_far();
        let output = assembler.finish().map(|(output, _)| output);
        let span = self.chunks.span.clone();
        match again.reasker.judge(
            &again.policy,
            again.original.as_deref(),
            output,
            || json,
            &span,
        ) {
            Ok(Step::Done(output)) => {
                self.chunks.commit_recording();
                again.accepted = Some(output);
                self.judged = true;
                None
            }
            Ok(Step::Again(instructions)) => {
                self.attempt = again.reasker.attempt();
                again.opening = Some((again.reopen)(instructions, self.attempt));
                Some(Ok(()))
            }
            Err(error) => {
                self.judged = true;
                Some(Err(error))
            }
        }
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
            if this.judged || (this.again.is_some() && this.failure.is_some()) {
                return Poll::Ready(None);
            }
            if let Some(opening) = this.again.as_mut().and_then(|again| again.opening.as_mut()) {
                let opened = match opening.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(opened) => opened,
                };
                if let Some(again) = this.again.as_mut() {
                    again.opening = None;
                }
                match opened {
                    Ok(mut chunks) => {
                        // The accepted answer is stored under the request the caller made.
                        if let Some(store) = this.chunks.take_store() {
                            chunks.record_into(store);
                            chunks.hold_recording();
                        }
                        this.chunks = chunks;
                    }
                    Err(error) => {
                        this.judged = true;
                        return Poll::Ready(Some(Err(this.fail(error))));
                    }
                }
            }
            let chunk = match this.chunks.poll_step(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => match this.judge() {
                    None => return Poll::Ready(None),
                    Some(Ok(())) => continue,
                    Some(Err(error)) => return Poll::Ready(Some(Err(this.fail(error)))),
                },
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
                        attempt: this.attempt,
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
