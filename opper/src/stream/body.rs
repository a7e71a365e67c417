//! Bytes -> events: a stream's body read under its two clocks and its byte limit, and decoded
//! into SSE events [`FEED_BYTES`] at a time. The stage of every stream that reads SSE: a task's
//! ([`ChunkStream`](crate::ChunkStream)) and an agent's turn.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream as FuturesStream;
use serde_json::Value;

use crate::error::{Error, Result, TransportError};
use crate::protocol;
use crate::stream::sse::{DecodeError, Decoder, EventQueue};
use crate::stream::timeouts::Timeouts;

/// How many body bytes are decoded at a time (see [`EventBody::poll_events`]).
const FEED_BYTES: usize = 16 * 1024;

/// A response's body, as bytes.
pub(crate) type Body = Pin<Box<dyn FuturesStream<Item = reqwest::Result<Bytes>> + Send>>;

/// A body read into SSE events: at most `max_bytes` of it, each event at most the decoder's
/// limit, under the stream's clocks (checked before every read, so that a server sending bytes
/// without pause cannot keep the stream from timing out). A piece read is decoded
/// [`FEED_BYTES`] at a time, as the caller empties its queue, so the queue holds the events of
/// at most that many bytes.
pub(crate) struct EventBody {
    body: Option<Body>,
    decoder: Decoder,
    timeouts: Timeouts,
    /// The most body bytes read (`OpperBuilder::max_response_bytes`).
    max_bytes: usize,
    /// Body bytes read so far.
    received: usize,
    /// Body bytes read but not yet decoded.
    unfed: Bytes,
}

impl EventBody {
    /// Reads `body` (none: a stream with nothing to read, such as a replay), in events of at
    /// most `max_event_bytes`.
    pub(crate) fn new(
        body: Option<Body>,
        max_event_bytes: usize,
        max_bytes: usize,
        timeouts: Timeouts,
    ) -> Self {
        EventBody {
            body,
            decoder: Decoder::with_limit(max_event_bytes),
            timeouts,
            max_bytes,
            received: 0,
            unfed: Bytes::new(),
        }
    }

    /// The most body bytes read; also the most a recording of the stream may hold.
    pub(crate) fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Stops reading: the connection is dropped and nothing more is decoded.
    pub(crate) fn stop(&mut self) {
        self.body = None;
        self.unfed = Bytes::new();
    }

    /// Decodes the next piece of the body into `queue`, reading one when none is left.
    /// `Ok(true)`: more may come; `Ok(false)`: the body ended (its last events are queued).
    /// After an error nothing more is read; what was decoded before it stays queued.
    pub(crate) fn poll_events(
        &mut self,
        cx: &mut Context<'_>,
        queue: &mut EventQueue,
    ) -> Poll<Result<bool>> {
        if !self.unfed.is_empty() {
            return Poll::Ready(self.feed(queue));
        }
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(Ok(false));
        };
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
                match self.received.checked_add(bytes.len()) {
                    Some(received) if received <= self.max_bytes => self.received = received,
                    _ => {
                        // Nothing of the piece past the limit is decoded.
                        self.body = None;
                        return Poll::Ready(Err(Error::ResponseTooLarge {
                            limit: self.max_bytes,
                        }));
                    }
                }
                self.unfed = bytes;
                Poll::Ready(self.feed(queue))
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
                        queue.extend(last);
                        Poll::Ready(Ok(false))
                    }
                    // An unterminated last line that is not UTF-8 was cut inside a character.
                    Err(DecodeError::InvalidUtf8 { .. }) => {
                        Poll::Ready(Err(Error::cut_inside_an_event()))
                    }
                    Err(error) => Poll::Ready(Err(decode_error(error))),
                }
            }
        }
    }

    /// Decodes the next [`FEED_BYTES`] of the bytes read. `Ok(true)`: more may come.
    fn feed(&mut self, queue: &mut EventQueue) -> Result<bool> {
        let piece = self.unfed.split_to(self.unfed.len().min(FEED_BYTES));
        let queued = queue.len();
        let fed = self.decoder.feed(&piece, queue);
        // Comments are never queued; events with no data (keep-alives) do not count.
        if queue
            .range(queued..)
            .any(|event| protocol::carries_data(&event.data))
        {
            self.timeouts.data_arrived();
        }
        match fed {
            Ok(()) => Ok(true),
            Err(error) => {
                self.stop();
                Err(decode_error(error))
            }
        }
    }
}

/// The error an SSE decoding failure stands for.
pub(crate) fn decode_error(error: DecodeError) -> Error {
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
