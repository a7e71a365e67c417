//! [`Agent`]: an agent put together at run time, and its run: turn after turn until one
//! answers, or the iteration limit.

use reqwest::header::HeaderValue;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::agent::events::Events;
use crate::agent::run::{AgentRun, answer, content, final_answer_output};
use crate::agent::spans::{self, Tracer};
use crate::agent::stream::AgentStream;
use crate::agent::turn;
use crate::client::Opper;
use crate::error::Error;
use crate::error::Result;
use crate::partial::Partial;
use crate::protocol::openresponses::{
    self, Item, NAME_HEADER, PARENT_SPAN_HEADER, Request, ToolSpec,
};
use crate::reask::{Policy, Reasker, Step};
use crate::response::Usage;
use crate::task::model::Model;
use crate::task::schema::schema_for;
use crate::tool::{Tool, ToolCall, json};
use crate::trace::parent::{self, SpanHandle};

/// An agent put together at run time: instructions, a model, tools and an iteration limit;
/// [`run`](Self::run) it with a client and an input.
///
/// Each turn is one streamed `POST /v3/compat/openresponses` with the run's history so far.
/// A tool starts as soon as the model has finished its arguments, while the model still
/// streams, and the tools of a turn run concurrently (at most 8 at once); the calls and their
/// outputs (the tool's JSON text, or `{"error": "..."}` for a tool's `Err`, an unknown tool, or
/// arguments that do not parse or fit) go back to the model in the next turn. A turn without
/// calls ends the run: its message is the answer, read as `T` (`String`: the text as it is;
/// any other type: its JSON, whose schema the request carries); an agent task's
/// `validate = ...` checks it too, and a rejected answer is asked again in the conversation. Nothing is spawned: dropping
/// the run's future cancels its request and its running tools. A tool that panics panics the
/// run (a panic is a bug, not an answer for the model). A run is never cached (tools have
/// effects).
///
/// A run is traced in Opper as the official client traces it: a span named after the agent
/// (its input the user's message) under the enclosing [`trace`](crate::trace) or
/// [`with_parent_span`](crate::with_parent_span), sent as `X-Opper-Parent-Span-Id` with each
/// turn; under it one span per tool call (`type: "tool"`, its input the arguments, its output
/// or error sent as the tool ends; none for an unknown tool or arguments that are not JSON),
/// and the calls a tool makes to Opper are nested under its span. The run's span ends with the
/// answer's text (any other type: its compact JSON) or the run's error, before the run
/// returns. A span that cannot be created or ended is logged and never fails the run.
///
/// ```
/// # #[cfg(feature = "testing")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> opper::Result<()> {
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// /// Add two integers.
/// #[opper::tool]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// #[derive(Debug, Deserialize, JsonSchema)]
/// struct Answer {
///     sum: i64,
/// }
///
/// let server = opper::testing::MockServer::start().await; // calls each tool once, then answers
/// let run = opper::Agent::new("adder")
///     .instructions("Add the numbers with the tool.")
///     .model("openai/gpt-4o-mini")
///     .tool(add_tool())
///     .max_iterations(5)
///     .run::<Answer>(&server.client(), "What is 2 + 3?")
///     .await?;
/// assert_eq!(run.tool_calls[0].name, "add");
/// assert_eq!(run.iterations, 2);
/// # let _ = run.output.sum;
/// # Ok(()) }
/// # #[cfg(not(feature = "testing"))]
/// # fn main() {}
/// ```
#[derive(Debug, Clone)]
pub struct Agent {
    name: String,
    instructions: String,
    model: Option<Model>,
    tools: Vec<Tool>,
    max_iterations: u32,
    temperature: Option<f64>,
    max_output_tokens: Option<u32>,
}

impl Agent {
    /// The official client's default iteration limit: 25.
    pub const DEFAULT_MAX_ITERATIONS: u32 = 25;

    /// An agent named `name` (sent as the `X-Opper-Name` header), with no instructions, no
    /// model (the service's default), no tools and at most
    /// [`DEFAULT_MAX_ITERATIONS`](Self::DEFAULT_MAX_ITERATIONS) turns.
    pub fn new(name: impl Into<String>) -> Self {
        Agent {
            name: name.into(),
            instructions: String::new(),
            model: None,
            tools: Vec::new(),
            max_iterations: Self::DEFAULT_MAX_ITERATIONS,
            temperature: None,
            max_output_tokens: None,
        }
    }

