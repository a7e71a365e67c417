// A unit enum is streamed as a field of a struct: a stream's partial has a value from the
// start, and a variant has none before it is whole.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema, opper::Partial)]
enum Role {
    Writer,
    Editor,
}

/// Classify the text.
#[opper::function]
async fn classify(text: String) -> opper::Result<opper::Stream<Role>>;

fn main() {}
