#[derive(serde::Deserialize, opper::Partial)]
struct Member {
    name: String,
    #[serde(flatten)]
    #[opper(atomic, required)]
    contact: Contact,
}

#[derive(serde::Deserialize, opper::Partial)]
struct Contact {
    email: String,
}

fn main() {}
