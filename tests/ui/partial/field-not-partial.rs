#[derive(serde::Deserialize)]
struct Address {
    city: String,
}

// A field whose type lacks `#[derive(opper::Partial)]`: the error names the type, on the field
// (and once more on the struct, whose own `Partial` needs it), nothing else.
#[derive(serde::Deserialize, opper::Partial)]
struct Person {
    name: String,
    address: Address,
}

fn main() {}
