#[derive(Debug)]
struct Failure;

#[opper::tool]
fn weather(city: String) -> Result<String, Failure> {
    Ok(city)
}

fn main() {}
