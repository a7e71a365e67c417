#[derive(serde::Deserialize, opper::Partial)]
struct Nothing;

fn main() {}
