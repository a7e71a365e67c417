#[opper::function]
async fn summarize(text: &str) -> opper::Result<String>;

fn main() {}
