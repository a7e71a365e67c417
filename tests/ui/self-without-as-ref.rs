use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Sum {
    sum: i64,
}

struct Calculator {
    opper: opper::Opper,
}

impl Calculator {
    #[opper::function]
    async fn add_numbers(&self, x: i64, y: i64) -> opper::Result<Sum>;
}

fn main() {}
