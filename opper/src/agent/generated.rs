//! What `#[opper::function(tools = [...])]` generates calls to (through `__private`): the task
//! run as an agent, its tools made on each call.

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::agent::builder::Agent;
use crate::agent::run::{AgentRun, content};
use crate::agent::stream::AgentStream;
use crate::client::Opper;
use crate::client::default::given_or_default;
use crate::error::Result;
use crate::partial::Partial;
use crate::reask::Policy;
use crate::task::Task;
use crate::tool::Tool;

/// The task's agent: its name, instructions and model, with `tools` and `max_iterations`.
fn agent(task: &Task, tools: fn() -> Vec<Tool>, max_iterations: Option<u32>) -> Agent {
    let mut agent = Agent::new(task.name.clone())
        .instructions(task.instructions.clone().unwrap_or_default())
        .tools(tools());
    if let Some(model) = &task.model {
        agent = agent.model(model.clone());
    }
    if let Some(max) = max_iterations {
        agent = agent.max_iterations(max);
    }
    agent
}

/// An agent task's run: the output with what it took.
pub async fn agent_run<I: Serialize + ?Sized, O: DeserializeOwned + JsonSchema>(
    client_: Option<&Opper>,
    task: &Task,
    input_: &I,
    policy: &Policy<O>,
    tools: fn() -> Vec<Tool>,
    max_iterations: Option<u32>,
) -> Result<AgentRun<O>> {
    let client_ = given_or_default(client_)?;
    let content = content(input_)?;
    agent(task, tools, max_iterations)
        .run_observed(&client_, content, policy, &mut |_| {})
        .await
}

/// An agent task's output.
pub async fn agent_call<I: Serialize + ?Sized, O: DeserializeOwned + JsonSchema>(
    client_: Option<&Opper>,
    task: &Task,
    input_: &I,
    policy: &Policy<O>,
    tools: fn() -> Vec<Tool>,
    max_iterations: Option<u32>,
) -> Result<O> {
    agent_run(client_, task, input_, policy, tools, max_iterations)
        .await
        .map(|run| run.output)
}

/// An agent task's run as a stream.
pub async fn agent_stream<
    I: Serialize + ?Sized,
    O: Partial + DeserializeOwned + JsonSchema + Send + 'static,
>(
    client_: Option<&Opper>,
    task: &Task,
    input_: &I,
    policy: &Policy<O>,
    tools: fn() -> Vec<Tool>,
    max_iterations: Option<u32>,
) -> Result<AgentStream<O>> {
    let client_ = given_or_default(client_)?;
    agent(task, tools, max_iterations).stream_checked(&client_, input_, policy.clone())
}
