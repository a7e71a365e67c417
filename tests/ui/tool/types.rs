//! Misuses of `#[opper::tool]`, one module each (named after what it shows), checked in one
//! compilation: each is a type that does not fit where it is used, reported by the compiler on the user's type.

mod error_not_display {
    #[derive(Debug)]
    struct Failure;

    #[opper::tool]
    fn weather(city: String) -> Result<String, Failure> {
        Ok(city)
    }
}

mod param_not_deserialize {
    #[derive(schemars::JsonSchema)]
    struct City {
        name: String,
    }

    #[opper::tool]
    fn weather(city: City) -> String {
        city.name
    }
}

mod param_not_json_schema {
    #[derive(serde::Deserialize)]
    struct City {
        name: String,
    }

    #[opper::tool]
    fn weather(city: City) -> String {
        city.name
    }
}

mod return_not_serialize {
    struct Weather;

    #[opper::tool]
    async fn weather(city: String) -> Weather {
        let _ = city;
        Weather
    }
}

fn main() {}
