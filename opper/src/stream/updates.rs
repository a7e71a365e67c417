//! Frames -> [`Update`]s: one attempt's frames applied to its assembler (v2's deltas as they
//! are, v3's text through the text pump), and the attempt's final output.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;
use crate::error::Result;
use crate::error::truncate;
use crate::partial::{Assembler, Partial};
use crate::protocol::Frame;
use crate::reask::output::OutputText;
use crate::reask::output::deserialize_text;
use crate::response::Response;
use crate::stream::text::{TextPump, read_whole};

/// What an [`Assembly`] needs of its assembler, without naming `T::Partial` in the struct.
trait Reassemble<T> {
    fn push(&mut self, json_path: Option<&str>, delta: &Value) -> Result<Vec<String>, String>;
    fn partial(&mut self) -> Arc<T::Partial>
    where
        T: Partial;
    fn so_far(&self) -> Value;
    fn settle(&mut self) -> Result<(), String>;
    fn fingerprint(&self) -> u64;
    fn finish(self: Box<Self>) -> Result<(T, Option<String>)>;
}

impl<T: Partial + DeserializeOwned> Reassemble<T> for Assembler<T> {
    fn push(&mut self, json_path: Option<&str>, delta: &Value) -> Result<Vec<String>, String> {
        Assembler::push(self, json_path, delta)
    }

    fn partial(&mut self) -> Arc<T::Partial> {
        Assembler::partial(self)
    }

    fn so_far(&self) -> Value {
        Assembler::so_far(self)
    }

    fn settle(&mut self) -> Result<(), String> {
        Assembler::settle(self)
    }

    fn fingerprint(&self) -> u64 {
        Assembler::fingerprint(self)
    }

    fn finish(self: Box<Self>) -> Result<(T, Option<String>)> {
        Assembler::finish(*self)
    }
}

/// One step of a typed stream.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Update<T: Partial> {
    /// The chunk's `json_path` as sent (such as `response.people[0].name`); empty in text mode.
    /// On v3, whose stream is the model's JSON text, the path of the value the text reached,
    /// in v2's form (always with the `response.` prefix).
    pub json_path: String,
    /// The chunk's value: a string, number or boolean.
    pub delta: Value,
    /// The partial output after this chunk. Cheap: shared with the stream, and copied only if
    /// you still hold it when the next chunk arrives. It never shows what the output will
    /// not hold: see [`Partial`](crate::Partial#what-a-partial-shows).
    ///
    /// On [`Api::V3`](crate::Api::V3) the output is the `complete` event's `data`, which the
    /// service may change after the text: a partial then shows only what the text said so
    /// far. When `complete` arrives and the last update did not show its output whole, one
    /// more update does: `json_path` `response` (empty in text mode), `delta` `null`, no
    /// `completed`, and this partial built from the final output. The last update before
    /// [`Stream::finish`](crate::Stream::finish) therefore shows the final output, unless it
    /// cannot be shown as a partial (it does not fit `T`, and `finish` fails).
    pub partial: Arc<T::Partial>,
    /// Innermost first, every path this chunk completed by moving past it, array items and
    /// objects included, written like the previous chunk's `json_path`: a chunk for
    /// `response.people[1].name` after `response.people[0].role` completes
    /// `response.people[0].role` and `response.people[0]`. Empty while a field continues.
    pub completed: Vec<String>,
    /// Which attempt this update belongs to: 1 for the first stream, 2 for the first re-ask
    /// (whose partial starts empty again), and so on.
    pub attempt: u32,
}

/// One attempt's frames made into [`Update`]s, and its output.
pub(crate) struct Assembly<T> {
    // Behind a trait object, so that `Stream<T>` itself asks nothing of `T`: a type that is
    // not `Partial` then fails once, where a stream of it is made, not at every mention.
    assembler: Box<dyn Reassemble<T> + Send>,
    schema: Option<Arc<Value>>,
    /// v3's JSON text, read into events.
    text: TextPump,
    /// The final answer, when the stream sends one (v3 `complete`).
    complete: Option<Box<Response<OutputText>>>,
    attempt: u32,
}

