//! The typed [`Stream`]: chunks reassembled into partial updates, then the output, asked again
//! while a validator rejects it.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream as FuturesStream;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;
use crate::error::Result;
use crate::error::truncate;
use crate::partial::{Assembler, Partial};
use crate::protocol::Frame;
use crate::protocol::v3::text::{Digest, Status, TextReader};
use crate::reask::output::OutputText;
use crate::reask::output::deserialize_text;
use crate::reask::{Policy, Reasker, Step};
use crate::response::Response;
use crate::stream::chunks::ChunkStream;

/// How much of a v3 text frame is read at a time: its events wait in memory until handed out.
const TEXT_PIECE: usize = 4096;

/// Puts what a stream had assembled into an error that ended it.
fn with_partial(mut error: Error, so_far: Value) -> Error {
    match &mut error {
        Error::StreamChunk { partial, .. }
        | Error::InvalidChunk { partial, .. }
        | Error::EventTooLarge { partial, .. }
        | Error::Incomplete { partial, .. } => *partial = so_far,
        _ => {}
    }
    error
}

/// What a [`Stream`] needs of its assembler, without naming `T::Partial` in the struct.
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
    /// [`Stream::finish`] therefore shows the final output, unless it cannot be shown as a
    /// partial (it does not fit `T`, and `finish` fails).
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

/// Opens the stream of a re-ask: given its instructions and its attempt number.
pub(crate) type Reopen =
    Box<dyn FnMut(String, u32) -> Pin<Box<dyn Future<Output = Result<ChunkStream>> + Send>> + Send>;

/// What a stream whose output can be rejected needs to judge it and ask again.
pub(crate) struct Again<T> {
    policy: Policy<T>,
    original: Option<String>,
    reasker: Reasker,
    reopen: Reopen,
    opening: Option<Pin<Box<dyn Future<Output = Result<ChunkStream>> + Send>>>,
    /// The accepted output, kept for `finish()`.
    accepted: Option<T>,
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
        }
    }
}

/// A streamed call: typed partial [`Update`]s as chunks arrive, then the final output.
///
/// On [`Api::V3`](crate::Api::V3) the stream carries the model's JSON text; it is read as it
/// arrives into the same updates as v2's chunks (paths in v2's form, the same rules of what a
/// partial shows). The text is not a contract: a model may write a sentence before the JSON,
/// JSON that does not fit the output type, or a key twice; the updates then stop (the stream
/// goes on), and the final output is always the `complete` event's `data`, read straight into
/// `T`. Text after `complete` is not read, and the last update shows the final output (see
/// [`Update::partial`]). A text task's updates carry the
/// text with an empty `json_path`. A v3 stream that ends without `complete` is cut
/// ([`Error::Incomplete`], with what had arrived).
///
/// Returned by `#[opper::function]`s declared `-> opper::Result<opper::Stream<T>>` and by
/// [`CallBuilder::stream`](crate::CallBuilder::stream).
///
/// What a stream builds is bounded by what the server sent: a chunk deeper than
/// [`partial::MAX_DEPTH`](crate::partial::MAX_DEPTH), or one creating more array items than
/// the stream has paid for ([`partial::FREE_ITEMS`](crate::partial::FREE_ITEMS) plus one per
/// byte of `json_path`), ends it with [`Error::InvalidChunk`]. The whole body of a stream is
/// bounded like a call's, by
/// [`OpperBuilder::max_response_bytes`](crate::OpperBuilder::max_response_bytes): past it,
/// the stream ends with [`Error::ResponseTooLarge`] (which keeps no partial).
///
/// ```no_run
/// # #[derive(serde::Deserialize, schemars::JsonSchema, opper::Partial, Debug)]
/// # struct Team { summary: String }
/// # async fn run(mut stream: opper::Stream<Team>) -> opper::Result<()> {
/// use futures::StreamExt;
///
/// while let Some(update) = stream.next().await {
///     let update = update?;
///     println!("{} <- {}", update.json_path, update.delta);
/// }
/// let team: Team = stream.finish().await?;
/// # Ok(()) }
/// ```
pub struct Stream<T> {
    chunks: ChunkStream,
    // Behind a trait object, so that `Stream<T>` itself asks nothing of `T`: a type that is
    // not `Partial` then fails once, where a stream of it is made, not at every mention.
    assembler: Box<dyn Reassemble<T> + Send>,
    failure: Option<String>,
    schema: Option<Arc<Value>>,
    /// Reads v3's JSON text into `(json_path, delta)` events.
    reader: TextReader,
    /// The text of the last frame, read [`TEXT_PIECE`] bytes at a time as the events of the
    /// previous piece are handed out (so the events waiting stay few, however long the frame),
    /// and how far it was read.
    text: String,
    text_at: usize,
    /// Events the reader produced, not yet handed out.
    events: VecDeque<(String, Value)>,
    /// A digest of every event the reader produced (see `settle_on`).
    digest: Digest,
    /// The text stopped making updates (it was not JSON, or not the output type's).
    silent: bool,
    /// The final answer, when the stream sends one (v3 `complete`).
    complete: Option<Box<Response<OutputText>>>,
    attempt: u32,
    /// Set when the output is validated or re-asked: the stream then judges the output when
    /// its chunks end, and opens the re-ask itself.
    again: Option<Box<Again<T>>>,
    /// The output was judged (accepted, or finally rejected): nothing more comes.
    judged: bool,
}

