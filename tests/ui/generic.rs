use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Sum {
    sum: i64,
}

#[opper::function]
async fn add_numbers<T: serde::Serialize>(x: T, y: T) -> opper::Result<Sum>;

fn main() {}
