//! A turn's response body read as the agent's events: SSE decoded within the client's limits
//! (an event's size, the body's size) and clocks (the request timeout, the idle timeout
//! between data events), each event read by the agent's wire.

use std::task::{Context, Poll};

use crate::client::transport::Transport;
use crate::error::Result;
use crate::protocol::openresponses::{self, Event};
use crate::stream::body::EventBody;
use crate::stream::sse::EventQueue;
use crate::stream::timeouts::Timeouts;

/// The events of one turn's stream. Dropping it closes the connection.
pub(super) struct Events {
    source: EventBody,
    queue: EventQueue,
}

impl Events {
    /// The events of `response`, whose request started at `started`.
    pub(super) fn new(
        response: reqwest::Response,
        started: tokio::time::Instant,
        transport: &Transport,
    ) -> Self {
        let timeouts = Timeouts::new(
            started,
            transport.request_timeout,
            transport.stream_idle_timeout,
        );
        Events {
            source: EventBody::new(
                Some(Box::pin(response.bytes_stream())),
                transport.max_event_bytes,
                transport.max_response_bytes,
                timeouts,
            ),
            queue: EventQueue::new(),
        }
    }

    /// The next event the loop reads; `Ok(None)` once the body ended (or `[DONE]` came).
    pub(super) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Event>>> {
        loop {
            if let Some(sse) = self.queue.pop_front() {
                match openresponses::event(&sse.data, sse.at_eof)? {
                    Some(Event::Done) => {
                        self.source.stop();
                        self.queue.clear();
                        return Poll::Ready(Ok(None));
                    }
                    Some(event) => return Poll::Ready(Ok(Some(event))),
                    None => continue,
                }
            }
            match self.source.poll_events(cx, &mut self.queue) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                // The body ended: its last events are queued, if any.
                Poll::Ready(Ok(false)) if self.queue.is_empty() => return Poll::Ready(Ok(None)),
                Poll::Ready(Ok(_)) => {}
            }
        }
    }
}
