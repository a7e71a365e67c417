#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Summary {
    text: String,
}

// `&str` validates a `String` output, not a struct.
fn short(text: &str) -> Result<(), String> {
    if text.len() < 10 { Ok(()) } else { Err("too long".into()) }
}

#[opper::function(validate = short)]
async fn summarize(text: String) -> opper::Result<Summary>;

fn main() {}
