//! Every `#[opper::function] fn name` also has `name_with(&client, ...)`, which uses the client
//! you give it instead of the process-wide default: for several keys, base URLs, timeouts or
//! retry policies in one program. Offline on the built-in server when `OPPER_API_KEY` is unset.
//!
//! ```sh
//! cargo run --example explicit_client
//! ```

use std::time::Duration;

use opper::testing::Reply;

/// Answer the question in one short sentence.
#[opper::function(model = "openai/gpt-4o-mini")]
async fn answer(question: String) -> opper::Result<String>;

#[tokio::main]
async fn main() -> opper::Result<()> {
    let backend = opper::testing::Backend::from_env().await;
    let client = match backend.server() {
        Some(server) => {
            server.reply("answer", Reply::text("Paris."));
            opper::Opper::builder()
                .api_key("offline-key")
                .base_url(server.url())
                .request_timeout(Duration::from_secs(30))
                .retry(opper::RetryPolicy::default().max_retries(2))
                .header("x-team", "docs")
                .build()?
        }
        None => opper::OpperBuilder::from_env()
            .request_timeout(Duration::from_secs(30))
            .retry(opper::RetryPolicy::default().max_retries(2))
            .header("x-team", "docs")
            .build()?,
    };

    let reply = answer_with(&client, "What is the capital of France?".into()).await?;
    println!("{reply}");
    Ok(())
}
