mod seconds {
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        serde::Deserialize::deserialize(d)
    }
}

#[derive(serde::Deserialize, opper::Partial)]
struct Timeout {
    #[serde(deserialize_with = "seconds::deserialize")]
    after: u64,
}

fn main() {}
