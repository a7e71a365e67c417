//! `validate = EXPR` and `reasks = N` on an agent (`tools = [...]`), on each of its return
//! types: a rejected answer is asked again, as a task's is.

use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Deserialize, JsonSchema, opper::Partial)]
struct Report {
    summary: String,
}

fn not_empty(report: &Report) -> Result<(), String> {
    if report.summary.is_empty() { Err("the summary is empty".into()) } else { Ok(()) }
}

/// Add two integers.
#[opper::tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Plan the day.
#[opper::function(tools = [add], validate = not_empty)]
async fn plan(city: String) -> opper::Result<Report>;

/// Plan the day.
#[opper::function(tools = [add], validate = |r| if r.summary.len() < 500 { Ok(()) } else { Err("too long") }, reasks = 1)]
async fn plan_run(city: String) -> opper::Result<opper::AgentRun<Report>>;

/// Plan the day.
#[opper::function(tools = [add], validate = not_empty, max_iterations = 4)]
async fn plan_live(city: String) -> opper::Result<opper::AgentStream<Report>>;

/// Say it in a short text.
#[opper::function(tools = [add], validate = |text: &str| if text.len() < 100 { Ok(()) } else { Err("too long") })]
async fn say(city: String) -> opper::Result<String>;

/// An agent that re-asks an answer that does not fit its type, without a validator.
#[opper::function(tools = [add], reasks = 2)]
async fn plan_fitting(city: String) -> opper::Result<Report>;

#[allow(dead_code)]
async fn calls() {
    let _ = plan("Paris".into()).await;
    let _ = plan_run("Paris".into()).await;
    let _ = plan_live("Paris".into()).await;
    let _ = say("Paris".into()).await;
    let _ = plan_fitting("Paris".into()).await;
}

fn main() {
    let _ = calls;
}