impl<T> Assembly<T> {
    /// The number of the attempt whose frames are read.
    pub(crate) fn attempt(&self) -> u32 {
        self.attempt
    }
}

impl<T: Partial + DeserializeOwned + 'static> Assembly<T> {
    /// The first attempt's; `schema` is the output's (`None` in text mode).
    pub(crate) fn new(schema: Option<Arc<Value>>) -> Self {
        Self {
            assembler: Box::new(Assembler::<T>::new(schema.clone())),
            schema,
            text: TextPump::new(),
            complete: None,
            attempt: 1,
        }
    }

    /// Starts the next attempt's reading afresh (under the same attempt number until
    /// [`set_attempt`](Self::set_attempt)): the attempt that ended.
    pub(crate) fn restart(&mut self) -> Self {
        let mut fresh = Self::new(self.schema.clone());
        fresh.attempt = self.attempt;
        std::mem::replace(self, fresh)
    }

    /// The number of the attempt whose frames come next.
    pub(crate) fn set_attempt(&mut self, attempt: u32) {
        self.attempt = attempt;
    }

    /// The partial so far (the last update's).
    pub(crate) fn partial(&mut self) -> Arc<T::Partial> {
        self.assembler.partial()
    }

    /// The partial so far as JSON (for errors).
    pub(crate) fn so_far(&self) -> Value {
        self.assembler.so_far()
    }

    /// The update of the next event of the text at hand; `None` when the text is read.
    pub(crate) fn next_text(&mut self, span: &tracing::Span) -> Option<Update<T>> {
        while let Some((path, delta)) = self.text.next(span) {
            if let Some(update) = self.text_event(Some(path), delta, span) {
                return Some(update);
            }
        }
        None
    }

    /// Applies a frame: its update, if it makes one now (v3's text is handed out by
    /// [`next_text`](Self::next_text)); an error when a chunk does not fit the output.
    pub(crate) fn frame(
        &mut self,
        frame: Frame,
        span: &tracing::Span,
    ) -> Result<Option<Update<T>>> {
        let (path, delta) = match frame {
            Frame::Delta { path, value } => (path, value),
            Frame::Text(text) if self.schema.is_none() => {
                // Text mode: the text is the output.
                return Ok(self.text_event(None, Value::String(text), span));
            }
            Frame::Text(text) => {
                self.text.take(text);
                return Ok(None);
            }
            // The first is the answer (as for the raw stream's `output`).
            Frame::Complete(answer) if self.complete.is_none() => {
                // The text says nothing more: the final answer is the output.
                let silent = self.text.end();
                let update = self.settle_on(&answer, silent, span);
                self.complete = Some(answer);
                return Ok(update);
            }
            Frame::Complete(_) => return Ok(None),
            // Tool calls are the raw chunk stream's (and an agent's); not the output. A span
            // id is the stream's (`span_id()`).
            Frame::Done | Frame::ToolCall(_) | Frame::SpanId(_) => return Ok(None),
        };
        self.delta(path, delta).map(Some)
    }

    /// Applies a v2 delta at `json_path`.
    fn delta(&mut self, json_path: Option<String>, delta: Value) -> Result<Update<T>> {
        let path = json_path.as_deref();
        match self.assembler.push(path, &delta) {
            Ok(completed) => {
                let json_path = json_path.unwrap_or_default();
                Ok(self.update(json_path, delta, completed))
            }
            Err(reason) => Err(Error::InvalidChunk {
                data: format!(
                    "json_path {:?}, delta {}",
                    truncate(path.unwrap_or(""), 200),
                    truncate(&delta.to_string(), 200)
                ),
                reason,
                partial: Value::Null,
            }),
        }
    }

    /// The update showing the partial as it now is.
    fn update(&mut self, json_path: String, delta: Value, completed: Vec<String>) -> Update<T> {
        Update {
            json_path,
            delta,
            partial: self.assembler.partial(),
            completed,
            attempt: self.attempt,
        }
    }

    /// Applies a v3 text event (at `path`; in text mode, with none, a piece of the text);
    /// `None` when it silenced the updates.
    fn text_event(
        &mut self,
        path: Option<String>,
        delta: Value,
        span: &tracing::Span,
    ) -> Option<Update<T>> {
        match self.assembler.push(path.as_deref(), &delta) {
            Ok(completed) => Some(self.update(path.unwrap_or_default(), delta, completed)),
            Err(reason) => {
                self.text.silence(span, &reason);
                None
            }
        }
    }

    /// The final answer arrived: when the partial last shown is not the answer's output,
    /// whole, the partial becomes the answer's, and this is the update that shows it
    /// (`json_path` `response`, or empty in text mode, `delta` `null`). So the last update
    /// shows the final output. `None` when the last one already did, or when the answer cannot
    /// be shown as a partial (it does not fit the type, or goes over a partial's bounds:
    /// `finish` then says so, or reads it).
    fn settle_on(
        &mut self,
        answer: &Response<OutputText>,
        silent: bool,
        span: &tracing::Span,
    ) -> Option<Update<T>> {
        let shown = self.assembler.fingerprint();
        // Most often the text said just what the final answer holds (a whole document, every
        // event applied, the same events): the partial is the answer's once its last fields
        // complete, with no second partial built.
        let said_it = self.schema.is_some() && self.text.said(answer.output.text(), silent);
        if said_it && self.assembler.settle().is_ok() {
            if shown == self.assembler.fingerprint() {
                return None;
            }
            return Some(self.update("response".into(), Value::Null, Vec::new()));
        }
        // Dropped before the answer's partial is built: one partial at a time.
        self.assembler = Box::new(Assembler::<T>::new(self.schema.clone()));
        let rebuilt = self.rebuild(answer.output.text());
        if let Err(reason) = &rebuilt {
            tracing::debug!(
                parent: span,
                reason = %reason,
                "the final output cannot be shown as a partial"
            );
        }
        if rebuilt.is_err() || shown == self.assembler.fingerprint() {
            return None;
        }
        let json_path = match self.schema {
            None => String::new(),
            Some(_) => "response".into(),
        };
        Some(self.update(json_path, Value::Null, Vec::new()))
    }

    /// Builds the partial of `output` (the final answer's JSON text) in the assembler, every
    /// field complete.
    fn rebuild(&mut self, output: &str) -> Result<(), String> {
        if self.schema.is_none() {
            // Text mode: the output is the text.
            let text: String = serde_json::from_str(output).map_err(|e| e.to_string())?;
            self.assembler.push(None, &Value::String(text))?;
            return self.assembler.settle();
        }
        let assembler = &mut self.assembler;
        read_whole(output, |path, delta| {
            assembler.push(Some(path), delta).map(|_| ())
        })?;
        self.assembler.settle()
    }

    /// The attempt's output, and a way to its JSON (for a rejection; the final answer is read
    /// again only then).
    pub(crate) fn judged(self) -> (Result<T>, impl FnOnce() -> Value) {
        let Self {
            assembler,
            complete,
            ..
        } = self;
        let built = complete.is_none().then(|| assembler.so_far());
        let output = final_output(assembler, complete.as_deref());
        let json = move || match (built, complete) {
            (Some(built), _) => built,
            (None, Some(answer)) => answer.output.to_value(),
            (None, None) => Value::Null,
        };
        (output, json)
    }

    /// The attempt's output.
    pub(crate) fn output(self) -> Result<T> {
        final_output(self.assembler, self.complete.as_deref())
    }
}

/// The final output: the stream's final answer when it sent one (v3 `complete`, which the
/// service may have post-processed), read from its text straight into `T` (the partial is
/// dropped first), else what the chunks built.
fn final_output<T: Partial + DeserializeOwned>(
    assembler: Box<dyn Reassemble<T> + Send>,
    complete: Option<&Response<OutputText>>,
) -> Result<T> {
    let Some(answer) = complete else {
        return assembler.finish().map(|(output, _)| output);
    };
    drop(assembler);
    deserialize_text(answer.output.text())
}
