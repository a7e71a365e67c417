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
    async fn add_numbers(&mut self, x: i64, y: i64) -> opper::Result<Sum>;

    #[opper::function]
    async fn add_boxed(self: Box<Self>, x: i64, y: i64) -> opper::Result<Sum>;
}

fn main() {}
