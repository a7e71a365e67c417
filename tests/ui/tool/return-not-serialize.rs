struct Weather;

#[opper::tool]
async fn weather(city: String) -> Weather {
    let _ = city;
    Weather
}

fn main() {}
