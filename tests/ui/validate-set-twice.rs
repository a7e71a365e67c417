#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Sum {
    sum: i64,
}

fn positive(sum: &Sum) -> Result<(), String> {
    if sum.sum > 0 { Ok(()) } else { Err("negative".into()) }
}

#[opper::function(validate = positive, validate = positive)]
async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;

fn main() {}
