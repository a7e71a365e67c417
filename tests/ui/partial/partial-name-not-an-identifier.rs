#[derive(serde::Deserialize, opper::Partial)]
#[opper(partial = "Live Person")]
struct Person {
    name: String,
}

fn main() {}
