#[derive(serde::Deserialize)]
struct City {
    name: String,
}

#[opper::tool]
fn weather(city: City) -> String {
    city.name
}

fn main() {}