    /// What the model is told to do.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = instructions.into();
        self
    }

    /// The model: `"provider/model"`, a [`Model`] with options, or a fallback chain.
    pub fn model(mut self, model: impl Into<Model>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Adds a tool the model may call; a tool of the same name replaces it.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools
            .retain(|known| known.get_name() != tool.get_name());
        self.tools.push(tool);
        self
    }

    /// Adds tools the model may call.
    pub fn tools(self, tools: impl IntoIterator<Item = Tool>) -> Self {
        tools.into_iter().fold(self, Agent::tool)
    }

    /// The most turns that may call tools (at least 1). After the last one, a recovery turn
    /// asks for the answer; if it calls tools still, the run is [`Error::MaxIterations`].
    pub fn max_iterations(mut self, max_iterations: u32) -> Self {
        self.max_iterations = max_iterations.max(1);
        self
    }

    /// The sampling temperature.
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// The most tokens of each turn's answer (default 16,000, as the official client).
    pub fn max_output_tokens(mut self, tokens: u32) -> Self {
        self.max_output_tokens = Some(tokens);
        self
    }

    /// The agent's name.
    pub fn get_name(&self) -> &str {
        &self.name
    }

    /// The agent's tools.
    pub fn get_tools(&self) -> &[Tool] {
        &self.tools
    }

    /// Runs the agent on `input` (a string is the user's message as it is; any other value
    /// its JSON text) until it answers with a `T`.
    ///
    /// # Errors
    /// The statuses and transport failures of any call; [`Error::StreamChunk`] for an `error`
    /// event or a response that carries an error; [`Error::Incomplete`] for a stream that ends
    /// without its response; [`Error::Output`] for an answer that is not a `T`;
    /// [`Error::MaxIterations`] when the last turns still call tools; [`Error::Config`] on a
    /// client whose cache is replay-only (a run is never cached, so it would need requests).
    pub async fn run<T>(&self, client: &Opper, input: impl Serialize) -> Result<AgentRun<T>>
    where
        T: DeserializeOwned + JsonSchema,
    {
        self.run_observed(client, content(&input)?, &Policy::default(), &mut |_| {})
            .await
    }

    /// Runs the agent on `input` as [`run`](Self::run) does, as a stream of what it does:
    /// each turn's start, each tool's start and end, the model's text, and typed
    /// [`Update`](crate::Update)s of the answer read from that text; then
    /// [`AgentStream::finish`] gives the [`AgentRun`]. The first request is sent when the stream
    /// is first polled.
    ///
    /// # Errors
    /// [`Error::Input`] when `input` cannot be serialized; the run's errors come from the
    /// stream.
    pub fn stream<T>(&self, client: &Opper, input: impl Serialize) -> Result<AgentStream<T>>
    where
        T: Partial + DeserializeOwned + JsonSchema + Send + 'static,
    {
        self.stream_checked(client, input, Policy::default())
    }

    /// [`stream`](Self::stream), the answer checked by `policy`.
    pub(crate) fn stream_checked<T>(
        &self,
        client: &Opper,
        input: impl Serialize,
        policy: Policy<T>,
    ) -> Result<AgentStream<T>>
    where
        T: Partial + DeserializeOwned + JsonSchema + Send + 'static,
    {
        let content = content(&input)?;
        let (agent, client) = (self.clone(), client.clone());
        Ok(AgentStream::new(move |mut observe| {
            Box::pin(async move {
                agent
                    .run_observed(&client, content, &policy, &mut *observe)
                    .await
            })
        }))
    }

    /// [`run`](Self::run), the answer checked by `policy` (a rejected answer is asked again,
    /// see `#[opper::function(validate = ...)]`), telling `observe` what each turn does.
    pub(crate) async fn run_observed<T>(
        &self,
        client: &Opper,
        content: String,
        policy: &Policy<T>,
        observe: turn::Observer<'_>,
    ) -> Result<AgentRun<T>>
    where
        T: DeserializeOwned + JsonSchema,
    {
        if client.replays_only() {
            // A run is never cached (its tools have effects): there is nothing to replay.
            return Err(Error::config(format!(
                "agent `{}`: a replay-only cache never sends a request, and an agent's run is \
                 never cached; run agents with a client without a replay-only cache",
                self.name
            )));
        }
        let Some(open) = Tracer::start(client, &self.name, &content).await else {
            return self
                .turns(client, content, policy, None, observe)
                .await
                .map(|(run, _)| run);
        };
        let tracer = Tracer::new(client, &open);
        let turns = self.turns(client, content, policy, Some(&tracer), observe);
        let outcome = parent::in_span(tracer.run().clone(), turns).await;
        open.end(&spans::run_end(&outcome)).await;
        outcome.map(|(run, _)| run)
    }

    /// The turns of a run, traced under `tracer`'s span if there is one: the run, and the
    /// answer's JSON (the text of a text answer).
    async fn turns<T>(
        &self,
        client: &Opper,
        content: String,
        policy: &Policy<T>,
        tracer: Option<&Tracer>,
        observe: turn::Observer<'_>,
    ) -> Result<(AgentRun<T>, Value)>
    where
        T: DeserializeOwned + JsonSchema,
    {
        let text_answer = typeid::of::<T>() == typeid::of::<String>();
        let schema = (!text_answer).then(|| openresponses::inline_refs(schema_for::<T>()));
        // The official client's fallback for models that cannot take a schema and tools in one
        // request: the answer comes as the arguments of a `final_answer` tool.
        let fallback = schema.is_some()
            && !self.tools.is_empty()
            && !openresponses::takes_schema_with_tools(
                self.model.as_ref().and_then(Model::get_name),
            );
        let mut specs: Vec<ToolSpec<'_>> = self
            .tools
            .iter()
            .map(|tool| {
                ToolSpec::function(
                    tool.get_name(),
                    tool.get_description(),
                    tool.get_parameters(),
                )
            })
            .collect();
        let instructions = match fallback {
            false => self.instructions.clone(),
            true => {
                specs.push(ToolSpec::function(
                    openresponses::FINAL_ANSWER,
                    Some(openresponses::FINAL_ANSWER_DESCRIPTION),
                    schema.as_ref(),
                ));
                match self.instructions.as_str() {
                    "" => openresponses::FINAL_ANSWER_INSTRUCTIONS.to_owned(),
                    own => format!("{}\n\n{own}", openresponses::FINAL_ANSWER_INSTRUCTIONS),
                }
            }
        };
        let headers = self.headers(tracer.map(Tracer::run));
        let transport = client.transport();
        // The run in the program's own `tracing` subscriber (Opper's spans are the tracer's).
        let span = tracing::info_span!(
            "opper.agent",
            gen_ai.operation.name = "invoke_agent",
            gen_ai.agent.name = %self.name,
            attempts = tracing::field::Empty,
        );
        let mut history = vec![Item::user(content)];
        let mut usage = Usage::default();
        let mut tool_calls = Vec::new();
        // At least 1: `new` and `max_iterations` see to it.
        let max = self.max_iterations;
        let mut iteration = 1u32;
        let mut reasker = Reasker::new();
        loop {
            observe(turn::Happened::Turn(iteration));
            if let Some(message) = openresponses::turn_message(iteration, max) {
                history.push(Item::developer(message));
            }
            let body = openresponses::encode(&Request {
                input: &history,
                instructions: &instructions,
                tools: &specs,
                model: self.model.as_ref(),
                temperature: self.temperature,
                max_output_tokens: self.max_output_tokens,
                schema: schema.as_ref().filter(|_| !fallback),
            })?;
            let (response, started) = transport
                .open(&span, openresponses::PATH, body.into(), &headers)
                .await?;
            let events = Events::new(response, started, transport);
            let mut turn = turn::run(events, &self.tools, fallback, tracer, observe).await?;
            // `Usage`'s sum saturates.
            #[allow(clippy::arithmetic_side_effects)]
            {
                usage += &turn.terminal.usage;
            }
            let final_answer = turn
                .calls
                .iter()
                .position(|call| fallback && call.name == openresponses::FINAL_ANSWER)
                .map(|at| turn.calls.remove(at));
            let answered = if let Some(call) = final_answer {
                // The calls made beside it ran; the run ends with the answer (the official
                // client sends nothing back; they go back only if the answer is asked again).
                send_back(
                    &mut history,
                    &mut tool_calls,
                    std::mem::take(&mut turn.calls),
                );
                let answered = final_answer_output::<T>(&call.arguments);
                if let (Some(tracer), Ok((_, value))) = (tracer, &answered) {
                    tracer
                        .final_answer(&call.call_id, &call.arguments, value)
                        .await;
                }
                tool_calls.push(record(call));
                Some(answered)
            } else if turn.calls.is_empty() && fallback && iteration <= max {
                // Prose instead of `final_answer`: asked again (not on the recovery turn).
                history.push(Item::system(openresponses::FINAL_ANSWER_NUDGE));
                iteration = iteration.saturating_add(1);
                continue;
            } else if turn.calls.is_empty() {
                Some(answer::<T>(
                    &turn.terminal,
                    schema.is_some(),
                    self.max_output_tokens,
                ))
            } else {
                None
            };
            // An answer ends the run, or is asked again.
            if let Some(answered) = answered {
                match judge(&mut reasker, policy, answered, &span)? {
                    Ok((output, value)) => {
                        let run = AgentRun {
                            output,
                            usage,
                            iterations: iteration,
                            tool_calls,
                            response_id: turn.terminal.id,
                        };
                        return Ok((run, value));
                    }
                    Err(reask) => {
                        history.push(Item::system(&reask));
                        iteration = iteration.saturating_add(1);
                        continue;
                    }
                }
            }
            send_back(&mut history, &mut tool_calls, turn.calls);
            if iteration > max {
                return Err(Error::MaxIterations {
                    iterations: max,
                    tool_calls,
                });
            }
            iteration = iteration.saturating_add(1);
        }
    }

    /// The headers of every request of a run: the run's name, and its parent span: the run's
    /// span, or, when the run is untraced, the enclosing parent span.
    fn headers(&self, run: Option<&SpanHandle>) -> Vec<(&'static str, HeaderValue)> {
        let parent = match run {
            Some(run) => Some(std::sync::Arc::from(run.id())),
            None => crate::trace::parent::current_parent_span(),
        };
        [
            (NAME_HEADER, Some(self.name.as_str())),
            (PARENT_SPAN_HEADER, parent.as_deref()),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, HeaderValue::from_str(value?).ok()?)))
        .collect()
    }
}

