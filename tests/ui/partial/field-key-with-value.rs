#[derive(serde::Deserialize, opper::Partial)]
struct Member {
    #[opper(atomic = true)]
    homepage: String,
}

fn main() {}
