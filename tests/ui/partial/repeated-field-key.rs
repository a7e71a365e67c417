#[derive(serde::Deserialize, opper::Partial)]
struct Member {
    #[opper(required, required)]
    name: String,
    #[opper(atomic)]
    #[opper(atomic)]
    homepage: String,
}

fn main() {}
