//! The raw frames of a stream: SSE decoded by the client's version of the wire into frames (a
//! span id, deltas, text, tool calls, the final answer), under the stream's timeouts, recorded
//! for the cache or replayed from it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream as FuturesStream;
use serde_json::Value;

use crate::cache::{Replaying, Store, StreamAnswer, Writing};
use crate::error::Error;
use crate::error::Result;
use crate::error::TransportError;
use crate::protocol::{Api, Decoded, Frame, Record};
use crate::stream::body::{Body, EventBody};
use crate::stream::raw::Chunk;
use crate::stream::sse::EventQueue;
use crate::stream::timeouts::Timeouts;
use crate::trace::{self, record_outcome};

/// The raw chunks of a stream, in order.
///
/// Each item is a [`Chunk`]. On [`Api::V2`] it yields the span id ([`Chunk::SpanId`], usually
/// first) and every chunk's delta ([`Chunk::Delta`], with its `json_path`). On [`Api::V3`] it
/// yields each `content` delta as [`Chunk::Text`] (with an output schema, a piece of the
/// model's JSON document), each `tool_call_start` and `tool_call_delta` event as
/// [`Chunk::ToolCall`] (the event as sent), and keeps the `complete` event's output for
/// [`output`](Self::output); a v3 stream that ends without `complete` ends with
/// [`Error::Incomplete`]. An `error`
/// chunk, an event that is not JSON, an oversized event, a body longer than the response limit,
/// a broken connection or a timeout (the request timeout, which bounds the whole stream, or the
/// idle timeout between data events) ends it with an [`Error`]. Dropping it closes the
/// connection.
pub struct ChunkStream {
    api: Api,
    /// The body read into events (nothing to read for a replay).
    source: EventBody,
    /// A cached stream's chunks or frames, served instead of a body.
    replay: Option<Replay>,
    /// Whether this crate's cache answered (the stream is a replay), for
    /// [`cache_hit`](Self::cache_hit); kept after the replay is spent.
    cache_hit: bool,
    /// Whether the final answer (v3 `complete`) arrived.
    completed: bool,
    /// The output of the final answer, for the raw stream's [`output`](Self::output) (read
    /// only by the raw stream: a typed stream reads the final answer into its own type).
    output: Option<Value>,
    /// The chunks so far of a stream the cache is to store once it ends cleanly.
    recording: Option<Recording>,
    /// The cache entry being written, once the stream ended: the stream's end waits for it.
    writing: Option<Writing>,
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
    /// v2's chunks, as recorded (see `StreamAnswer::Chunks`).
    chunks: Vec<Value>,
    /// v3's frames, as recorded (see `StreamAnswer::Frames`).
    frames: Vec<Value>,
    /// What the records hold on the heap besides the `Vec`s themselves (see [`heap_of_value`]).
    heap: usize,
    /// Whether the consumer commits (see [`ChunkStream::hold_recording`]).
    held: bool,
    /// Whether the stream ended cleanly.
    ended: bool,
}

// Moved once per event; boxing it would allocate once per chunk.
#[allow(clippy::large_enum_variant)]
enum Next {
    Frame(Decoded),
    End,
}

/// A cached stream being replayed.
enum Replay {
    Chunks(std::vec::IntoIter<Value>),
    /// Read back from an entry: each chunk's text decoded as it is served, as a live event's.
    Stored(Replaying),
    Frames(std::vec::IntoIter<Value>),
}

impl ChunkStream {
    /// A live stream: at most `max_bytes` of body are read (and recorded), in events of at most
    /// `max_event_bytes`.
    pub(crate) fn new(
        api: Api,
        response: reqwest::Response,
        max_event_bytes: usize,
        max_bytes: usize,
        timeouts: Timeouts,
        span: tracing::Span,
    ) -> Self {
        let body: Body = Box::pin(response.bytes_stream());
        let source = EventBody::new(Some(body), max_event_bytes, max_bytes, timeouts);
        Self::from_source(api, source, None, span)
    }

    /// A stream that serves cached chunks as the live one served them: the span id known from
    /// the start when the first chunk carries it (as [`prefetch`](Self::prefetch) makes it),
    /// else from the chunk that brings it.
    pub(crate) fn replay(api: Api, answer: StreamAnswer, span: tracing::Span) -> Self {
        let wire = api.wire();
        let (first, replay) = match answer {
            StreamAnswer::Chunks(chunks) => {
                let first = chunks.first().cloned().and_then(|c| wire.replayed(c).ok()?);
                let first = first.and_then(|decoded| decoded.span_id().map(str::to_owned));
                (first, Replay::Chunks(chunks.into_iter()))
            }
            StreamAnswer::Stored(chunks) => (
                chunks.first().and_then(|text| wire.span_id_of(text)),
                Replay::Stored(chunks.into_iter()),
            ),
            StreamAnswer::Frames(frames) => (None, Replay::Frames(frames.into_iter())),
        };
        let limit = crate::stream::sse::DEFAULT_MAX_EVENT_BYTES;
        let source = EventBody::new(None, limit, usize::MAX, Timeouts::none());
        let mut stream = Self::from_source(api, source, Some(replay), span);
        if let Some(first) = &first {
            stream.note_span_id(Some(first));
        }
        stream
    }

