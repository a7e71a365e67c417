// Every mistake is reported at once.
#[derive(serde::Deserialize, opper::Partial)]
#[serde(tag = "kind")]
enum Event {
    Started(u64),
    Stopped { at: u64 },
}

fn main() {}
