//! [`AgentStream`]: an agent's run as a stream of what it does, with typed partials of its
//! answer read from the model's text as a v3 stream reads it (the same reader and assembler,
//! so the same honesty rules).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream as FuturesStream;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::agent::run::AgentRun;
use crate::agent::turn::Happened;
use crate::error::Error;
use crate::error::Result;
use crate::partial::Partial;
use crate::protocol::Frame;
use crate::stream::updates::Assembly;
use crate::stream::updates::Update;
use crate::task::schema::schema_for;

/// What an agent does, as an [`AgentStream`] tells it.
#[derive(Debug)]
#[non_exhaustive]
pub enum AgentEvent<T: Partial> {
    /// A turn starts: its request is about to be sent (from 1).
    Turn {
        /// The turn's number.
        iteration: u32,
    },
    /// A tool starts (also a call that cannot run: it ends at once with its error).
    ToolStart {
        /// The tool's name, as the model called it.
        name: String,
        /// The call's id.
        call_id: String,
        /// The arguments' JSON text, as the model wrote them.
        input: String,
    },
    /// A tool ended.
    ToolEnd {
        /// The tool's name.
        name: String,
        /// The call's id.
        call_id: String,
        /// The arguments' JSON text.
        input: String,
        /// The output's JSON text, or the error's message (see
        /// [`ToolCall::output`](crate::ToolCall::output)).
        output: std::result::Result<String, String>,
        /// How long it ran.
        duration: Duration,
    },
    /// A piece of the model's text in this turn.
    Text(String),
    /// A typed update of the answer, read from this turn's text; its `attempt` is the turn's
    /// number (a turn that then calls tools was not the answer: the next turn starts afresh).
    Update(Update<T>),
}

pub(super) type Run<T> = Pin<Box<dyn Future<Output = Result<AgentRun<T>>> + Send>>;

/// An agent's run as a stream of [`AgentEvent`]s; [`finish`](Self::finish) gives the
/// [`AgentRun`]. From [`Agent::stream`](crate::Agent::stream).
///
/// Nothing is spawned: the run advances only while the stream is polled, and dropping the
/// stream cancels its request and its running tools. What a poll of the run produces waits in
/// the stream until it is read (at most what one turn's response holds).
///
/// ```
/// # #[cfg(feature = "testing")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> opper::Result<()> {
/// use futures::StreamExt;
/// use opper::AgentEvent;
///
/// #[derive(Debug, serde::Deserialize, schemars::JsonSchema, opper::Partial)]
/// struct Answer {
///     sum: i64,
/// }
///
/// /// Add two integers.
/// #[opper::tool]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// let server = opper::testing::MockServer::start().await;
/// let agent = opper::Agent::new("adder").tool(add_tool());
/// let mut run = agent.stream::<Answer>(&server.client(), "2 + 3?")?;
/// while let Some(event) = run.next().await {
///     match event? {
///         AgentEvent::ToolStart { name, input, .. } => println!("-> {name}({input})"),
///         AgentEvent::ToolEnd { name, output, .. } => println!("<- {name}: {output:?}"),
///         AgentEvent::Update(update) => println!("{} <- {}", update.json_path, update.delta),
///         _ => {}
///     }
/// }
/// let run = run.finish().await?;
/// assert_eq!(run.tool_calls.len(), 1);
/// # Ok(()) }
/// # #[cfg(not(feature = "testing"))]
/// # fn main() {}
/// ```
pub struct AgentStream<T: Partial> {
    run: Option<Run<T>>,
    /// What the run's observer heard, as events (owned copies), not yet read by the stream.
    heard: Arc<Mutex<VecDeque<AgentEvent<T>>>>,
    ready: VecDeque<AgentEvent<T>>,
    outcome: Option<AgentRun<T>>,
    /// The run's error, handed out after what the run did before it.
    error: Option<Error>,
    failure: Option<String>,
    /// The current turn's text made into typed updates, as a typed stream makes v3's (the
    /// turn is the update's `attempt`).
    assembly: Assembly<T>,
}

impl<T: Partial> Unpin for AgentStream<T> {}

impl<T: Partial> std::fmt::Debug for AgentStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentStream")
            .field("iteration", &self.assembly.attempt())
            .field("failure", &self.failure)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<T> AgentStream<T>
