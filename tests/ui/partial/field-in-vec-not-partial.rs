#[derive(serde::Deserialize)]
struct Address {
    city: String,
}

// A type without `Partial` in two fields, inside a `Vec` and an `Option`: it is named on a
// field and on the struct, as for a field of that type alone.
#[derive(serde::Deserialize, opper::Partial)]
struct Person {
    name: String,
    homes: Vec<Address>,
    work: Option<Address>,
}

fn main() {}
