//! The response body the server sends, all at once or streamed, and the guard that tells the
//! recording when a client hung up before the answer was complete.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::mpsc;

/// The service asked to close the connection without answering.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped on purpose by the mock server")
    }
}

impl std::error::Error for DropConnection {}

/// Marks the request as abandoned by the client when dropped before the response is complete.
#[derive(Debug)]
pub(crate) struct Guard {
    flag: Arc<AtomicBool>,
    done: bool,
}

impl Guard {
    /// A guard that sets `flag` if dropped before [`done`](Self::done).
    pub(crate) fn new(flag: Arc<AtomicBool>) -> Self {
        Self { flag, done: false }
    }

    /// The answer is complete: dropping the guard now marks nothing.
    pub(crate) fn done(mut self) {
        self.done = true;
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.done {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
}

/// The response body: all at once, or a stream fed by a producer task.
#[derive(Debug)]
pub(crate) enum MockBody {
    Full(Option<Bytes>),
    Stream {
        rx: mpsc::Receiver<Result<Bytes, io::Error>>,
        guard: Guard,
    },
}

impl HttpBody for MockBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            MockBody::Full(data) => Poll::Ready(data.take().map(|data| Ok(Frame::data(data)))),
            MockBody::Stream { rx, guard } => match rx.poll_recv(cx) {
                Poll::Ready(Some(Ok(data))) => Poll::Ready(Some(Ok(Frame::data(data)))),
                Poll::Ready(Some(Err(error))) => {
                    guard.done = true;
                    Poll::Ready(Some(Err(error)))
                }
                Poll::Ready(None) => {
                    guard.done = true;
                    Poll::Ready(None)
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, MockBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(Some(data)) => SizeHint::with_exact(data.len() as u64),
            MockBody::Full(None) => SizeHint::with_exact(0),
            MockBody::Stream { .. } => SizeHint::default(),
        }
    }
}
