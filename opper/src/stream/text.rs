//! The v3 text pump: a v3 stream's JSON text, frame by frame, read into `(json_path, delta)`
//! events a piece at a time, so that the events waiting stay few however long a frame is.

use std::collections::VecDeque;

use serde_json::Value;

use crate::protocol::v3::text::{Digest, Fold, Status, TextReader};

/// How much of a v3 text frame is read at a time: its events wait in memory until handed out.
const TEXT_PIECE: usize = 4096;

/// Reads v3's JSON text into events, and remembers what they said (for `said`).
#[derive(Debug)]
pub(crate) struct TextPump {
    /// Reads v3's JSON text into `(json_path, delta)` events.
    reader: TextReader,
    /// The text of the last frame, read [`TEXT_PIECE`] bytes at a time as the events of the
    /// previous piece are handed out (so the events waiting stay few, however long the frame),
    /// and how far it was read.
    text: String,
    text_at: usize,
    /// Events the reader produced, not yet handed out.
    events: VecDeque<(String, Value)>,
    /// A digest of every event the reader produced, and a hash of the text it read (see
    /// `said`).
    digest: Digest,
    read: Fold,
    /// The text stopped making updates (it was not JSON, or not the output type's).
    silent: bool,
}

impl TextPump {
    /// A pump at the start of an attempt's text.
    pub(crate) fn new() -> Self {
        Self {
            reader: TextReader::new(),
            text: String::new(),
            text_at: 0,
            events: VecDeque::new(),
            digest: Digest::new(),
            read: Fold::new(),
            silent: false,
        }
    }

    /// A text frame arrived: it is read once the events before it are handed out (not at
    /// all once the pump is silent).
    pub(crate) fn take(&mut self, text: String) {
        if !self.silent {
            (self.text, self.text_at) = (text, 0);
        }
    }

    /// The next event read, reading the next piece of the text when none waits; `None` when
    /// the text at hand is read.
    pub(crate) fn next(&mut self, span: &tracing::Span) -> Option<(String, Value)> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event);
            }
            if !self.feed(span) {
                return None;
            }
        }
    }

    /// Reads the next piece of the text at hand into events; `false` when none is left.
    fn feed(&mut self, span: &tracing::Span) -> bool {
        if self.text_at >= self.text.len() {
            return false;
        }
        if self.silent {
            self.text = String::new();
            self.text_at = 0;
            return false;
        }
        let mut end = self.text_at.saturating_add(TEXT_PIECE).min(self.text.len());
        // `text_at` is a boundary and a piece is longer than any character: this stops past it.
        while !self.text.is_char_boundary(end) {
            end = end.saturating_sub(1);
        }
        let piece = self.text.get(self.text_at..end).unwrap_or_default();
        self.read.write(piece.as_bytes());
        let (events, digest) = (&mut self.events, &mut self.digest);
        let read = self.reader.push(piece, |path, delta| {
            digest.event(path, &delta);
            events.push_back((path.to_owned(), delta));
        });
        self.text_at = end;
        if let Err(error) = read {
            // What the text said before the bound is handed out; nothing after.
            tracing::debug!(
                parent: span,
                error = %error,
                "the streamed text went over a bound; no more partial updates"
            );
            self.silent = true;
        }
        true
    }

    /// Silences the updates of the text: what it says is not the output type's JSON.
    pub(crate) fn silence(&mut self, span: &tracing::Span, reason: &str) {
        tracing::debug!(
            parent: span,
            reason,
            "the streamed text does not fit the output; no more partial updates"
        );
        self.silent = true;
        self.events.clear();
    }

    /// The final answer arrived: the text says nothing more. Whether it had been silenced.
    pub(crate) fn end(&mut self) -> bool {
        (self.text, self.text_at) = (String::new(), 0);
        std::mem::replace(&mut self.silent, true)
    }

    /// Whether the text, not silenced before its end (`was_silent`), said just what `output`
    /// (the final answer's JSON text) holds: a whole document, the same events. Most often
    /// the text is the answer's, byte for byte: then it is not read again.
    pub(crate) fn said(&self, output: &str, was_silent: bool) -> bool {
        !was_silent
            && self.reader.status() == Status::Complete
            && (Fold::of(output.as_bytes()) == self.read.value()
                || Digest::of_text(output) == Some(self.digest.value()))
    }
}

/// Reads `output`, a whole JSON text, into `apply(json_path, delta)`: the first error `apply`
/// gives, or why the text is not a whole document.
pub(crate) fn read_whole(
    output: &str,
    mut apply: impl FnMut(&str, &Value) -> Result<(), String>,
) -> Result<(), String> {
    let mut reader = TextReader::new();
    let mut failed = None;
    let mut event = |path: &str, delta: Value| {
        if failed.is_none()
            && let Err(reason) = apply(path, &delta)
        {
            failed = Some(reason);
        }
    };
    let read = reader.push(output, &mut event);
    let whole = reader.finish(&mut event);
    if let Some(reason) = failed {
        return Err(reason);
    }
    read.map_err(|e| e.to_string())?;
    if !whole {
        return Err(format!("the reader stopped: {:?}", reader.status()));
    }
    Ok(())
}
