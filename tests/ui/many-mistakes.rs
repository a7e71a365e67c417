use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Sum {
    sum: i64,
}

/// Every mistake is reported at once.
#[opper::function(modle = "x", name = 3, tags(a = "1", a = "2"))]
fn add_numbers<'a>(x: &mut str) -> i64;

fn main() {}