    /// A stream reading `source` (live) or serving `replay` (cached).
    fn from_source(
        api: Api,
        source: EventBody,
        replay: Option<Replay>,
        span: tracing::Span,
    ) -> Self {
        Self {
            api,
            source,
            cache_hit: replay.is_some(),
            replay,
            completed: false,
            output: None,
            recording: None,
            writing: None,
            queue: EventQueue::new(),
            span_id: None,
            chunks: 0,
            finished: false,
            pending: None,
            span,
            started: Instant::now(),
        }
    }

    /// Takes the call's span id from the first event that carries one.
    fn note_span_id(&mut self, span_id: Option<&str>) {
        if self.span_id.is_none()
            && let Some(id) = span_id
        {
            trace::record_span_id(&self.span, id);
            self.span_id = Some(id.to_owned());
        }
    }

    /// Records every chunk from now on, for `store` to keep once the stream ends cleanly.
    pub(crate) fn record_into(&mut self, store: Store<StreamAnswer>) {
        self.recording = Some(Recording {
            store,
            chunks: Vec::new(),
            frames: Vec::new(),
            heap: 0,
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
            self.writing = Some(recording.store_answer());
        }
    }

    /// Ready once the cache entry this stream stores, if any, is written (on a blocking
    /// thread): so an entry is on disk when the stream's end is seen.
    pub(crate) fn poll_written(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(writing) = &mut self.writing {
            if Pin::new(writing).poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.writing = None;
        }
        Poll::Ready(())
    }

    /// The `opper.stream` tracing span of this attempt.
    pub(crate) fn tracing_span(&self) -> &tracing::Span {
        &self.span
    }

    /// The call's span, once the service has sent it (never on v3, which has none).
    pub fn span_id(&self) -> Option<&str> {
        self.span_id.as_deref()
    }

    /// Whether this crate's [`Cache`](crate::Cache) answered: the stream replays a stored one
    /// (a hit of a read-write cache, or a replay-only cache), and no request was made.
    pub fn cache_hit(&self) -> bool {
        self.cache_hit
    }

    /// The final output of a v3 stream (its `complete` event's `data`), once it arrived; `None`
    /// on v2, whose chunks are the output.
    pub fn output(&self) -> Option<&Value> {
        self.output.as_ref()
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
        if self.span_id.is_none()
            && let Some(id) = self
                .queue
                .front()
                .and_then(|e| self.api.wire().span_id_of(&e.data))
        {
            trace::record_span_id(&self.span, &id);
            self.span_id = Some(id);
        }
        Ok(())
    }

    /// Decodes one piece of the body into the queue. `Ok(true)`: more may come; `Ok(false)`:
    /// the body ended.
    fn poll_bytes(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool>> {
        self.source.poll_events(cx, &mut self.queue)
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Next>> {
        let wire = self.api.wire();
        while let Some(replay) = &mut self.replay {
            let decoded = match replay {
                Replay::Chunks(chunks) => chunks.next().map(|chunk| wire.replayed(chunk)),
                Replay::Stored(chunks) => chunks.next().map(|text| wire.frame("", text, false)),
                Replay::Frames(frames) => frames.next().map(|frame| wire.replayed(frame)),
            };
            let decoded = match decoded {
                Some(Ok(None)) => continue,
                Some(Ok(Some(decoded))) => decoded,
                Some(Err(error)) => return Poll::Ready(Err(error)),
                None => return Poll::Ready(Ok(Next::End)),
            };
            self.chunks = self.chunks.saturating_add(1);
            self.note_span_id(decoded.span_id());
            return Poll::Ready(Ok(Next::Frame(decoded)));
        }
        loop {
            if let Some(event) = self.queue.pop_front() {
                match wire.frame(&event.event, event.data, event.at_eof) {
                    Ok(Some(decoded)) => {
                        self.chunks = self.chunks.saturating_add(1);
                        self.note_span_id(decoded.span_id());
                        return Poll::Ready(Ok(Next::Frame(decoded)));
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

    /// The next frame, `None` at the end; after an error, always `None`.
    pub(crate) fn poll_step(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame>>> {
        if self.finished {
            return self.poll_written(cx).map(|()| None);
        }
        let step = match self.poll_chunk(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(step) => step,
        };
        match step {
            Ok(Next::Frame(Decoded {
                frame: Frame::Done, ..
            })) => self.ended(cx),
            Ok(Next::Frame(Decoded {
                frame,
                span_id,
                record,
            })) => {
                match record {
                    Some(record) => self.record(record),
                    // Made only when a cache records.
                    None if self.recording.is_some() => {
                        match self.api.wire().record(&frame, span_id.as_deref()) {
                            Some(record) => self.record(record),
                            None => self.recording = None,
                        }
                    }
                    None => {}
                }
                if let Frame::Complete(answer) = &frame {
                    self.completed = true;
                    if let Some(trace_uuid) = &answer.trace_uuid {
                        trace::record_trace_uuid(&self.span, trace_uuid);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Ok(Next::End) => self.ended(cx),
            Err(error) => {
                self.end(Some(&error));
                Poll::Ready(Some(Err(error)))
            }
        }
    }

    /// The body ended (or v3's `[DONE]` came): a clean end, unless the protocol's final answer
    /// never came (a cut v3 stream).
    fn ended(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame>>> {
        if self.api.wire().ends_with_complete() && !self.completed {
            let error = Error::Incomplete {
                reason: "the stream ended without its final answer (the `complete` event)".into(),
                source: None,
                partial: Value::Null,
            };
            self.end(Some(&error));
            return Poll::Ready(Some(Err(error)));
        }
        self.end(None);
        self.poll_written(cx).map(|()| None)
    }

    /// Adds a chunk or frame to the recording. A recording that would hold more than the
    /// stream's `max_bytes` (its `Vec`'s capacity and what the chunks hold) is given up: the
    /// answer is not stored, and recording never holds more than the limit, whatever the chunks.
    fn record(&mut self, recorded: Record) {
        let Some(recording) = &mut self.recording else {
            return;
        };
        // Grown here, by doubling, so that its capacity is known.
        fn grown<T>(items: &Vec<T>) -> usize {
            if items.len() < items.capacity() {
                items.capacity()
            } else {
                items.capacity().saturating_mul(2).max(4)
            }
        }
        let (capacity, heap) = match &recorded {
            Record::Chunk(chunk) => (grown(&recording.chunks), heap_of_value(chunk)),
            Record::Frame(frame) => (grown(&recording.frames), heap_of_value(frame)),
        };
        let size = std::mem::size_of::<Value>();
        let heap = recording.heap.saturating_add(heap);
        let total = capacity.saturating_mul(size).saturating_add(heap);
        if total <= self.source.max_bytes() {
            match recorded {
                Record::Chunk(chunk) => {
                    let chunks = &mut recording.chunks;
                    chunks.reserve_exact(capacity.saturating_sub(chunks.len()));
                    chunks.push(chunk);
                }
                Record::Frame(frame) => {
                    let frames = &mut recording.frames;
                    frames.reserve_exact(capacity.saturating_sub(frames.len()));
                    frames.push(frame);
                }
            }
            recording.heap = heap;
        } else {
            self.recording = None;
            tracing::debug!(
                parent: &self.span,
                limit = self.source.max_bytes(),
                "the stream is too large to be cached"
            );
        }
    }

    pub(crate) fn end(&mut self, error: Option<&Error>) {
        self.finished = true;
        self.source.stop();
        self.replay = None;
        match (error, self.recording.take()) {
            (None, Some(recording)) if !recording.held => {
                self.writing = Some(recording.store_answer());
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
    type Item = Result<Chunk>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let frame = match this.poll_step(cx) {
                Poll::Ready(Some(Ok(frame))) => frame,
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            };
            // Kept for `output()` (the first: as a typed stream's final output); the frame
            // is no chunk.
            if let Frame::Complete(answer) = &frame {
                if this.output.is_none() {
                    this.output = serde_json::from_str(answer.output.text()).ok();
                }
                continue;
            }
            if let Some(chunk) = Chunk::of(frame) {
                return Poll::Ready(Some(Ok(chunk)));
            }
        }
    }
}

impl Recording {
    /// Stores what was recorded: v2's chunks, or v3's frames.
    fn store_answer(self) -> Writing {
        let answer = match self.frames.is_empty() {
            true => StreamAnswer::Chunks(self.chunks),
            false => StreamAnswer::Frames(self.frames),
        };
        self.store.stream(answer)
    }
}

/// About what a value holds on the heap (its nested values included). Iterative.
fn heap_of_value(value: &Value) -> usize {
    let mut bytes = 0usize;
    let mut stack: Vec<&Value> = vec![value];
    while let Some(value) = stack.pop() {
        bytes = bytes.saturating_add(std::mem::size_of::<Value>());
        match value {
            Value::String(text) => bytes = bytes.saturating_add(text.len()),
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                for (key, item) in map {
                    bytes = bytes.saturating_add(key.len());
                    stack.push(item);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    bytes
}
