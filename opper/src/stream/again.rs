//! Re-asking, as a combinator over a stream's attempts: when an attempt's chunks end, its
//! output is judged; a rejection opens the next attempt in its place, and the accepted
//! attempt's answer is the one the cache stores, under the request the caller made.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde_json::Value;

use crate::error::Result;
use crate::reask::{Policy, Reasker, Step};
use crate::stream::chunks::ChunkStream;

/// An attempt's stream being opened.
type Opening = Pin<Box<dyn Future<Output = Result<ChunkStream>> + Send>>;

/// Opens the stream of a re-ask: given its instructions and its attempt number.
pub(crate) type Reopen = Box<dyn FnMut(String, u32) -> Opening + Send>;

/// What a stream whose output can be rejected needs to judge it and ask again.
pub(crate) struct Again<T> {
    policy: Policy<T>,
    original: Option<String>,
    reasker: Reasker,
    reopen: Reopen,
    opening: Option<Opening>,
    /// The accepted output, kept for `finish()`.
    accepted: Option<T>,
    /// The output was judged (accepted, or finally rejected): nothing more comes.
    judged: bool,
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
            judged: false,
        }
    }

    /// Whether nothing more comes: the output was judged, or the stream (`failed`) failed.
    pub(crate) fn is_over(&self, failed: bool) -> bool {
        self.judged || failed
    }

    /// Opens the next attempt, when one is being opened, in place of `chunks` (which hands it
    /// its recording store). Ready at once when none is.
    pub(crate) fn poll_open(
        &mut self,
        chunks: &mut ChunkStream,
        cx: &mut Context<'_>,
    ) -> Poll<Result<()>> {
        let Some(opening) = self.opening.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let opened = match opening.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(opened) => opened,
        };
        self.opening = None;
        match opened {
            Ok(mut next) => {
                // The accepted answer is stored under the request the caller made.
                if let Some(store) = chunks.take_store() {
                    next.record_into(store);
                    next.hold_recording();
                }
                *chunks = next;
                Poll::Ready(Ok(()))
            }
            Err(error) => {
                self.judged = true;
                Poll::Ready(Err(error))
            }
        }
    }

    /// Judges an attempt's `output` (`json` gives it as JSON for a rejection) as its
    /// `chunks` ended. `Ok(None)`: accepted (kept for [`accepted`](Self::accepted), and
    /// `chunks`' recording committed); `Ok(Some(attempt))`: this attempt is being opened;
    /// an error: the final rejection.
    pub(crate) fn judge(
        &mut self,
        output: Result<T>,
        json: impl FnOnce() -> Value,
        chunks: &mut ChunkStream,
    ) -> Result<Option<u32>> {
        let span = chunks.tracing_span().clone();
        let judged =
            self.reasker
                .judge(&self.policy, self.original.as_deref(), output, json, &span);
        match judged {
            Ok(Step::Done(output)) => {
                chunks.commit_recording();
                self.accepted = Some(output);
                self.judged = true;
                Ok(None)
            }
            Ok(Step::Again(instructions)) => {
                let attempt = self.reasker.attempt();
                self.opening = Some((self.reopen)(instructions, attempt));
                Ok(Some(attempt))
            }
            Err(error) => {
                self.judged = true;
                Err(error)
            }
        }
    }

    /// The accepted output, once.
    pub(crate) fn accepted(&mut self) -> Option<T> {
        self.accepted.take()
    }
}
