#[opper::function]
async fn summarize(text: impl Into<String>) -> opper::Result<String>;

fn main() {}
