use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Sum {
    sum: i64,
}

struct Calculator(opper::Opper);

impl AsRef<opper::Opper> for Calculator {
    fn as_ref(&self) -> &opper::Opper {
        &self.0
    }
}

impl Calculator {
    #[opper::function]
    async fn add_numbers(self, x: i64, y: i64) -> opper::Result<Sum>;
}

// The method keeps its signature: callers still compile.
async fn use_it(calculator: Calculator) -> opper::Result<i64> {
    Ok(calculator.add_numbers(1, 2).await?.sum)
}

fn main() {
    let _ = use_it;
}
