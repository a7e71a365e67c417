use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Sum {
    sum: i64,
}

#[opper::function]
async unsafe fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;

fn main() {}