/// Sends a turn's calls back to the model: each call, then their outputs (the tool's JSON text,
/// or `{"error": "..."}`), as the official client does; and keeps their records.
fn send_back(history: &mut Vec<Item>, tool_calls: &mut Vec<ToolCall>, calls: Vec<turn::Call>) {
    let mut outputs = Vec::with_capacity(calls.len());
    for call in calls {
        history.push(Item::FunctionCall {
            call_id: call.call_id.clone(),
            name: call.name.clone(),
            arguments: call.arguments.clone(),
        });
        let record = record(call);
        outputs.push(Item::FunctionCallOutput {
            call_id: record.call_id.clone(),
            output: match &record.output {
                Ok(text) => text.clone(),
                Err(message) => json::error_output(message),
            },
        });
        tool_calls.push(record);
    }
    history.extend(outputs);
}

/// Judges an answer as a task's output is judged (its type, then `validate`): `Ok` with the
/// answer and its JSON when accepted, `Err` with the message that asks again (the rejected
/// answer and why, worded as a task's re-ask), or the run's error ([`Error::Rejected`] when
/// no re-ask is left).
fn judge<T>(
    reasker: &mut Reasker,
    policy: &Policy<T>,
    answered: Result<(T, Value)>,
    span: &tracing::Span,
) -> Result<std::result::Result<(T, Value), String>> {
    let (typed, value) = match answered {
        Ok((output, value)) => (Ok(output), Some(value)),
        Err(error) => (Err(error), None),
    };
    let judged = reasker.judge(
        policy,
        None,
        typed,
        || value.clone().unwrap_or_default(),
        span,
    )?;
    Ok(match judged {
        Step::Done(output) => Ok((output, value.unwrap_or_default())),
        Step::Again(reask) => Err(reask),
    })
}

/// The record of a call of the turn.
fn record(call: turn::Call) -> ToolCall {
    ToolCall {
        name: call.name,
        call_id: call.call_id,
        input: call.arguments,
        output: call
            .output
            .unwrap_or_else(|| Err("the tool did not run".into())),
        duration: call.duration,
    }
}
