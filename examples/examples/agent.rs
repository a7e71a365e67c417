//! An agent: a typed task that calls the program's own functions (tools) until it can answer.
//! The tools run as soon as the model has written their arguments, while it still streams, and
//! together; the answer arrives as typed partials, then whole. Offline on the built-in server
//! (scripted turns below) when `OPPER_API_KEY` is unset.
//!
//! ```sh
//! cargo run --example agent
//! ```

use futures::StreamExt;
use opper::AgentEvent;
use opper::testing::Turn;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize)]
struct Weather {
    city: String,
    temperature_c: i32,
    conditions: &'static str,
}

/// Current weather in a city.
#[opper::tool]
async fn get_weather(
    /// City name, e.g. "Paris"
    city: String,
) -> Result<Weather, String> {
    match city.as_str() {
        "Atlantis" => Err(format!("unknown city: {city}")),
        _ => Ok(Weather {
            city,
            temperature_c: 21,
            conditions: "sunny",
        }),
    }
}

/// Add two integers.
#[opper::tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[derive(Debug, Deserialize, JsonSchema, opper::Partial)]
struct DayPlan {
    /// Where the day takes place
    city: String,
    /// What to do, in order
    activities: Vec<String>,
}

#[tokio::main]
async fn main() -> opper::Result<()> {
    let backend = opper::testing::Backend::from_env().await;
    if let Some(server) = backend.server() {
        // What a model might do: check the weather and add, then answer.
        server.enqueue(
            "plan_day",
            Turn::new()
                .call("get_weather", r#"{"city":"Paris"}"#)
                .call("add", r#"{"a":2,"b":3}"#)
                .into_reply(),
        );
        server.enqueue(
            "plan_day",
            Turn::answer(
                r#"{"city": "Paris", "activities": ["Walk along the Seine", "Picnic for 5 at the Luxembourg gardens"]}"#,
            )
            .into_reply(),
        );
    }
    let opper = backend.client()?;
    let agent = opper::Agent::new("plan_day")
        .instructions("Plan a day out in the city. Check the weather first.")
        .model("openai/gpt-4o-mini")
        .tool(get_weather_tool())
        .tool(add_tool())
        .max_iterations(10);

    let mut run = agent.stream::<DayPlan>(&opper, "A day in Paris for 2 + 3 people")?;
    while let Some(event) = run.next().await {
        match event? {
            AgentEvent::Turn { iteration } => println!("turn {iteration}"),
            AgentEvent::ToolStart { name, input, .. } => println!("  -> {name}({input})"),
            AgentEvent::ToolEnd {
                name,
                output,
                duration,
                ..
            } => println!("  <- {name}: {output:?} in {duration:?}"),
            AgentEvent::Update(update) => {
                println!("  {:<28} <- {}", update.json_path, update.delta)
            }
            _ => {}
        }
    }
    let run = run.finish().await?;
    println!(
        "A day in {}: {}\n{} turns, {} tool calls, {} tokens",
        run.output.city,
        run.output.activities.join("; "),
        run.iterations,
        run.tool_calls.len(),
        run.usage.total_tokens
    );
    Ok(())
}
