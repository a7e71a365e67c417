#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Sum {
    sum: i64,
}

// Takes the output by value: a validator borrows it.
fn positive(sum: Sum) -> Result<(), String> {
    if sum.sum > 0 { Ok(()) } else { Err("negative".into()) }
}

#[opper::function(validate = positive)]
async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;

fn main() {}
