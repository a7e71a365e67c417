//! Validation and re-ask: a task checks its output, and a rejected output is asked again with
//! the reason. Offline, the built-in server first answers wrongly, so the re-ask shows: the
//! example prints the instructions it sent the second time.
//!
//! ```sh
//! cargo run --example validate
//! ```

use opper::testing::Reply;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize, JsonSchema)]
struct Sum {
    sum: i64,
}

/// Any `Fn(&T) -> Result<(), E>` with `E: Display` validates.
fn positive(sum: &Sum) -> Result<(), String> {
    if sum.sum > 0 {
        Ok(())
    } else {
        Err(format!("sum must be positive, got {}", sum.sum))
    }
}

/// Calculate the sum of two numbers
#[opper::function(model = "openai/gpt-4o-mini", validate = positive, reasks = 2)]
async fn add(x: i64, y: i64) -> opper::Result<opper::Response<Sum>>;

/// A validation crate's method validates too: here garde's derive checks the fields.
#[derive(Debug, Deserialize, JsonSchema, garde::Validate)]
struct Signup {
    /// The person's full name
    #[garde(length(min = 1))]
    name: String,
    /// Age in years
    #[garde(range(min = 18, max = 130))]
    age: u32,
}

/// Extract the person signing up from the message.
#[opper::function(model = "openai/gpt-4o-mini", validate = garde::Validate::validate)]
async fn extract_signup(message: String) -> opper::Result<opper::Response<Signup>>;

#[tokio::main]
async fn main() -> opper::Result<()> {
    let backend = opper::testing::Backend::from_env().await;
    if let Some(server) = backend.server() {
        // The first answer is wrong, the second right: each queued reply answers one request.
        server
            .enqueue("add", Reply::json(json!({"sum": -1})))
            .enqueue("add", Reply::json(json!({"sum": 9})))
            .enqueue(
                "extract_signup",
                Reply::json(json!({"name": "Ann", "age": 7})),
            )
            .enqueue(
                "extract_signup",
                Reply::json(json!({"name": "Ann", "age": 27})),
            );
    }

    let sum = add(4, 5).await?;
    println!("sum: {} (after {} re-ask(s))", sum.output.sum, sum.reasks);

    let signup = extract_signup("Hi, I'm Ann, 27, and I'd like to join.".into()).await?;
    println!(
        "signup: {} aged {} (after {} re-ask(s))",
        signup.output.name, signup.output.age, signup.reasks
    );

    if let Some(server) = backend.server() {
        for task in ["add", "extract_signup"] {
            if let Some(reask) = server.requests_for(task).get(1) {
                let instructions = reask
                    .body
                    .as_ref()
                    .and_then(|body| body["instructions"].as_str());
                println!(
                    "\nthe re-ask of `{task}` sent these instructions:\n{}",
                    instructions.unwrap_or("")
                );
            }
        }
    }
    Ok(())
}
