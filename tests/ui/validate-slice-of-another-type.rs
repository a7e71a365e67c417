#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Contact {
    name: String,
}

// A slice, as clippy asks, but of another type than the output's items.
fn some(names: &[String]) -> Result<(), String> {
    if names.is_empty() { Err("none".into()) } else { Ok(()) }
}

#[opper::function(validate = some)]
async fn contacts(text: String) -> opper::Result<Vec<Contact>>;

fn main() {}
