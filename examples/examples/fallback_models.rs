//! Models: one by name, one with options, or a fallback chain the API tries in order.
//! Offline on the built-in server when `OPPER_API_KEY` is unset (it then prints the `model`
//! field each call sent).
//!
//! ```sh
//! cargo run --example fallback_models
//! ```

use opper::testing::Reply;

/// Translate the text into the language.
#[opper::function(
    // Tried in order: Claude with a low temperature, then GPT-4o mini as it is.
    model = [model("anthropic/claude-sonnet-4", temperature = 0.1, max_tokens = 400), "openai/gpt-4o-mini"],
)]
async fn translate(text: String, language: String) -> opper::Result<String>;

/// Write a product name for the description.
#[opper::function(model("openai/gpt-4o-mini", temperature = 1.2))]
async fn product_name(description: String) -> opper::Result<String>;

#[tokio::main]
async fn main() -> opper::Result<()> {
    let backend = opper::testing::Backend::from_env().await;
    if let Some(server) = backend.server() {
        server.reply("translate", Reply::text("Hej världen"));
        server.reply("product_name", Reply::text("Cloudnest"));
    }

    println!(
        "translate:    {}",
        translate("Hello world".into(), "Swedish".into()).await?
    );
    println!(
        "product_name: {}",
        product_name("A pillow that remembers your dreams".into()).await?
    );

    if let Some(server) = backend.server() {
        for request in server.requests() {
            let body = request.body.unwrap_or_default();
            println!("{} sent \"model\": {}", body["name"], body["model"]);
        }
    }
    Ok(())
}
