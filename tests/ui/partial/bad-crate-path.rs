#[derive(opper::Partial)]
#[opper(crate = "opper::")]
struct Person {
    name: String,
}

fn main() {}
