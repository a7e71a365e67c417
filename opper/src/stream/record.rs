//! Recording for the cache: a stream's events kept as they arrived (each event's data text,
//! and its name when not SSE's default), within the stream's byte limit, and stored once the
//! stream ends cleanly (or, held, once its consumer accepts the answer).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::cache::{Recorded, Store, StreamAnswer, Writing};

/// The recording of a stream, if the cache is to store it, and the entry being written once it
/// ended: the stream's end waits for it.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    recording: Option<Recording>,
    writing: Option<Writing>,
}

/// A stream's events so far, and where to store them once it ends cleanly.
#[derive(Debug)]
struct Recording {
    store: Store<StreamAnswer>,
    /// The entry's items so far ([`Recorded`], one after another): its capacity is what the
    /// recording holds, never more than `limit`.
    list: String,
    /// The stream's `max_bytes`: the most the recording may hold.
    limit: usize,
    /// Whether the consumer commits (see [`Recorder::hold`]).
    held: bool,
    /// Whether the stream ended cleanly.
    ended: bool,
    /// The stream's tracing span, for what is logged.
    span: tracing::Span,
}

/// Where the list stood before an event was added: [`Recorder::undo`] takes it out again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark(Option<usize>);

impl Recorder {
    /// Records every event from now on, holding at most `limit` bytes, for `store` to keep
    /// once the stream ends cleanly.
    pub(crate) fn start(&mut self, store: Store<StreamAnswer>, limit: usize, span: tracing::Span) {
        self.recording = Some(Recording {
            store,
            list: String::new(),
            limit,
            held: false,
            ended: false,
            span,
        });
    }

    /// Whether a recording is under way (the cache is to store this stream).
    pub(crate) fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// Gives up the recording, handing back where it was to be stored.
    pub(crate) fn take_store(&mut self) -> Option<Store<StreamAnswer>> {
        self.recording.take().map(|recording| recording.store)
    }

    /// Keeps the recording past the stream's clean end, until [`commit`](Self::commit).
    pub(crate) fn hold(&mut self) {
        if let Some(recording) = &mut self.recording {
            recording.held = true;
        }
    }

    /// Stores a held recording, if the stream ended cleanly.
    pub(crate) fn commit(&mut self) {
        if self.recording.as_ref().is_some_and(|r| r.ended)
            && let Some(recording) = self.recording.take()
        {
            self.writing = Some(recording.store.stream(recording.list));
        }
    }

    /// The stream ended, `clean` or not: a clean end stores the recording (unless held); a
    /// failed stream stores nothing.
    pub(crate) fn end(&mut self, clean: bool) {
        match (clean, self.recording.take()) {
            (true, Some(recording)) if !recording.held => {
                self.writing = Some(recording.store.stream(recording.list));
            }
            (true, Some(mut recording)) => {
                recording.ended = true;
                self.recording = Some(recording);
            }
            // One dropped before its end never gets here.
            (false, _) | (true, None) => {}
        }
    }

    /// Ready once the entry being written, if any, is written.
    pub(crate) fn poll_written(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(writing) = &mut self.writing {
            if Pin::new(writing).poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.writing = None;
        }
        Poll::Ready(())
    }

    /// Adds an event as it arrived (`event`: its name, empty when none), before it is decoded:
    /// [`undo`](Self::undo) with the mark takes it out if it carries nothing. A recording that
    /// would hold more than its limit (the list's capacity) is given up: the answer is not
    /// stored, and recording never holds more than the limit, whatever the events.
    pub(crate) fn add(&mut self, event: &str, data: &str) -> Mark {
        let Some(recording) = &mut self.recording else {
            return Mark(None);
        };
        let item = Recorded::of(event, data);
        let list = &mut recording.list;
        let mark = list.len();
        let needed = mark.saturating_add(item.len_after(list));
        if needed > recording.limit {
            tracing::debug!(
                parent: &recording.span,
                limit = recording.limit,
                "the stream is too large to be cached"
            );
            self.recording = None;
            return Mark(None);
        }
        // Grown here, by doubling up to the limit, so that what it holds is known.
        if needed > list.capacity() {
            let grown = list.capacity().saturating_mul(2).max(needed).max(1024);
            list.reserve_exact(grown.min(recording.limit).saturating_sub(mark));
        }
        item.push_to(list);
        Mark(Some(mark))
    }

    /// Takes out the event added at `mark` (it carried nothing the stream uses).
    pub(crate) fn undo(&mut self, mark: Mark) {
        if let (Some(recording), Mark(Some(mark))) = (&mut self.recording, mark) {
            recording.list.truncate(mark);
        }
    }
}
