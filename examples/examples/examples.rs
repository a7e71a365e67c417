//! `example(...)`: examples of good completions, written as Rust values and type-checked
//! against the signature at compile time, sent with every call. Offline on the built-in server
//! when `OPPER_API_KEY` is unset (it then prints the examples the call sent).
//!
//! ```sh
//! cargo run --example examples
//! ```

use opper::testing::Reply;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
enum Priority {
    Low,
    Normal,
    Urgent,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Triage {
    priority: Priority,
    /// The team that should handle the ticket
    team: String,
}

/// Triage the support ticket.
#[opper::function(
    model = "openai/gpt-4o-mini",
    example(
        input(subject = "Site down", body = "Checkout returns 500 for every customer."),
        output = Triage { priority: Priority::Urgent, team: "payments".into() },
        comment = "An outage that stops revenue is urgent",
    ),
    example(
        input(subject = "Typo", body = "The footer says 'Copyrigth'."),
        output = Triage { priority: Priority::Low, team: "web".into() },
    ),
    tags(app = "helpdesk"),
)]
async fn triage(subject: String, body: String) -> opper::Result<Triage>;

#[tokio::main]
async fn main() -> opper::Result<()> {
    let backend = opper::testing::Backend::from_env().await;
    if let Some(server) = backend.server() {
        server.reply(
            "triage",
            Reply::json(serde_json::json!({"priority": "Normal", "team": "accounts"})),
        );
    }

    let triage = triage(
        "Invoice address".into(),
        "Please change the address on my invoices.".into(),
    )
    .await?;
    println!("{triage:?}");

    if let Some(server) = backend.server() {
        let body = server.requests()[0].body.clone().unwrap_or_default();
        println!(
            "sent examples: {}",
            serde_json::to_string_pretty(&body["examples"]).unwrap_or_default()
        );
    }
    Ok(())
}
