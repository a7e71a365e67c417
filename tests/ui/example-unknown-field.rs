use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Sum {
    sum: i64,
}

#[opper::function(example(input(x = 1, z = 3), output = Sum { sum: 4 }))]
async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;

fn main() {}
