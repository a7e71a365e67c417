#[opper::function]
async fn summarize(text: &mut String, notes: Vec<&mut str>) -> opper::Result<String>;

fn main() {}