impl<T> Unpin for Stream<T> {}

impl<T> std::fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("chunks", &self.chunks)
            .field("failure", &self.failure)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

impl<T: Partial + DeserializeOwned + 'static> Stream<T> {
    pub(crate) fn new(
        chunks: ChunkStream,
        schema: Option<Arc<Value>>,
        again: Option<Again<T>>,
    ) -> Self {
        Self {
            chunks,
            assembler: Box::new(Assembler::<T>::new(schema.clone())),
            failure: None,
            schema,
            reader: TextReader::new(),
            text: String::new(),
            text_at: 0,
            events: VecDeque::new(),
            digest: Digest::new(),
            silent: false,
            complete: None,
            attempt: 1,
            again: again.map(Box::new),
            judged: false,
        }
    }

    /// The call's span, once the service has sent it (normally from the start).
    pub fn span_id(&self) -> Option<&str> {
        self.chunks.span_id()
    }

    /// Whether this crate's [`Cache`](crate::Cache) answered the stream, from disk and without
    /// a request: known once the stream is open. Of a re-asked stream, the current attempt's.
    pub fn cache_hit(&self) -> bool {
        self.chunks.cache_hit()
    }

    /// The partial output so far, typed (the same as the last [`Update::partial`]).
    ///
    /// It stays readable after the stream failed: when `next()`
    /// gives an error (a cut connection, an error chunk, a timeout), `partial()` is what had
    /// arrived, the value whose JSON the error keeps ([`Error::partial`]), so a program can use
    /// the part it got. [`finish`](Self::finish) consumes the stream: to keep the typed
    /// partial of a failure, read the updates with `next()`.
    ///
    /// ```no_run
    /// # #[derive(serde::Deserialize, schemars::JsonSchema, opper::Partial, Debug)]
    /// # struct Team { summary: String }
    /// # async fn run(mut stream: opper::Stream<Team>) -> opper::Result<()> {
    /// use futures::StreamExt;
    ///
    /// while let Some(update) = stream.next().await {
    ///     if let Err(error) = update {
    ///         let so_far: std::sync::Arc<PartialTeam> = stream.partial();
    ///         eprintln!("{error}; the summary so far: {:?}", so_far.summary);
    ///         return Err(error);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn partial(&mut self) -> Arc<T::Partial> {
        self.assembler.partial()
    }

    /// Reads what is left of the stream and returns the final output.
    ///
    /// Arrays, maps and options the service sent nothing for are completed from the schema.
    /// Fails, keeping what had arrived as JSON ([`Error::partial`]), if the stream failed or
    /// closed before a valid `T`; for the typed partial of a failure, read with `next()` and
    /// call [`partial`](Self::partial) (`opper::Error` is one type for every output, so it
    /// holds the partial as JSON, not typed).
    pub async fn finish(mut self) -> Result<T> {
        while let Some(update) = std::future::poll_fn(|cx| Pin::new(&mut self).poll_next(cx)).await
        {
            update?;
        }
        if let Some(reason) = self.failure.take() {
            return Err(Error::Incomplete {
                reason: format!("the stream had already failed: {reason}"),
                source: None,
                partial: self.assembler.so_far(),
            });
        }
        if let Some(accepted) = self.again.as_mut().and_then(|again| again.accepted.take()) {
            return Ok(accepted);
        }
        let complete = self.complete.take();
        final_output(self.assembler, complete.as_deref())
    }

    /// Starts the next attempt's reading afresh.
    fn reset(&mut self) -> Box<dyn Reassemble<T> + Send> {
        self.reader = TextReader::new();
        self.text = String::new();
        self.text_at = 0;
        self.events.clear();
        self.digest = Digest::new();
        self.silent = false;
        let fresh = Box::new(Assembler::<T>::new(self.schema.clone()));
        std::mem::replace(&mut self.assembler, fresh)
    }

    /// Silences the updates of the text: what it says is not the output type's JSON.
    fn silence(&mut self, reason: &str) {
        tracing::debug!(
            parent: self.chunks.tracing_span(),
            reason,
            "the streamed text does not fit the output; no more partial updates"
        );
        self.silent = true;
        self.events.clear();
    }

    /// Reads the next piece of the text at hand into events; `false` when none is left.
    fn feed_text(&mut self) -> bool {
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
        let (events, digest) = (&mut self.events, &mut self.digest);
        let read = self.reader.push(piece, |path, delta| {
            digest.event(path, &delta);
            events.push_back((path.to_owned(), delta));
        });
        self.text_at = end;
        if let Err(error) = read {
            // What the text said before the bound is handed out; nothing after.
            tracing::debug!(
                parent: self.chunks.tracing_span(),
                error = %error,
                "the streamed text went over a bound; no more partial updates"
            );
            self.silent = true;
        }
        true
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
    fn text_event(&mut self, path: Option<String>, delta: Value) -> Option<Update<T>> {
        match self.assembler.push(path.as_deref(), &delta) {
            Ok(completed) => Some(self.update(path.unwrap_or_default(), delta, completed)),
            Err(reason) => {
                self.silence(&reason);
                None
            }
        }
    }

    /// The chunks ended: judges the output. `None`: accepted (kept for `finish`); an error: the
    /// final rejection; else a re-ask is being opened.
    fn judge(&mut self) -> Option<Result<()>> {
        self.again.as_ref()?;
        let assembler = self.reset();
        let complete = self.complete.take();
        // What was built, for a rejection (the final answer is read again only then).
        let built = complete.is_none().then(|| assembler.so_far());
        let output = final_output(assembler, complete.as_deref());
        let json = move || match (built, complete) {
            (Some(built), _) => built,
            (None, Some(answer)) => answer.output.to_value(),
            (None, None) => Value::Null,
        };
        let span = self.chunks.tracing_span().clone();
        let again = self.again.as_mut()?;
        match again.reasker.judge(
            &again.policy,
            again.original.as_deref(),
            output,
            json,
            &span,
        ) {
            Ok(Step::Done(output)) => {
                self.chunks.commit_recording();
                again.accepted = Some(output);
                self.judged = true;
                None
            }
            Ok(Step::Again(instructions)) => {
                self.attempt = again.reasker.attempt();
                again.opening = Some((again.reopen)(instructions, self.attempt));
                Some(Ok(()))
            }
            Err(error) => {
                self.judged = true;
                Some(Err(error))
            }
        }
    }

    /// The final answer arrived: when the partial last shown is not the answer's output,
    /// whole, the partial becomes the answer's, and this is the update that shows it
    /// (`json_path` `response`, or empty in text mode, `delta` `null`). So the last update
    /// shows the final output. `None` when the last one already did, or when the answer cannot
    /// be shown as a partial (it does not fit the type, or goes over a partial's bounds:
    /// `finish` then says so, or reads it).
    fn settle_on(&mut self, answer: &Response<OutputText>, silent: bool) -> Option<Update<T>> {
        let shown = self.assembler.fingerprint();
        // Most often the text said just what the final answer holds (a whole document, every
        // event applied, the same events): the partial is the answer's once its last fields
        // complete, with no second partial built.
        let said_it = self.schema.is_some()
            && !silent
            && self.reader.status() == Status::Complete
            && Digest::of_text(answer.output.text()) == Some(self.digest.value());
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
                parent: self.chunks.tracing_span(),
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
        let mut reader = TextReader::new();
        let mut failed = None;
        let assembler = &mut self.assembler;
        let mut apply = |path: &str, delta: Value| {
            if failed.is_none()
                && let Err(reason) = assembler.push(Some(path), &delta)
            {
                failed = Some(reason);
            }
        };
        let read = reader.push(output, &mut apply);
        let whole = reader.finish(&mut apply);
        if let Some(reason) = failed {
            return Err(reason);
        }
        read.map_err(|e| e.to_string())?;
        if !whole {
            return Err(format!("the reader stopped: {:?}", reader.status()));
        }
        self.assembler.settle()
    }

    fn fail(&mut self, error: Error) -> Error {
        let error = with_partial(error, self.assembler.so_far());
        self.failure = Some(error.to_string());
        error
    }
}

