#[derive(serde::Deserialize, opper::Partial)]
#[opper(partial = "LivePerson", partial = "PersonSoFar")]
struct Person {
    name: String,
}

fn main() {}