where
    T: Partial + DeserializeOwned + JsonSchema + Send + 'static,
{
    /// The stream of the run `start` makes, given the observer that tells the stream what the
    /// run does.
    pub(super) fn new(start: impl FnOnce(Box<dyn FnMut(Happened<'_>) + Send>) -> Run<T>) -> Self {
        let heard = Arc::new(Mutex::new(VecDeque::new()));
        let sink = heard.clone();
        let observe = move |happened: Happened<'_>| {
            let heard = match happened {
                Happened::Turn(iteration) => AgentEvent::Turn { iteration },
                Happened::Started(call) => AgentEvent::ToolStart {
                    name: call.name.clone(),
                    call_id: call.call_id.clone(),
                    input: call.arguments.clone(),
                },
                Happened::Ended(call) => AgentEvent::ToolEnd {
                    name: call.name.clone(),
                    call_id: call.call_id.clone(),
                    input: call.arguments.clone(),
                    output: call.output.clone().unwrap_or_else(|| Err(String::new())),
                    duration: call.duration,
                },
                Happened::Text(text) => AgentEvent::Text(text.to_owned()),
            };
            lock(&sink).push_back(heard);
        };
        let run = start(Box::new(observe));
        let text_answer = typeid::of::<T>() == typeid::of::<String>();
        let schema = (!text_answer).then(|| Arc::new(schema_for::<T>()));
        AgentStream {
            run: Some(run),
            heard,
            ready: VecDeque::new(),
            outcome: None,
            error: None,
            failure: None,
            assembly: Assembly::new(schema),
        }
    }

    /// Reads what is left of the run and returns it.
    ///
    /// # Errors
    /// The run's error; if the stream already handed it out, [`Error::Incomplete`] saying so.
    pub async fn finish(mut self) -> Result<AgentRun<T>> {
        while let Some(event) = std::future::poll_fn(|cx| Pin::new(&mut self).poll_next(cx)).await {
            event?;
        }
        match (self.outcome.take(), self.failure.take()) {
            (Some(run), _) => Ok(run),
            (None, reason) => Err(Error::Incomplete {
                reason: format!("the run had already failed: {}", reason.unwrap_or_default()),
                source: None,
                partial: Value::Null,
            }),
        }
    }

    /// Passes on an event the run's observer heard: a turn restarts the typed updates, a piece
    /// of text comes after the updates it makes.
    fn hear(&mut self, heard: AgentEvent<T>) {
        match &heard {
            AgentEvent::Turn { iteration } => {
                drop(self.assembly.restart());
                self.assembly.set_attempt(*iteration);
            }
            AgentEvent::Text(text) => self.updates(text),
            _ => {}
        }
        self.ready.push_back(heard);
    }

    /// The typed updates a piece of the text makes, before the text itself: none once the
    /// text is not the answer's JSON, until the next turn.
    fn updates(&mut self, text: &str) {
        let span = tracing::Span::current();
        // Only a v2 delta can be an error: a text frame is not.
        if let Ok(Some(update)) = self.assembly.frame(Frame::Text(text.to_owned()), &span) {
            self.ready.push_back(AgentEvent::Update(update));
        }
        while let Some(update) = self.assembly.next_text(&span) {
            self.ready.push_back(AgentEvent::Update(update));
        }
    }
}

impl<T> FuturesStream for AgentStream<T>
where
    T: Partial + DeserializeOwned + JsonSchema + Send + 'static,
{
    type Item = Result<AgentEvent<T>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(event) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(event)));
            }
            let heard = lock(&this.heard).pop_front();
            if let Some(heard) = heard {
                this.hear(heard);
                continue;
            }
            if let Some(error) = this.error.take() {
                return Poll::Ready(Some(Err(error)));
            }
            let Some(run) = this.run.as_mut() else {
                return Poll::Ready(None);
            };
            match run.as_mut().poll(cx) {
                Poll::Pending => {
                    if lock(&this.heard).is_empty() {
                        return Poll::Pending;
                    }
                }
                Poll::Ready(outcome) => {
                    this.run = None;
                    match outcome {
                        Ok(run) => this.outcome = Some(run),
                        Err(error) => {
                            this.failure = Some(error.to_string());
                            this.error = Some(error);
                        }
                    }
                }
            }
        }
    }
}
