//! The raw frames of a stream: the composition of its stages, bytes -> events (`body`), events
//! -> frames (`frames`: decoded by the client's version of the wire into the crate's frames, a
//! span id, deltas, text, tool calls, the final answer, live or replayed from the cache by
//! `replay`), recorded for the
//! cache (`record`), under the stream's timeouts and its tracing span.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream as FuturesStream;
use serde_json::Value;

use crate::cache::{Store, StreamAnswer};
use crate::error::Error;
use crate::error::Result;
use crate::protocol::{Api, Frame};
use crate::stream::body::{Body, EventBody};
use crate::stream::frames::Frames;
use crate::stream::raw::Chunk;
use crate::stream::record::Recorder;
use crate::stream::replay::Replay;
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
    /// Its events decoded into frames: read from the body, or replayed from the cache.
    frames: Frames,
    /// Its recording for the cache, and the entry being written once it ended.
    recorder: Recorder,
    /// Whether this crate's cache answered (the stream is a replay), for
    /// [`cache_hit`](Self::cache_hit); kept after the replay is spent.
    cache_hit: bool,
    /// The output of the final answer, for the raw stream's [`output`](Self::output) (read
    /// only by the raw stream: a typed stream reads the final answer into its own type).
    output: Option<Value>,
    span_id: Option<String>,
    progress: Progress,
    span: tracing::Span,
    started: Instant,
}

/// How far a stream got.
#[derive(Debug, Default)]
struct Progress {
    /// Frames decoded.
    chunks: u64,
    /// Whether the final answer (v3 `complete`) arrived.
    completed: bool,
    /// Whether the stream ended (cleanly or not).
    finished: bool,
}

impl std::fmt::Debug for ChunkStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkStream")
            .field("span_id", &self.span_id)
            .field("chunks", &self.progress.chunks)
            .field("finished", &self.progress.finished)
            .finish_non_exhaustive()
    }
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
        Self::of(Frames::live(api, source), false, span)
    }

    /// A stream that serves a cached stream's events as the live one served them, through the
    /// same decoder: the span id known from the start when the first event carries it (as
    /// [`prefetch`](Self::prefetch) makes it), else from the chunk that brings it.
    pub(crate) fn replay(api: Api, answer: StreamAnswer, span: tracing::Span) -> Self {
        let mut stream = Self::of(Frames::replay(api, Replay::new(answer)), true, span);
        stream.note_span_id_ahead();
        stream
    }

    fn of(frames: Frames, cache_hit: bool, span: tracing::Span) -> Self {
        Self {
            frames,
            recorder: Recorder::default(),
            cache_hit,
            output: None,
            span_id: None,
            progress: Progress::default(),
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

    /// Takes the span id of a leading span-only chunk not yet handed out, so `span_id()` works
    /// at once.
    fn note_span_id_ahead(&mut self) {
        if self.span_id.is_none() {
            let id = self.frames.span_id_ahead();
            self.note_span_id(id.as_deref());
        }
    }

    /// Records every event from now on, for `store` to keep once the stream ends cleanly.
    pub(crate) fn record_into(&mut self, store: Store<StreamAnswer>) {
        let limit = self.frames.max_bytes();
        self.recorder.start(store, limit, self.span.clone());
    }

    /// Whether the cache records this stream (a miss of a read-write cache).
    pub(crate) fn records(&self) -> bool {
        self.recorder.is_recording()
    }

    /// Gives up the recording, handing back where it was to be stored: a re-ask's stream
    /// records into it instead.
    pub(crate) fn take_store(&mut self) -> Option<Store<StreamAnswer>> {
        self.recorder.take_store()
    }

    /// Keeps the recording past the stream's clean end, until [`commit_recording`]: for a
    /// consumer that judges the output first (a validator stores only the accepted one).
    ///
    /// [`commit_recording`]: Self::commit_recording
    pub(crate) fn hold_recording(&mut self) {
        self.recorder.hold();
    }

    /// Stores a held recording, if the stream ended cleanly.
    pub(crate) fn commit_recording(&mut self) {
        self.recorder.commit();
    }

    /// Ready once the cache entry this stream stores, if any, is written (on a blocking
    /// thread): so an entry is on disk when the stream's end is seen.
    pub(crate) fn poll_written(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.recorder.poll_written(cx)
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
        std::future::poll_fn(|cx| self.frames.poll_prefetch(cx)).await?;
        self.note_span_id_ahead();
        Ok(())
    }

    /// The next frame, `None` at the end; after an error, always `None`.
    pub(crate) fn poll_step(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame>>> {
        if self.progress.finished {
            return self.poll_written(cx).map(|()| None);
        }
        let decoded = match self.frames.poll_frame(cx, &mut self.recorder) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(Some(decoded))) => decoded,
            Poll::Ready(Ok(None)) => return self.ended(cx),
            Poll::Ready(Err(error)) => {
                self.end(Some(&error));
                return Poll::Ready(Some(Err(error)));
            }
        };
        self.progress.chunks = self.progress.chunks.saturating_add(1);
        self.note_span_id(decoded.span_id());
        let frame = decoded.frame;
        match &frame {
            Frame::Done => return self.ended(cx),
            Frame::Complete(answer) => {
                self.progress.completed = true;
                if let Some(trace_uuid) = &answer.trace_uuid {
                    trace::record_trace_uuid(&self.span, trace_uuid);
                }
            }
            Frame::SpanId(_) | Frame::Delta { .. } | Frame::Text(_) | Frame::ToolCall(_) => {}
        }
        Poll::Ready(Some(Ok(frame)))
    }

    /// The body ended (or v3's `[DONE]` came): a clean end, unless the protocol's final answer
    /// never came (a cut v3 stream).
    fn ended(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame>>> {
        if self.frames.api().wire().ends_with_complete() && !self.progress.completed {
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

    /// Ends the stream (with `error`, or cleanly): nothing more is read, a clean end stores the
    /// recording, and the tracing span records the outcome.
    pub(crate) fn end(&mut self, error: Option<&Error>) {
        self.progress.finished = true;
        self.frames.stop();
        self.recorder.end(error.is_none());
        self.span.record("chunks", self.progress.chunks);
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
