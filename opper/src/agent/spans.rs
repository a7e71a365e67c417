//! An agent's run in Opper's traces, as the official client traces it (`opperai` 2.1.1
//! `Agent.run`, `agent/_tracing.py`): a span for the run (a child of the enclosing trace, or of
//! the parent named by `with_parent_span`), one span per tool call under it (`type: "tool"`,
//! `tags: {"tool": true}`), a `final_answer` span in the fallback, each ended with its output
//! or its error. The bodies are built here; [`OpenSpan`] sends them and never fails the run.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::client::Opper;
use crate::client::spans::OpenSpan;
use crate::error::Result;
use crate::protocol::spans::{SpanEnd, SpanStart};
use crate::tool::json;
use crate::trace::parent::{self, SpanHandle};

/// The run's span, and what its turns need to trace their tool calls under it.
#[derive(Debug, Clone)]
pub(super) struct Tracer {
    client: Opper,
    run: SpanHandle,
}

/// The span a call of the tool `name` with `arguments` (read as `parsed`) starts under the
/// run's span `run`: its input is the arguments as the official client writes them
/// (`json.dumps` of what they parse to: `{"city": "Paris"}`).
fn tool_start(run: &SpanHandle, name: &str, arguments: &str, parsed: &Value) -> SpanStart {
    SpanStart {
        trace_id: Some(run.trace_id().to_owned()),
        parent_id: Some(run.id().to_owned()),
        kind: Some("tool".into()),
        input: Some(json::output(parsed).unwrap_or_else(|_| arguments.to_owned())),
        tags: Some(Map::from_iter([("tool".to_owned(), Value::Bool(true))])),
        ..SpanStart::now(name)
    }
}

/// Creates a tool call's span (`None` when it cannot be created: logged, and the tool runs
/// untraced).
pub(super) async fn start_tool((client, start): ToolSpan) -> Option<OpenSpan> {
    OpenSpan::start(&client, &start).await
}

/// Runs a tool's `call`, timed, inside the span `span` if there is one (the calls the tool
/// makes are nested under it): the output and how long the tool ran.
pub(super) async fn timed<F: Future>(span: Option<SpanHandle>, call: F) -> (F::Output, Duration) {
    let started = Instant::now();
    let output = match span {
        Some(span) => parent::in_span(span, call).await,
        None => call.await,
    };
    (output, started.elapsed())
}

/// A tool call's span to create, with the client to create it with.
pub(super) type ToolSpan = (Opper, SpanStart);

/// The end of a tool's span, sent while the turn goes on.
pub(super) type Ending = Pin<Box<dyn Future<Output = ()> + Send>>;

impl Tracer {
    /// Starts the span of the run of the agent `name` on the user's message `content`, under
    /// the enclosing scope's span: `None` when it could not be created (logged) or the client
    /// only replays a cache. The run then goes on untraced.
    pub(super) async fn start(client: &Opper, name: &str, content: &str) -> Option<OpenSpan> {
        let start = SpanStart {
            input: Some(content.to_owned()),
            ..SpanStart::in_scope(name)
        };
        OpenSpan::start(client, &start).await
    }

    /// The tracer of the run whose span is `run`.
    pub(super) fn new(client: &Opper, run: &OpenSpan) -> Self {
        Tracer {
            client: client.clone(),
            run: run.handle().clone(),
        }
    }

    /// The run's span.
    pub(super) fn run(&self) -> &SpanHandle {
        &self.run
    }

    /// The span of a tool call with `arguments` (read as `parsed`) under the run's (see
    /// [`tool_start`]).
    pub(super) fn tool(&self, name: &str, arguments: &str, parsed: &Value) -> ToolSpan {
        (
            self.client.clone(),
            tool_start(&self.run, name, arguments, parsed),
        )
    }

