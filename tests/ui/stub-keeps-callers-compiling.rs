use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Sum {
    sum: i64,
}

// Only this mistake is reported: the callers below still compile.
#[opper::function(modle = "openai/gpt-4o-mini")]
async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;

async fn use_it(client: &opper::Opper) -> opper::Result<i64> {
    let a = add_numbers(1, 2).await?;
    let b = add_numbers_with(client, 1, 2).await?;
    Ok(a.sum + b.sum)
}

fn main() {
    let _ = use_it;
}
