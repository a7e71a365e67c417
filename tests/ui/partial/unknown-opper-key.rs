#[derive(serde::Deserialize, opper::Partial)]
#[opper(partial_name = "LivePerson")]
struct Person {
    name: String,
}

fn main() {}
