#[derive(serde::Deserialize, opper::Partial)]
struct Person {
    #[opper(crate = "::opper")]
    name: String,
}

fn main() {}
