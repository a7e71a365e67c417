//! The quickstart: a typed task is a Rust signature. Extracts a team from text, then streams
//! the same task. Offline on the built-in server when `OPPER_API_KEY` is unset.
//!
//! ```sh
//! cargo run --example quickstart
//! ```

use futures::StreamExt;
use opper::testing::Reply;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Person {
    /// Full name as written in the text
    name: String,
    role: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Team {
    people: Vec<Person>,
    summary: String,
}

/// Extract every person mentioned in the text, with their role.
#[opper::function(model = "openai/gpt-4o-mini")]
async fn extract_team(
    /// Free text that mentions people
    text: String,
) -> opper::Result<Team>;

/// The same task, streamed: the return type picks /call/stream.
#[opper::function(name = "extract_team", model = "openai/gpt-4o-mini")]
async fn extract_team_live(text: String) -> opper::Result<opper::Stream<Team>>;

#[tokio::main]
async fn main() -> opper::Result<()> {
    let backend = opper::testing::Backend::from_env().await;
    if let Some(server) = backend.server() {
        // What the service would answer.
        server.reply(
            "extract_team",
            Reply::json(serde_json::json!({
                "people": [{"name": "Ann", "role": "CTO"}, {"name": "Bo", "role": "writes the docs"}],
                "summary": "Ann leads technology; Bo writes the documentation."
            })),
        );
    }

    let text = "Ann is the CTO; Bo writes the docs.";
    let team = extract_team(text.into()).await?;
    println!("{team:#?}");

    let mut stream = extract_team_live(text.into()).await?;
    while let Some(update) = stream.next().await {
        let update = update?;
        println!("{} <- {}", update.json_path, update.delta);
    }
    let team: Team = stream.finish().await?;
    println!("streamed: {} people; {}", team.people.len(), team.summary);
    Ok(())
}
