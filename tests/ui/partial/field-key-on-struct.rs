#[derive(serde::Deserialize, opper::Partial)]
#[opper(atomic, required)]
struct Member {
    name: String,
}

fn main() {}
