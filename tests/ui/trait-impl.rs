use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Sum {
    sum: i64,
}

trait Adder {
    async fn add_numbers(&self, x: i64, y: i64) -> opper::Result<Sum>;
}

struct Calculator(opper::Opper);

impl AsRef<opper::Opper> for Calculator {
    fn as_ref(&self) -> &opper::Opper {
        &self.0
    }
}

impl Adder for Calculator {
    #[opper::function]
    async fn add_numbers(&self, x: i64, y: i64) -> opper::Result<Sum>;
}

fn main() {}
