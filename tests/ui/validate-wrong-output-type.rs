#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Sum {
    sum: i64,
}

fn positive(n: &i64) -> Result<(), String> {
    if *n > 0 { Ok(()) } else { Err("negative".into()) }
}

#[opper::function(validate = positive)]
async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;

fn main() {}
