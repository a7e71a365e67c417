use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Sum {
    sum: i64,
}

trait Adder {
    async fn add_numbers(&self, x: i64, y: i64) -> opper::Result<Sum>;
}

struct Calculator;

#[opper::function]
impl Adder for Calculator {
    async fn add_numbers(&self, x: i64, y: i64) -> opper::Result<Sum> {
        Ok(Sum { sum: x + y })
    }
}

fn main() {}
