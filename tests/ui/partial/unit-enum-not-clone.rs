// A unit enum is its own partial form, so it needs what a partial form is: `Clone`, `Debug`
// and `Serialize`. The error says so, on the enum's name.
#[derive(Debug, serde::Deserialize, opper::Partial)]
enum Role {
    Writer,
    Editor,
}

fn main() {}
