//! `opper::Response<T>`: the typed output plus the call's span id, token usage, cost and cache
//! flag. Offline on the built-in server when `OPPER_API_KEY` is unset.
//!
//! ```sh
//! cargo run --example metadata
//! ```

use opper::testing::Reply;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Sentiment {
    /// "positive", "neutral" or "negative"
    label: String,
    /// Confidence, 0 to 1
    score: f64,
}

/// Classify the sentiment of the review.
#[opper::function(model = "openai/gpt-4o-mini")]
async fn sentiment(review: String) -> opper::Result<opper::Response<Sentiment>>;

#[tokio::main]
async fn main() -> opper::Result<()> {
    let backend = opper::testing::Backend::from_env().await;
    if let Some(server) = backend.server() {
        server.reply(
            "sentiment",
            Reply::json(serde_json::json!({"label": "positive", "score": 0.93}))
                .usage(serde_json::json!({"input_tokens": 112, "output_tokens": 14, "total_tokens": 126}))
                .cost(serde_json::json!({"generation": 0.000_021, "platform": 0.000_004, "total": 0.000_025})),
        );
    }

    let response =
        sentiment("The battery lasts for days and the screen is gorgeous.".into()).await?;
    println!("output:  {:?}", response.output);
    println!("span id: {:?}", response.span_id);
    match &response.usage {
        Some(usage) => println!(
            "usage:   {} in + {} out = {} tokens",
            usage.input_tokens, usage.output_tokens, usage.total_tokens
        ),
        None => println!("usage:   not reported"),
    }
    match &response.cost {
        Some(cost) => println!(
            "cost:    ${:.6} (generation ${:.6}, platform ${:.6})",
            cost.total, cost.generation, cost.platform
        ),
        None => println!("cost:    not reported"),
    }
    println!("cached:  {}", response.cached);
    Ok(())
}
