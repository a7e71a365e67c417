//! Three typed tasks under one parent span: every call inside `with_parent_span` sends its
//! `parent_span_id`; the program prints the span ids and the summed usage. Offline on the
//! built-in server when `OPPER_API_KEY` is unset.
//!
//! ```sh
//! cargo run --example pipeline
//! ```

use opper::{Cost, Response, Usage};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Outline {
    /// Section titles, in order
    sections: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Review {
    /// 1 (poor) to 5 (excellent)
    #[schemars(range(min = 1, max = 5))]
    score: u8,
    comment: String,
}

/// Plan an article: a short list of section titles.
#[opper::function(model = "openai/gpt-4o-mini")]
async fn plan(topic: String) -> opper::Result<Response<Outline>>;

/// Write the article from its outline.
#[opper::function(model = "openai/gpt-4o-mini")]
async fn draft(topic: String, sections: Vec<String>) -> opper::Result<Response<String>>;

/// Review the article: a score and one sentence of feedback.
#[opper::function(model = "openai/gpt-4o-mini")]
async fn review(article: String) -> opper::Result<Response<Review>>;

#[tokio::main]
async fn main() -> opper::Result<()> {
    let backend = opper::testing::Backend::from_env().await;

    let topic = "Typed LLM calls in Rust".to_owned();
    let outline = plan(topic.clone()).await?;
    println!("plan   span {:?}", outline.span_id);
    let (article, verdict) = opper::with_parent_span(&outline, async {
        let article = draft(topic, outline.output.sections.clone()).await?;
        let verdict = review(article.output.clone()).await?;
        opper::Result::Ok((article, verdict))
    })
    .await?;
    println!(
        "draft  span {:?} (parent {:?})",
        article.span_id, outline.span_id
    );
    println!(
        "review span {:?} (parent {:?})",
        verdict.span_id, outline.span_id
    );
    println!(
        "review: {}/5, {}",
        verdict.output.score, verdict.output.comment
    );
    if let Some(server) = backend.server() {
        for request in server.requests() {
            let body = request.body.unwrap_or_default();
            println!(
                "  sent {:<7} parent_span_id {}",
                body["name"].as_str().unwrap_or(""),
                body.get("parent_span_id")
                    .and_then(|p| p.as_str())
                    .unwrap_or("-")
            );
        }
    }

    let mut usage = Usage::default();
    let mut cost = Cost::default();
    for (u, c) in [
        (&outline.usage, &outline.cost),
        (&article.usage, &article.cost),
        (&verdict.usage, &verdict.cost),
    ] {
        if let Some(u) = u {
            usage += u;
        }
        if let Some(c) = c {
            cost += c;
        }
    }
    println!(
        "usage: {} input + {} output = {} tokens; cost ${:.6}",
        usage.input_tokens, usage.output_tokens, usage.total_tokens, cost.total
    );
    Ok(())
}
