#[derive(serde::Deserialize, opper::Partial)]
struct Member {
    name: String,
    #[serde(skip)]
    #[opper(required)]
    cache: u32,
    #[serde(skip_deserializing)]
    #[opper(atomic)]
    derived: String,
}

fn main() {}
