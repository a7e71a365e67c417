#[opper::function]
async fn add_numbers((x, y): (i64, i64)) -> opper::Result<String>;

fn main() {}
