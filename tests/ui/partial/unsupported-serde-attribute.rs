#[derive(serde::Deserialize, opper::Partial)]
#[serde(untagged)]
enum Either {
    Left,
    Right,
}

#[derive(serde::Deserialize, opper::Partial)]
#[serde(transparent)]
struct Meters {
    value: f64,
}

fn main() {}
