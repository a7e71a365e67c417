#[derive(serde::Deserialize, opper::Partial)]
struct Quote<'a> {
    text: &'a str,
}

fn main() {}
