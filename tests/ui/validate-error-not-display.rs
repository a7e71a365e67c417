#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Sum {
    sum: i64,
}

#[derive(Debug)]
struct Negative;

fn positive(sum: &Sum) -> Result<(), Negative> {
    if sum.sum > 0 { Ok(()) } else { Err(Negative) }
}

#[opper::function(validate = positive)]
async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;

fn main() {}
