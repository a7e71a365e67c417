//! Streams a typed task and renders the partial value live as it grows, then prints the final
//! value. Offline on the built-in server when `OPPER_API_KEY` is unset.
//!
//! ```sh
//! cargo run --example streaming
//! ```

use std::io::{IsTerminal, Write};
use std::time::Duration;

use futures::StreamExt;
use opper::testing::Reply;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Person {
    /// Full name as written in the text
    // Required: a person enters the live view only with a name, never as a half-built `{}`.
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
#[opper::function(name = "extract_team", model = "openai/gpt-4o-mini")]
async fn extract_team_live(
    /// Free text that mentions people
    text: String,
) -> opper::Result<opper::Stream<Team>>;

#[tokio::main]
async fn main() -> opper::Result<()> {
    let backend = opper::testing::Backend::from_env().await;
    if let Some(server) = backend.server() {
        // Offline: the built-in server streams a scripted answer, a chunk every 20 ms.
        server.reply(
            "extract_team",
            Reply::json(serde_json::json!({
                "people": [
                    {"name": "Ann Lee", "role": "chief technology officer"},
                    {"name": "Bo Berg", "role": "writes the documentation"}
                ],
                "summary": "A small team: Ann leads technology and Bo keeps the docs."
            }))
            .chunk_delay(Duration::from_millis(20)),
        );
    }

    let live = std::io::stdout().is_terminal();
    let mut stream =
        extract_team_live("Ann Lee is our CTO; Bo Berg writes the docs.".into()).await?;
    println!("span {}", stream.span_id().unwrap_or("(none yet)"));
    while let Some(update) = stream.next().await {
        let update = update?;
        if live {
            // Redraw the partial value in place.
            let json = serde_json::to_string_pretty(&*update.partial).unwrap_or_default();
            print!(
                "\x1b[s\x1b[J{json}\n  <- {} {}\x1b[u",
                update.json_path, update.delta
            );
            std::io::stdout().flush().ok();
        } else {
            for done in &update.completed {
                println!("completed {done}");
            }
        }
    }
    let team: Team = stream.finish().await?;
    if live {
        print!("\x1b[J");
    }
    println!("final: {team:#?}");
    Ok(())
}
