// `atomic` and `required` go on a struct's fields: a variant is shown only whole already.
#[derive(serde::Deserialize, opper::Partial)]
#[opper(required)]
enum Role {
    #[opper(atomic)]
    Writer,
    #[opper(required)]
    Editor,
}

fn main() {}
