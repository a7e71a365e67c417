//! A turn's response body read as the agent's events: SSE decoded within the client's limits
//! (an event's size, the body's size) and clocks (the request timeout, the idle timeout
//! between data events), each event read by the agent's wire.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream as FuturesStream;
use serde_json::Value;

use crate::client::transport::Transport;
use crate::error::Error;
use crate::error::Result;
use crate::error::TransportError;
use crate::protocol::carries_data;
use crate::protocol::openresponses::{self, Event};
use crate::stream::chunks::decode_error;
use crate::stream::sse::{DecodeError, Decoder, EventQueue};
use crate::stream::timeouts::Timeouts;

type Body = Pin<Box<dyn FuturesStream<Item = reqwest::Result<Bytes>> + Send>>;

/// The events of one turn's stream. Dropping it closes the connection.
pub(super) struct Events {
    body: Option<Body>,
    decoder: Decoder,
    queue: EventQueue,
    timeouts: Timeouts,
    received: usize,
    max_bytes: usize,
}

impl Events {
    /// The events of `response`, whose request started at `started`.
    pub(super) fn new(
        response: reqwest::Response,
        started: tokio::time::Instant,
        transport: &Transport,
    ) -> Self {
        Events {
            body: Some(Box::pin(response.bytes_stream())),
            decoder: Decoder::with_limit(transport.max_event_bytes),
            queue: EventQueue::new(),
            timeouts: Timeouts::new(
                started,
                transport.request_timeout,
                transport.stream_idle_timeout,
            ),
            received: 0,
            max_bytes: transport.max_response_bytes,
        }
    }

    /// The next event the loop reads; `Ok(None)` once the body ended (or `[DONE]` came).
    pub(super) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Event>>> {
        loop {
            if let Some(sse) = self.queue.pop_front() {
                match openresponses::event(&sse.data, sse.at_eof)? {
                    Some(Event::Done) => {
                        self.body = None;
                        self.queue.clear();
                        return Poll::Ready(Ok(None));
                    }
                    Some(event) => return Poll::Ready(Ok(Some(event))),
                    None => continue,
                }
            }
            let Some(body) = self.body.as_mut() else {
                return Poll::Ready(Ok(None));
            };
            // Checked before every read, so that a server sending bytes without pause cannot
            // keep the stream from timing out.
            if let Some(timeout) = self.timeouts.check(cx) {
                self.body = None;
                return Poll::Ready(Err(Error::Incomplete {
                    reason: "it timed out".into(),
                    source: Some(timeout),
                    partial: Value::Null,
                }));
            }
            match body.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(bytes))) => {
                    match self.received.checked_add(bytes.len()) {
                        Some(received) if received <= self.max_bytes => self.received = received,
                        _ => {
                            self.body = None;
                            return Poll::Ready(Err(Error::ResponseTooLarge {
                                limit: self.max_bytes,
                            }));
                        }
                    }
                    let queued = self.queue.len();
                    if let Err(error) = self.decoder.feed(&bytes, &mut self.queue) {
                        self.body = None;
                        return Poll::Ready(Err(decode_error(error)));
                    }
                    if self.queue.range(queued..).any(|e| carries_data(&e.data)) {
                        self.timeouts.data_arrived();
                    }
                }
                Poll::Ready(Some(Err(error))) => {
                    self.body = None;
                    return Poll::Ready(Err(Error::Incomplete {
                        reason: "the connection broke".into(),
                        source: Some(TransportError::from_reqwest(error)),
                        partial: Value::Null,
                    }));
                }
                Poll::Ready(None) => {
                    self.body = None;
                    match self.decoder.finish() {
                        Ok(last) => self.queue.extend(last),
                        // An unterminated last line that is not UTF-8 was cut in a character.
                        Err(DecodeError::InvalidUtf8 { .. }) => {
                            return Poll::Ready(Err(Error::cut_inside_an_event()));
                        }
                        Err(error) => return Poll::Ready(Err(decode_error(error))),
                    }
                }
            }
        }
    }
}
