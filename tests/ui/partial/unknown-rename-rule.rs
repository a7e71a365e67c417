#[derive(opper::Partial)]
#[serde(rename_all = "Snake")]
struct Person {
    full_name: String,
}

fn main() {}