impl<T: Partial + DeserializeOwned + 'static> FuturesStream for Stream<T> {
    type Item = Result<Update<T>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.judged || (this.again.is_some() && this.failure.is_some()) {
                // An accepted answer's cache entry is written before the end is seen.
                return this.chunks.poll_written(cx).map(|()| None);
            }
            if let Some(opening) = this.again.as_mut().and_then(|again| again.opening.as_mut()) {
                let opened = match opening.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(opened) => opened,
                };
                if let Some(again) = this.again.as_mut() {
                    again.opening = None;
                }
                match opened {
                    Ok(mut chunks) => {
                        // The accepted answer is stored under the request the caller made.
                        if let Some(store) = this.chunks.take_store() {
                            chunks.record_into(store);
                            chunks.hold_recording();
                        }
                        this.chunks = chunks;
                    }
                    Err(error) => {
                        this.judged = true;
                        return Poll::Ready(Some(Err(this.fail(error))));
                    }
                }
            }
            if let Some((path, delta)) = this.events.pop_front() {
                match this.text_event(Some(path), delta) {
                    Some(update) => return Poll::Ready(Some(Ok(update))),
                    None => continue,
                }
            }
            if this.feed_text() {
                continue;
            }
            let frame = match this.chunks.poll_step(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => match this.judge() {
                    None => return this.chunks.poll_written(cx).map(|()| None),
                    Some(Ok(())) => continue,
                    Some(Err(error)) => return Poll::Ready(Some(Err(this.fail(error)))),
                },
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(this.fail(error)))),
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            let (path, delta) = match frame {
                Frame::Delta { path, value } => (path, value),
                Frame::Text(text) if this.schema.is_none() => {
                    // Text mode: the text is the output.
                    match this.text_event(None, Value::String(text)) {
                        Some(update) => return Poll::Ready(Some(Ok(update))),
                        None => continue,
                    }
                }
                Frame::Text(text) => {
                    if !this.silent {
                        (this.text, this.text_at) = (text, 0);
                    }
                    continue;
                }
                // The first is the answer (as for the raw stream's `output`).
                Frame::Complete(answer) if this.complete.is_none() => {
                    // The text says nothing more: the final answer is the output.
                    let silent = std::mem::replace(&mut this.silent, true);
                    (this.text, this.text_at) = (String::new(), 0);
                    let update = this.settle_on(&answer, silent);
                    this.complete = Some(answer);
                    match update {
                        Some(update) => return Poll::Ready(Some(Ok(update))),
                        None => continue,
                    }
                }
                Frame::Complete(_) => continue,
                // Tool calls are the raw chunk stream's (and an agent's); not the output. A span
                // id is the stream's (`span_id()`).
                Frame::Done | Frame::ToolCall(_) | Frame::SpanId(_) => continue,
            };
            match this.assembler.push(path.as_deref(), &delta) {
                Ok(completed) => {
                    let json_path = path.unwrap_or_default();
                    return Poll::Ready(Some(Ok(this.update(json_path, delta, completed))));
                }
                Err(reason) => {
                    let error = Error::InvalidChunk {
                        data: format!(
                            "json_path {:?}, delta {}",
                            truncate(path.as_deref().unwrap_or(""), 200),
                            truncate(&delta.to_string(), 200)
                        ),
                        reason,
                        partial: Value::Null,
                    };
                    this.chunks.end(Some(&error));
                    return Poll::Ready(Some(Err(this.fail(error))));
                }
            }
        }
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
