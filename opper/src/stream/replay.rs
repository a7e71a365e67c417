//! Serving a cache entry: a stored stream's events, handed out one by one as they were
//! recorded, for the decoder a live stream uses.

use crate::cache::StreamAnswer;

/// A stored stream being replayed.
#[derive(Debug)]
pub(crate) struct Replay {
    answer: StreamAnswer,
    next: usize,
}

impl Replay {
    /// The events of `answer`, from the first.
    pub(crate) fn new(answer: StreamAnswer) -> Self {
        Replay { answer, next: 0 }
    }

    /// The next event (its name, empty when none, and its data), without handing it out.
    pub(crate) fn peek(&self) -> Option<(&str, &str)> {
        self.answer.event(self.next)
    }

    /// Hands out the next event: its name (empty when none) and its data; `None` at the end.
    pub(crate) fn next_event(&mut self) -> Option<(&str, &str)> {
        let index = self.next;
        self.next = self.next.saturating_add(1);
        self.answer.event(index)
    }
}
