//! One turn of an agent: its stream read while the tools it calls run. A tool starts as soon
//! as its arguments are complete (`.done`), while the model still streams; at most
//! [`MAX_CONCURRENT_TOOLS`] run at once, the others wait their turn. Nothing is spawned: the
//! running tools are polled with the stream, in the run's own task, so dropping the run drops
//! them and the connection.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde_json::Value;

use crate::agent::events::Events;
use crate::agent::spans::{self, Ending, ToolSpan, Tracer};
use crate::client::spans::OpenSpan;
use crate::error::Error;
use crate::error::Result;
use crate::error::cut;
use crate::protocol::openresponses::{Event, Terminal};
use crate::tool::{Tool, ToolFuture, parse_arguments};

/// The most tools of one turn that run at once: 8.
pub(crate) const MAX_CONCURRENT_TOOLS: usize = 8;
/// The most calls one turn may make: 64. A turn with more ends the run with an error.
pub(crate) const MAX_CALLS_PER_TURN: usize = 64;

/// A call of the turn, in the order the model made them.
#[derive(Debug)]
pub(crate) struct Call {
    /// The stream's `output_index` of the call.
    index: u64,
    pub(super) call_id: String,
    pub(super) name: String,
    /// The arguments as streamed, at most [`Tool::MAX_ARGUMENT_BYTES`].
    pub(super) arguments: String,
    too_long: bool,
    started: bool,
    /// The output's JSON text or the error's message, once the call ended.
    pub(super) output: Option<Result<String, String>>,
    /// The call's span while the tool runs (the run is traced and the span was created).
    span: Option<OpenSpan>,
    pub(super) duration: Duration,
}

/// What a turn came to: its calls (each ended) and the terminal response.
#[derive(Debug)]
pub(super) struct Turn {
    pub(super) calls: Vec<Call>,
    pub(super) terminal: Terminal,
}

