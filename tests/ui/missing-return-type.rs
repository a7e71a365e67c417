#[opper::function]
async fn add_numbers(x: i64, y: i64);

fn main() {}