    /// The `final_answer` call `call_id` with `arguments` as a span, created and ended at
    /// once (it has no duration): its output the answer as the official client writes it.
    pub(super) async fn final_answer(&self, call_id: &str, arguments: &str, output: &Value) {
        let start = SpanStart {
            trace_id: Some(self.run.trace_id().to_owned()),
            parent_id: Some(self.run.id().to_owned()),
            kind: Some("tool".into()),
            input: Some(arguments.to_owned()),
            tags: Some(Map::from_iter([
                ("tool".to_owned(), Value::Bool(true)),
                ("final_answer".to_owned(), Value::Bool(true)),
                ("call_id".to_owned(), Value::String(call_id.to_owned())),
            ])),
            ..SpanStart::now(crate::protocol::openresponses::FINAL_ANSWER)
        };
        if let Some(open) = OpenSpan::start(&self.client, &start).await {
            let end = SpanEnd {
                output: Some(text(output, true)),
                error: None,
                end_time: start.start_time.clone(),
            };
            open.end(&end).await;
        }
    }
}

/// Ends a tool's span `open` with the call's `output`, as a future the turn polls beside its
/// stream (nothing is spawned).
pub(super) fn end_tool(open: OpenSpan, output: &std::result::Result<String, String>) -> Ending {
    let end = tool_end(output);
    Box::pin(async move { open.end(&end).await })
}

/// The end of a tool's span: its output as text (a string output unquoted, as the official
/// client's `to_text`), or its error.
fn tool_end(output: &std::result::Result<String, String>) -> SpanEnd {
    match output {
        Ok(output) => SpanEnd {
            output: Some(serde_json::from_str::<String>(output).unwrap_or_else(|_| output.clone())),
            ..SpanEnd::now(None)
        },
        Err(error) => SpanEnd::now(Some(error.clone())),
    }
}

/// The end of the run's span: the answer as text (a text answer as it is, any other its
/// compact JSON), or the run's error.
pub(super) fn run_end<R>(outcome: &Result<(R, Value)>) -> SpanEnd {
    match outcome {
        Ok((_, output)) => SpanEnd {
            output: Some(text(output, false)),
            ..SpanEnd::now(None)
        },
        Err(error) => SpanEnd::now(Some(error.to_string())),
    }
}

/// `value` as a span's text: a string as it is, anything else its JSON (`python`: written as
/// Python's `json.dumps`, else compact).
fn text(value: &Value, python: bool) -> String {
    match value {
        Value::String(text) => text.clone(),
        other if python => json::output(other).unwrap_or_else(|_| other.to_string()),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool::parse_arguments;

    #[test]
    fn a_tool_span_reads_its_arguments_as_the_official_client_writes_them() {
        let run = SpanHandle::new("run", "trace");
        let span = |arguments: &str| {
            let parsed = parse_arguments(arguments).ok()?;
            Some(tool_start(&run, "add", arguments, &parsed))
        };
        let start = span(r#"{"a":2,"b":"é"}"#).unwrap();
        assert_eq!(start.input.as_deref(), Some(r#"{"a": 2, "b": "\u00e9"}"#));
        assert_eq!(
            (start.parent_id.as_deref(), start.trace_id.as_deref()),
            (Some("run"), Some("trace"))
        );
        assert_eq!(start.kind.as_deref(), Some("tool"));
        assert_eq!(span("  ").unwrap().input.as_deref(), Some("{}"));
        // Arguments that are not JSON: no span.
        assert!(span(r#"{"a":"#).is_none());
    }

    #[test]
    fn outputs_are_text_and_errors_are_errors() {
        let end = tool_end(&Ok(r#""sunny""#.into()));
        assert_eq!((end.output.as_deref(), end.error), (Some("sunny"), None));
        assert_eq!(tool_end(&Ok("5".into())).output.as_deref(), Some("5"));
        let end = tool_end(&Err("boom".into()));
        assert_eq!((end.output, end.error.as_deref()), (None, Some("boom")));
        let answer = serde_json::json!({"summary": "é", "n": [1, 2]});
        let end = run_end(&Ok(((), answer.clone())));
        assert_eq!(end.output.as_deref(), Some(r#"{"summary":"é","n":[1,2]}"#));
        assert_eq!(text(&answer, true), r#"{"summary": "\u00e9", "n": [1, 2]}"#);
        assert_eq!(
            run_end(&Ok(((), Value::String("hi".into()))))
                .output
                .as_deref(),
            Some("hi")
        );
        let failed = run_end::<()>(&Err(crate::error::Error::config("no")));
        assert!(failed.output.is_none() && failed.error.is_some());
    }
}
