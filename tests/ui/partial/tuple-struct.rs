#[derive(serde::Deserialize, opper::Partial)]
struct Score(u8);

fn main() {}
