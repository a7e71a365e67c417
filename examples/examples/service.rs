//! A service struct that keeps its client, with its tasks as `&self` methods: each method calls
//! with the client `self` provides through `AsRef<opper::Opper>`, and parameters are borrowed
//! like in any `async fn`. Offline on the built-in server when `OPPER_API_KEY` is unset.
//!
//! ```sh
//! cargo run --example service
//! ```

use opper::testing::Reply;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Serialize, JsonSchema)]
struct Ticket {
    subject: String,
    body: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Triage {
    /// "low", "normal" or "urgent"
    priority: String,
    /// The team that should handle the ticket
    team: String,
}

/// The help desk: its client, and its tasks.
struct HelpDesk {
    opper: opper::Opper,
}

impl AsRef<opper::Opper> for HelpDesk {
    fn as_ref(&self) -> &opper::Opper {
        &self.opper
    }
}

impl HelpDesk {
    /// Triage the support ticket: how urgent it is, and which team should handle it.
    #[opper::function(model = "openai/gpt-4o-mini", tags(app = "helpdesk"))]
    async fn triage(&self, #[input] ticket: &Ticket) -> opper::Result<Triage>;

    /// Write a short, friendly first reply to the customer, in the given language.
    #[opper::function(model = "openai/gpt-4o-mini", tags(app = "helpdesk"))]
    async fn first_reply(&self, ticket: &Ticket, language: &str) -> opper::Result<String>;
}

#[tokio::main]
async fn main() -> opper::Result<()> {
    let backend = opper::testing::Backend::from_env().await;
    if let Some(server) = backend.server() {
        server.reply(
            "triage",
            Reply::json(json!({"priority": "urgent", "team": "payments"})),
        );
        server.reply(
            "first_reply",
            Reply::text("Sorry for the trouble: our payments team is on it."),
        );
    }
    let desk = HelpDesk {
        opper: backend.client()?,
    };

    let ticket = Ticket {
        subject: "Checkout fails".into(),
        body: "Every payment returns an error since this morning.".into(),
    };
    let triage = desk.triage(&ticket).await?;
    println!("{} -> {}", triage.priority, triage.team);
    let reply = desk.first_reply(&ticket, "English").await?;
    println!("{reply}");
    Ok(())
}
