#[opper::function]
async fn summarize(#[cfg(test)] text: String) -> opper::Result<String>;

fn main() {}
