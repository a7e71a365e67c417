//! Records a run into a cassette directory, then replays it with the server stopped: no network,
//! no API key. The same works against the real API with environment variables only:
//!
//! ```sh
//! cargo run --example cassette
//! # a test suite: record once, commit the directory, replay in CI
//! OPPER_CACHE_DIR=tests/cassettes cargo test                         # records what misses
//! OPPER_CACHE_DIR=tests/cassettes OPPER_CACHE_MODE=replay cargo test # replays; a miss fails
//! ```

use futures::StreamExt;
use opper::testing::{MockServer, Reply};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Person {
    /// Full name as written in the text
    name: String,
    /// What they do
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
) -> opper::Result<opper::Response<Team>>;

/// The same task, streamed.
#[opper::function(name = "extract_team", model = "openai/gpt-4o-mini")]
async fn extract_team_live(text: String) -> opper::Result<opper::Stream<Team>>;

const TEXT: &str = "Ann Lee is our CTO; Bo Berg writes the docs.";

/// Calls the task once and streams it once, printing what came back.
async fn run(opper: &opper::Opper) -> opper::Result<()> {
    let team = extract_team_with(opper, TEXT.into()).await?;
    println!("  call:   {:?} (span {:?})", team.output, team.span_id);
    let mut stream = extract_team_live_with(opper, TEXT.into()).await?;
    let mut updates = 0;
    while let Some(update) = stream.next().await {
        update?;
        updates += 1;
    }
    let team = stream.finish().await?;
    println!(
        "  stream: {updates} updates, then {} people",
        team.people.len()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join("opper-cassette-example");
    // A fresh cassette each run (this directory is the example's own).
    let _ = std::fs::remove_dir_all(&dir);

    println!("recording into {}", dir.display());
    let server = MockServer::start().await;
    server.reply(
        "extract_team",
        Reply::json(serde_json::json!({
            "people": [
                {"name": "Ann Lee", "role": "chief technology officer"},
                {"name": "Bo Berg", "role": "writes the documentation"}
            ],
            "summary": "Ann leads technology and Bo keeps the docs."
        })),
    );
    let recorder = server
        .client_builder()
        .cache(opper::Cache::dir(&dir))
        .build()?;
    run(&recorder).await?;
    println!("  {} requests reached the server", server.request_count());
    let url = server.url();
    server.shutdown().await;

    println!("replaying with the server stopped and no API key");
    let replay = opper::Opper::builder()
        .base_url(url)
        .cache(opper::Cache::dir(&dir).replay_only())
        .build()?;
    run(&replay).await?;

    let mut entries: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    entries.sort();
    println!("the cassette:");
    for entry in &entries {
        println!("  {}", entry.display());
    }
    if let Some(call) = entries
        .iter()
        .find(|path| path.to_string_lossy().contains(".call."))
    {
        print!("{}", std::fs::read_to_string(call)?);
    }
    Ok(())
}
