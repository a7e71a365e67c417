//! Every form of `#[opper::tool]`: sync and async, owned and borrowed parameters, `Option`s,
//! plain and `Result` returns (a `String` error included), no parameters, no return type,
//! `name = ...`, and names that clash with the expansion's locals.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Point {
    x: i64,
    y: i64,
}

/// Add two integers.
#[opper::tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Borrowed parameters.
#[opper::tool]
async fn describe(
    /// A name
    name: &str,
    tags: &[String],
    point: &Point,
    note: Option<String>,
) -> Result<String, String> {
    Ok(format!("{name} {tags:?} {point:?} {note:?}"))
}

#[opper::tool(name = "now")]
async fn current_time() -> Result<u64, std::io::Error> {
    Ok(0)
}

#[opper::tool]
fn ping() {}

#[opper::tool]
fn clashes(params: u8, args: u8, error: u8, value: u8) -> u8 {
    params + args + error + value
}

mod inner {
    #[opper::tool]
    pub(crate) fn shout(text: String) -> String {
        text.to_uppercase()
    }
}

fn main() {
    let _: opper::Tool = add_tool();
    let _ = (describe_tool(), current_time_tool(), ping_tool(), clashes_tool());
    let _ = inner::shout_tool();
    assert_eq!(add(1, 2), 3);
    assert_eq!(inner::shout("a".into()), "A");
    assert_eq!(current_time_tool().get_name(), "now");
    ping();
}

#[derive(Debug, Deserialize, JsonSchema, opper::Partial)]
struct Answer {
    sum: i64,
}

/// Agents: every return form, a tool by path, an iteration limit.
#[opper::function(tools = [add, inner::shout], max_iterations = 3)]
async fn answer(question: &str) -> opper::Result<Answer>;

#[opper::function(tools = [add])]
async fn answer_run(question: String) -> opper::Result<opper::AgentRun<Answer>>;

#[opper::function(name = "answer", model = "openai/gpt-4o-mini")]
async fn answer_live(question: String) -> opper::Result<opper::AgentStream<Answer>>;

#[opper::function(tools = [describe])]
async fn answer_text(question: String) -> opper::Result<String>;

#[allow(dead_code)]
async fn agents(opper: &opper::Opper) -> opper::Result<()> {
    let _: Answer = answer_with(opper, "1 + 2?").await?;
    let _: opper::AgentRun<Answer> = answer_run("1 + 2?".into()).await?;
    let _: opper::AgentStream<Answer> = answer_live("1 + 2?".into()).await?;
    let _: String = answer_text("?".into()).await?;
    Ok(())
}
