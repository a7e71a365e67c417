//! The two clocks a stream obeys: the request timeout, from the request until the stream's end,
//! and the idle timeout, between data events.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use crate::error::TransportError;

/// A stream's deadlines. One timer serves both: it is armed at the earlier of the two and, when
/// it fires early because data arrived since, moved on (so data events cost no timer work).
#[derive(Debug)]
pub(crate) struct Timeouts {
    request_timeout: Duration,
    deadline: Instant,
    idle_timeout: Duration,
    last_data: Instant,
    timer: Pin<Box<Sleep>>,
}

impl Timeouts {
    /// Clocks for a request that started at `started`; the idle clock starts now.
    pub(crate) fn new(started: Instant, request_timeout: Duration, idle_timeout: Duration) -> Self {
        let now = Instant::now();
        let deadline = started.checked_add(request_timeout).unwrap_or(far_future());
        let idle_at = now.checked_add(idle_timeout).unwrap_or(far_future());
        Self {
            request_timeout,
            deadline,
            idle_timeout,
            last_data: now,
            timer: Box::pin(tokio::time::sleep_until(deadline.min(idle_at))),
        }
    }

    /// No deadline: for a stream replayed from the cache, which waits on nothing.
    pub(crate) fn none() -> Self {
        Self::new(Instant::now(), Duration::MAX, Duration::MAX)
    }

    /// A data event arrived: the idle clock starts again.
    pub(crate) fn data_arrived(&mut self) {
        self.last_data = Instant::now();
    }

    /// The timeout that has passed, if one has; otherwise arranges for `cx` to be woken when
    /// the next one would.
    pub(crate) fn check(&mut self, cx: &mut Context<'_>) -> Option<TransportError> {
        loop {
            let now = Instant::now();
            if now >= self.deadline {
                return Some(TransportError::timeout(format!(
                    "the request timeout ({:?}) passed before the stream ended",
                    self.request_timeout
                )));
            }
            let idle_at = self
                .last_data
                .checked_add(self.idle_timeout)
                .unwrap_or(far_future());
            if now >= idle_at {
                return Some(TransportError::timeout(format!(
                    "no data event within the stream idle timeout ({:?})",
                    self.idle_timeout
                )));
            }
            match self.timer.as_mut().poll(cx) {
                Poll::Pending => return None,
                // Armed for a moment that has moved on since: re-arm and poll again.
                Poll::Ready(()) => {
                    let next = self.deadline.min(idle_at);
                    self.timer.as_mut().reset(next);
                }
            }
        }
    }
}

/// About 30 years from now: what "no timeout" comes to.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400 * 365 * 30)
}
