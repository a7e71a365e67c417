#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Sum {
    sum: i64,
}

#[opper::function(validate = "sum > 0")]
async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;

fn main() {}
