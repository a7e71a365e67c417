#[derive(serde::Deserialize, opper::Partial)]
struct Member {
    #[opper(atomc)]
    homepage: String,
}

fn main() {}
