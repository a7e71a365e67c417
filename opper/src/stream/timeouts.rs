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
        let deadline = deadline_after(started, request_timeout);
        let idle_at = deadline_after(now, idle_timeout);
        Self {
            request_timeout,
            deadline,
            idle_timeout,
            last_data: now,
            timer: Box::pin(tokio::time::sleep_until(deadline.min(idle_at))),
        }
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
            let idle_at = deadline_after(self.last_data, self.idle_timeout);
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

/// `timeout` after `start`, or about 30 years from now if that is later than an `Instant`
/// holds: a timeout that large (`Duration::MAX`) means no limit.
pub(crate) fn deadline_after(start: Instant, timeout: Duration) -> Instant {
    start.checked_add(timeout).unwrap_or_else(far_future)
}

/// About 30 years: what "no timeout" comes to. Longer timeouts are cut to it before they reach
/// code that adds them to an `Instant` unchecked (reqwest's connect and read timeouts).
pub(crate) const NO_LIMIT: Duration = Duration::from_secs(86400 * 365 * 30);

/// [`NO_LIMIT`] from now.
fn far_future() -> Instant {
    let now = Instant::now();
    now.checked_add(NO_LIMIT).unwrap_or(now)
}
