//! The same typed tasks on Opper's v3 Task API: one builder call (or `OPPER_API_VERSION=v3`)
//! switches the client; calls return the typed output with v3's metadata, and streams hand out
//! the same typed updates as on v2, read from the model's JSON text as it arrives. Offline on
//! the built-in server (which speaks v3 too) when `OPPER_API_KEY` is unset.
//!
//! ```sh
//! cargo run --example v3
//! ```

use futures::StreamExt;
use opper::testing::Reply;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Person {
    /// Full name as written in the text
    #[opper(required)]
    name: String,
    /// What they do
    role: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Team {
    people: Vec<Person>,
    summary: String,
}

/// Extract every person mentioned in the text, with their role, and summarize the team.
#[opper::function(model = "openai/gpt-4o-mini")]
async fn extract_team(
    /// Free text that mentions people
    text: String,
) -> opper::Result<opper::Response<Team>>;

/// Extract every person mentioned in the text, with their role, and summarize the team.
#[opper::function(name = "extract_team", model = "openai/gpt-4o-mini")]
async fn extract_team_live(text: String) -> opper::Result<opper::Stream<Team>>;

#[tokio::main]
async fn main() -> opper::Result<()> {
    let backend = opper::testing::Backend::from_env().await;
    if let Some(server) = backend.server() {
        server.reply(
            "extract_team",
            Reply::json(serde_json::json!({
                "people": [
                    {"name": "Ann Lee", "role": "chief technology officer"},
                    {"name": "Bo Berg", "role": "writes the documentation"}
                ],
                "summary": "Ann leads technology; Bo keeps the docs."
            })),
        );
    }
    // The one change: v3 instead of the default v2 (or OPPER_API_VERSION=v3 in the environment).
    let opper = backend.builder().api(opper::Api::V3).build()?;
    let text = "Ann Lee is our CTO; Bo Berg writes the docs.".to_owned();

    let reply = extract_team_with(&opper, text.clone()).await?;
    println!(
        "{} people; trace {:?}; span {:?} (v3 has no span id)",
        reply.output.people.len(),
        reply.trace_uuid,
        reply.span_id
    );

    // The JSON text arrives in small pieces; each update is typed, with v2's `json_path`s.
    let mut stream = extract_team_live_with(&opper, text).await?;
    while let Some(update) = stream.next().await {
        let update = update?;
        if !update.json_path.is_empty() {
            println!("{:<28} <- {}", update.json_path, update.delta);
        }
    }
    let team = stream.finish().await?;
    println!("{team:#?}");
    Ok(())
}