/// What a run's observer hears: a turn started, a tool started or ended, the model's text.
pub(crate) enum Happened<'a> {
    Turn(u32),
    Started(&'a Call),
    Ended(&'a Call),
    Text(&'a str),
}

/// A run's observer.
pub(crate) type Observer<'o> = &'o mut (dyn FnMut(Happened<'_>) + Send);

/// A tool whose span is being created: its slot, its call, and the span once created.
type Starting = Pin<Box<dyn Future<Output = (usize, ToolFuture, Option<OpenSpan>)> + Send>>;
/// A running tool: its slot, output and duration.
type Ended = (usize, Result<String, String>, Duration);
type Running = Pin<Box<dyn Future<Output = Ended> + Send>>;

/// The turn's state while its stream is read.
struct State<'t> {
    tools: &'t [Tool],
    /// Whether a `final_answer` call is the answer, not a tool (the fallback is on).
    final_answer: bool,
    /// The run's span, when the run is traced: each tool call gets a span under it.
    tracer: Option<&'t Tracer>,
    calls: Vec<Call>,
    queued: VecDeque<(usize, ToolFuture, Option<ToolSpan>)>,
    /// Calls whose span is being created; they count as running.
    starting: FuturesUnordered<Starting>,
    running: FuturesUnordered<Running>,
    /// The ends of the spans of the tools that ended, sent while the turn goes on.
    ending: FuturesUnordered<Ending>,
}

impl State<'_> {
    /// Starts the call at `slot`: a call that cannot run ends at once with its error.
    fn start(&mut self, slot: usize, observe: &mut (dyn FnMut(Happened<'_>) + Send)) {
        let Some(call) = self.calls.get_mut(slot) else {
            return;
        };
        if call.started {
            return;
        }
        call.started = true;
        if self.final_answer && call.name == crate::protocol::openresponses::FINAL_ANSWER {
            // The answer: its arguments are the output; nothing runs.
            call.output = Some(Ok(call.arguments.clone()));
            observe(Happened::Started(call));
            observe(Happened::Ended(call));
            return;
        }
        let tool = self.tools.iter().find(|tool| tool.get_name() == call.name);
        let failed = match tool {
            _ if call.too_long => Some(format!(
                "Tool arguments are longer than {} bytes",
                Tool::MAX_ARGUMENT_BYTES
            )),
            // The official client's words.
            None => Some(format!("Tool \"{}\" not found", call.name)),
            Some(tool) => {
                // Read once, for the call and its span; arguments that are not JSON get no
                // span (as the official client's).
                let parsed = parse_arguments(&call.arguments);
                let span = match (self.tracer, &parsed) {
                    (Some(tracer), Ok(value)) => {
                        Some(tracer.tool(&call.name, &call.arguments, value))
                    }
                    _ => None,
                };
                self.queued
                    .push_back((slot, tool.call_parsed(&call.arguments, parsed), span));
                None
            }
        };
        observe(Happened::Started(call));
        if let Some(error) = failed {
            call.output = Some(Err(error));
            observe(Happened::Ended(call));
        }
        self.fill();
    }

    /// Runs waiting calls while fewer than [`MAX_CONCURRENT_TOOLS`] run.
    fn fill(&mut self) {
        while self.starting.len().saturating_add(self.running.len()) < MAX_CONCURRENT_TOOLS {
            let Some((slot, call, span)) = self.queued.pop_front() else {
                return;
            };
            match span {
                Some(span) => self.starting.push(Box::pin(async move {
                    (slot, call, spans::start_tool(span).await)
                })),
                None => self.run(slot, call, None),
            }
        }
    }

    /// Runs the call at `slot` inside `span`, kept with the call until the tool ends.
    fn run(&mut self, slot: usize, call: ToolFuture, span: Option<OpenSpan>) {
        let handle = span.as_ref().map(|span| span.handle().clone());
        if let Some(call) = self.calls.get_mut(slot) {
            call.span = span;
        }
        self.running.push(Box::pin(async move {
            let (output, duration) = spans::timed(handle, call).await;
            (slot, output, duration)
        }));
    }

    /// Drops the tools still running and ends their spans with `error` (their ends are sent
    /// with those of the tools that ended).
    fn cancel(&mut self, error: &Error) {
        self.starting.clear();
        self.running.clear();
        self.queued.clear();
        for call in &mut self.calls {
            if let Some(open) = call.span.take() {
                let cancelled = Err(format!("cancelled: the turn failed: {error}"));
                self.ending.push(spans::end_tool(open, &cancelled));
            }
        }
    }

    fn slot(&self, index: u64) -> Option<usize> {
        self.calls.iter().rposition(|call| call.index == index)
    }

    fn event(
        &mut self,
        event: Event,
        terminal: &mut Option<Terminal>,
        observe: &mut (dyn FnMut(Happened<'_>) + Send),
    ) -> Result<()> {
        match event {
            Event::CallAdded {
                index,
                call_id,
                name,
            } => {
                if self.calls.len() >= MAX_CALLS_PER_TURN {
                    return Err(Error::InvalidChunk {
                        data: "response.output_item.added".into(),
                        reason: format!(
                            "the model called more than {MAX_CALLS_PER_TURN} tools in one turn"
                        ),
                        partial: Value::Null,
                    });
                }
                self.calls.push(Call {
                    index,
                    call_id,
                    name,
                    arguments: String::new(),
                    too_long: false,
                    started: false,
                    output: None,
                    span: None,
                    duration: Duration::ZERO,
                });
            }
            Event::ArgumentsDelta { index, delta } => {
                if let Some(call) = self.slot(index).and_then(|slot| self.calls.get_mut(slot))
                    && !call.started
                {
                    append(call, &delta);
                }
            }
            Event::ArgumentsDone { index, arguments } => {
                if let Some(slot) = self.slot(index)
                    && let Some(call) = self.calls.get_mut(slot)
                    && !call.started
                {
                    call.arguments.clear();
                    call.too_long = false;
                    append(call, &arguments);
                    self.start(slot, observe);
                }
            }
            Event::TextDelta(text) => observe(Happened::Text(&text)),
            Event::Terminal(response) => *terminal = Some(*response),
            Event::Done => {}
        }
        Ok(())
    }
}

/// Appends `text` to the call's arguments, up to [`Tool::MAX_ARGUMENT_BYTES`].
fn append(call: &mut Call, text: &str) {
    let room = Tool::MAX_ARGUMENT_BYTES.saturating_sub(call.arguments.len());
    if text.len() > room {
        call.too_long = true;
        call.arguments.push_str(&cut(text.to_owned(), room));
    } else {
        call.arguments.push_str(text);
    }
}

/// One step of the turn: an event of the stream, or a tool that ended.
enum Step {
    Event(Result<Option<Event>>),
    Started((usize, ToolFuture, Option<OpenSpan>)),
    Ended(Ended),
    Finished,
}

/// Reads the turn's stream while its tools run; `observe` hears each tool start and end and
/// the model's text. With `final_answer`, a call of that name is the answer (its arguments are
/// its output) and does not run. With `tracer`, each call that runs has a span under the run's,
/// ended as the call ends. Ends when the stream ended and every call did (and every tool span's
/// end was sent); a failed stream ends it at once: the running tools are dropped, and the
/// ends of the tools' spans are sent first (the spans of dropped tools end as cancelled).
pub(super) async fn run(
    mut events: Events,
    tools: &[Tool],
    final_answer: bool,
    tracer: Option<&Tracer>,
    observe: &mut (dyn FnMut(Happened<'_>) + Send),
) -> Result<Turn> {
    let mut state = State {
        tools,
        final_answer,
        tracer,
        calls: Vec::new(),
        queued: VecDeque::new(),
        starting: FuturesUnordered::new(),
        running: FuturesUnordered::new(),
        ending: FuturesUnordered::new(),
    };
    let turn = drive(&mut state, &mut events, observe).await;
    if let Err(error) = &turn {
        drop(events);
        state.cancel(error);
        while state.ending.next().await.is_some() {}
    }
    turn.map(|terminal| Turn {
        calls: std::mem::take(&mut state.calls),
        terminal,
    })
}

/// The turn's loop: its terminal response once the stream and every call ended.
async fn drive(
    state: &mut State<'_>,
    events: &mut Events,
    observe: &mut (dyn FnMut(Happened<'_>) + Send),
) -> Result<Terminal> {
    let mut terminal = None;
    let mut streaming = true;
    loop {
        // Borrowed whole and mutably: a shared borrow of the waiting calls would ask them to
        // be `Sync` for the run to be `Send`.
        let (starting, running) = (&mut state.starting, &mut state.running);
        let (queued, ending) = (&mut state.queued, &mut state.ending);
        let events = &mut *events;
        let step = std::future::poll_fn(move |cx| {
            // The ends of spans go out beside the rest; nothing waits for them but the turn's end.
            while let Poll::Ready(Some(())) = ending.poll_next_unpin(cx) {}
            if let Poll::Ready(Some(started)) = starting.poll_next_unpin(cx) {
                return Poll::Ready(Step::Started(started));
            }
            if let Poll::Ready(Some(ended)) = running.poll_next_unpin(cx) {
                return Poll::Ready(Step::Ended(ended));
            }
            if streaming {
                return events.poll_next(cx).map(Step::Event);
            }
            if starting.is_empty() && running.is_empty() && queued.is_empty() && ending.is_empty() {
                return Poll::Ready(Step::Finished);
            }
            Poll::Pending
        })
        .await;
        match step {
            Step::Event(Ok(Some(event))) => state.event(event, &mut terminal, observe)?,
            Step::Event(Ok(None)) => {
                streaming = false;
                let Some(response) = &terminal else {
                    return Err(Error::Incomplete {
                        reason: "the response stream closed without a completion event".into(),
                        source: None,
                        partial: Value::Null,
                    });
                };
                if let Some((code, message)) = &response.error {
                    return Err(Error::stream_chunk(code.clone(), message.clone()));
                }
                // Calls whose arguments never said `.done` run now, as the official client
                // runs them.
                for slot in 0..state.calls.len() {
                    state.start(slot, observe);
                }
            }
            Step::Event(Err(error)) => return Err(error),
            Step::Started((slot, call, span)) => state.run(slot, call, span),
            Step::Ended((slot, output, duration)) => {
                if let Some(open) = state.calls.get_mut(slot).and_then(|call| call.span.take()) {
                    state.ending.push(spans::end_tool(open, &output));
                }
                if let Some(call) = state.calls.get_mut(slot) {
                    call.output = Some(output);
                    call.duration = duration;
                    observe(Happened::Ended(call));
                }
                state.fill();
            }
            Step::Finished => return Ok(terminal.unwrap_or_default()),
        }
    }
}
