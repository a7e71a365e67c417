//! Text mode: a task returning `String` sends no output schema and reads the model's message;
//! `Stream<String>` streams the text. Offline on the built-in server when `OPPER_API_KEY` is
//! unset.
//!
//! ```sh
//! cargo run --example text
//! ```

use std::io::Write;

use futures::StreamExt;
use opper::testing::Reply;

/// Summarize the text in one sentence.
#[opper::function(model = "openai/gpt-4o-mini")]
async fn summarize(
    /// The text to summarize
    text: String,
) -> opper::Result<String>;

/// Write a haiku about the topic.
#[opper::function(model = "openai/gpt-4o-mini")]
async fn haiku(topic: String) -> opper::Result<opper::Stream<String>>;

#[tokio::main]
async fn main() -> opper::Result<()> {
    let backend = opper::testing::Backend::from_env().await;
    if let Some(server) = backend.server() {
        server.reply(
            "summarize",
            Reply::text("Rust gives you speed and safety together."),
        );
        server.reply("haiku", Reply::text("Borrow checker hums, / lifetimes fold like paper cranes, / the build is green now."));
    }

    let summary = summarize(
        "Rust is a language empowering everyone to build reliable and efficient software.".into(),
    )
    .await?;
    println!("summary: {summary}");

    let mut stream = haiku("Rust".into()).await?;
    let mut stdout = std::io::stdout();
    while let Some(update) = stream.next().await {
        // In text mode each delta is a piece of the text.
        if let Some(piece) = update?.delta.as_str() {
            print!("{piece}");
            stdout.flush().ok();
        }
    }
    println!();
    let whole = stream.finish().await?;
    println!("({} characters)", whole.chars().count());
    Ok(())
}
