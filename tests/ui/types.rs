//! Misuses of `#[opper::function]` and the agent builder, one module each (named after what it shows), checked in one
//! compilation: each is a type that does not fit where it is used, reported by the compiler on the user's type.

mod agent_unknown_tool {
    // A tool that is not an #[opper::tool]: its `_tool()` is missing, reported on the path.
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Report {
        summary: String,
    }

    fn add(a: i64, b: i64) -> i64 {
        a + b
    }

    #[opper::function(tools = [add])]
    async fn plan(city: String) -> opper::Result<Report>;

    pub fn main() {
        let _ = add(1, 2);
    }
}

mod example_output_not_serialize {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function(example(input(x = 1, y = 3), output = Sum { sum: 4 }))]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod example_wrong_output {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function(example(input(x = 1, y = 3), output = 4))]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod example_wrong_type {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function(example(input(x = 1, y = "three"), output = Sum { sum: 4 }))]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod input_not_json_schema {
    // A parameter type that cannot be an input is reported once, on the type: not again by the
    // example that gives it a value, nor by either generated body.
    #[derive(serde::Serialize)]
    struct Point {
        x: i64,
    }

    #[opper::function(example(input(point = Point { x: 1 }, note = "n"), output = "a point"))]
    async fn describe(point: Point, note: &str) -> opper::Result<String>;
}

mod input_not_serialize {
    #[derive(schemars::JsonSchema)]
    struct Point {
        x: i64,
        y: i64,
    }

    #[opper::function]
    async fn describe(point: Point) -> opper::Result<String>;
}

mod output_not_deserialize {
    #[derive(schemars::JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod output_not_json_schema {
    #[derive(serde::Deserialize)]
    struct Sum {
        sum: i64,
    }

    #[opper::function]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod self_without_as_ref {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    struct Calculator {
        opper: opper::Opper,
    }

    impl Calculator {
        #[opper::function]
        async fn add_numbers(&self, x: i64, y: i64) -> opper::Result<Sum>;
    }
}

mod stream_not_partial {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<opper::Stream<Sum>>;
}

mod stream_unit_enum {
    // A unit enum is streamed as a field of a struct: a stream's partial has a value from the
    // start, and a variant has none before it is whole.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema, opper::Partial)]
    enum Role {
        Writer,
        Editor,
    }

    /// Classify the text.
    #[opper::function]
    async fn classify(text: String) -> opper::Result<opper::Stream<Role>>;
}

mod trait_impl {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    trait Adder {
        async fn add_numbers(&self, x: i64, y: i64) -> opper::Result<Sum>;
    }

    struct Calculator(opper::Opper);

    impl AsRef<opper::Opper> for Calculator {
        fn as_ref(&self) -> &opper::Opper {
            &self.0
        }
    }

    impl Adder for Calculator {
        #[opper::function]
        async fn add_numbers(&self, x: i64, y: i64) -> opper::Result<Sum>;
    }
}

mod validate_error_not_display {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[derive(Debug)]
    struct Negative;

    fn positive(sum: &Sum) -> Result<(), Negative> {
        if sum.sum > 0 { Ok(()) } else { Err(Negative) }
    }

    #[opper::function(validate = positive)]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod validate_not_callable {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function(validate = "sum > 0")]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod validate_returns_bool {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function(validate = |s: &Sum| s.sum > 0)]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod validate_slice_of_another_type {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Contact {
        name: String,
    }

    // A slice, as clippy asks, but of another type than the output's items.
    fn some(names: &[String]) -> Result<(), String> {
        if names.is_empty() { Err("none".into()) } else { Ok(()) }
    }

    #[opper::function(validate = some)]
    async fn contacts(text: String) -> opper::Result<Vec<Contact>>;
}

mod validate_str_of_another_output {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Summary {
        text: String,
    }

    // `&str` validates a `String` output, not a struct.
    fn short(text: &str) -> Result<(), String> {
        if text.len() < 10 { Ok(()) } else { Err("too long".into()) }
    }

    #[opper::function(validate = short)]
    async fn summarize(text: String) -> opper::Result<Summary>;
}

mod validate_wrong_output_type {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Sum {
        sum: i64,
    }

    fn positive(n: &i64) -> Result<(), String> {
        if *n > 0 { Ok(()) } else { Err("negative".into()) }
    }

    #[opper::function(validate = positive)]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod validate_wrong_signature {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Sum {
        sum: i64,
    }

    // Takes the output by value: a validator borrows it.
    fn positive(sum: Sum) -> Result<(), String> {
        if sum.sum > 0 { Ok(()) } else { Err("negative".into()) }
    }

    #[opper::function(validate = positive)]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

fn main() {}
