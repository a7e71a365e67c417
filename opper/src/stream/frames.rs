//! Events -> frames: a stream's SSE events, read from its body (live) or from a cache entry
//! (replayed), each decoded by the client's version of the wire (`Api::wire`), the same decoder
//! for both; a live event is recorded for the cache as it arrived.

use std::task::{Context, Poll};

use crate::error::Error;
use crate::error::Result;
use crate::error::TransportError;
use crate::protocol::{Api, Decoded, Frame};
use crate::stream::body::EventBody;
use crate::stream::record::Recorder;
use crate::stream::replay::Replay;
use crate::stream::sse::{Event, EventQueue};

/// A stream's frames, decoded from its events.
pub(crate) struct Frames {
    api: Api,
    events: Events,
}

/// Where a stream's events come from.
enum Events {
    Live(Box<Live>),
    Replay(Replay),
    /// The stream ended: nothing more is read.
    Spent,
}

/// A body read into events.
struct Live {
    body: EventBody,
    /// The events decoded and not yet handed out.
    queue: EventQueue,
    /// A failure met while reading, handed out after the events decoded before it.
    pending: Option<Error>,
}

impl Frames {
    /// The frames of a live body.
    pub(crate) fn live(api: Api, body: EventBody) -> Self {
        let live = Box::new(Live {
            body,
            queue: EventQueue::new(),
            pending: None,
        });
        Frames {
            api,
            events: Events::Live(live),
        }
    }

    /// The frames of a stored stream.
    pub(crate) fn replay(api: Api, replay: Replay) -> Self {
        Frames {
            api,
            events: Events::Replay(replay),
        }
    }

    /// The client's version.
    pub(crate) fn api(&self) -> Api {
        self.api
    }

    /// The most body bytes read: also the most a recording of the stream may hold.
    pub(crate) fn max_bytes(&self) -> usize {
        match &self.events {
            Events::Live(live) => live.body.max_bytes(),
            Events::Replay(_) | Events::Spent => usize::MAX,
        }
    }

    /// The span id the next event carries (a leading span-only chunk), read without decoding
    /// it for the stream.
    pub(crate) fn span_id_ahead(&self) -> Option<String> {
        let data = match &self.events {
            Events::Live(live) => &live.queue.front()?.data,
            Events::Replay(replay) => replay.peek()?.1,
            Events::Spent => return None,
        };
        self.api.wire().span_id_of(data)
    }

    /// Reads until at least one event is decoded, without handing it out (a replay has its
    /// events). A failure before any event is returned (so the request may be retried): a
    /// stream that closes or breaks before its first event is a transport failure.
    pub(crate) fn poll_prefetch(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        match &mut self.events {
            Events::Live(live) => live.poll_prefetch(cx),
            Events::Replay(_) | Events::Spent => Poll::Ready(Ok(())),
        }
    }

    /// The next frame, with the span id its event carried beside it; `None` at the end of the
    /// events. A live event is added to `recorder`
    /// (when it records) before it is decoded, and taken out again if it carries no frame.
    pub(crate) fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
        recorder: &mut Recorder,
    ) -> Poll<Result<Option<Decoded>>> {
        let wire = self.api.wire();
        loop {
            let decoded = match &mut self.events {
                Events::Replay(replay) => match replay.next_event() {
                    Some((event, data)) => wire.frame(event, data.to_owned(), false),
                    None => return Poll::Ready(Ok(None)),
                },
                Events::Live(live) => {
                    let event = match live.poll_event(cx) {
                        Poll::Ready(Ok(Some(event))) => event,
                        Poll::Ready(Ok(None)) => return Poll::Ready(Ok(None)),
                        Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                        Poll::Pending => return Poll::Pending,
                    };
                    let mark = recorder.add(&event.event, &event.data);
                    let decoded = wire.frame(&event.event, event.data, event.at_eof);
                    // What carries no frame, and the end (`[DONE]`), is not replayed.
                    if !matches!(&decoded, Ok(Some(d)) if !matches!(d.frame, Frame::Done)) {
                        recorder.undo(mark);
                    }
                    decoded
                }
                Events::Spent => return Poll::Ready(Ok(None)),
            };
            match decoded {
                Ok(None) => {}
                decoded => return Poll::Ready(decoded),
            }
        }
    }

    /// Stops: the connection is dropped (or the entry let go) and nothing more is decoded.
    pub(crate) fn stop(&mut self) {
        self.events = Events::Spent;
    }
}

impl Live {
    /// The next event; `None` once the body ended and every event was handed out.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Event>>> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Poll::Ready(Ok(Some(event)));
            }
            if let Some(error) = self.pending.take() {
                return Poll::Ready(Err(error));
            }
            match self.body.poll_events(cx, &mut self.queue) {
                Poll::Ready(Ok(true)) => {}
                Poll::Ready(Ok(false)) if self.queue.is_empty() => return Poll::Ready(Ok(None)),
                Poll::Ready(Ok(false)) => {}
                Poll::Ready(Err(error)) => self.pending = Some(error),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// See [`Frames::poll_prefetch`].
    fn poll_prefetch(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        while self.queue.is_empty() && self.pending.is_none() {
            match self.body.poll_events(cx, &mut self.queue) {
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
    }
}
