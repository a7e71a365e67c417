//! Misuses of `#[opper::function]` and the agent builder, one module each (named after what
//! it shows), checked in one compilation: each is an error the macro reports on the offending
//! token, with what to do.

mod agent_misuse {
    // An agent's keys: each mistake once, on its token.
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Report {
        summary: String,
    }

    /// Add.
    #[opper::tool]
    fn add(a: i64, b: i64) -> i64 {
        a + b
    }

    #[opper::function(tools = add)]
    async fn not_a_list(city: String) -> opper::Result<Report>;

    #[opper::function(tools = [add, "get_weather"], max_iterations = 0)]
    async fn bad_items(city: String) -> opper::Result<Report>;

    #[opper::function(max_iterations = 3)]
    async fn limit_without_tools(city: String) -> opper::Result<Report>;

    #[opper::function(tools = [add])]
    async fn streamed_as_a_task(city: String) -> opper::Result<opper::Stream<String>>;
}

mod attribute_on_trait_impl {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    trait Adder {
        async fn add_numbers(&self, x: i64, y: i64) -> opper::Result<Sum>;
    }

    struct Calculator;

    #[opper::function]
    impl Adder for Calculator {
        async fn add_numbers(&self, x: i64, y: i64) -> opper::Result<Sum> {
            Ok(Sum { sum: x + y })
        }
    }
}

mod bad_model {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function(model = [openai, model(temperature = 0.2)])]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod const_fn {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function]
    const async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod example_input_form {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function(example(input = Sum { sum: 1 }, output = Sum { sum: 4 }))]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod example_missing_field {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function(example(input(x = 1), output = Sum { sum: 4 }))]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod example_missing_output {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function(example(input(x = 1, y = 3), comment = "no output"))]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod example_unknown_field {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function(example(input(x = 1, z = 3), output = Sum { sum: 4 }))]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod extern_fn {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function]
    async extern "C" fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod generic {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function]
    async fn add_numbers<T: serde::Serialize>(x: T, y: T) -> opper::Result<Sum>;
}

mod has_body {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum> {
        todo!()
    }
}

mod impl_trait_param {
    #[opper::function]
    async fn summarize(text: impl Into<String>) -> opper::Result<String>;
}

mod input_marker_with_other_params {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function]
    async fn add_numbers(#[input] x: Sum, y: i64) -> opper::Result<Sum>;
}

mod lifetime_param {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function]
    async fn add_numbers<'a>(x: i64, y: i64) -> opper::Result<Sum>;
}

mod missing_return_type {
    #[opper::function]
    async fn add_numbers(x: i64, y: i64);
}

mod mut_ref_param {
    #[opper::function]
    async fn summarize(text: &mut String, notes: Vec<&mut str>) -> opper::Result<String>;
}

mod mut_self {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    struct Calculator(opper::Opper);

    impl AsRef<opper::Opper> for Calculator {
        fn as_ref(&self) -> &opper::Opper {
            &self.0
        }
    }

    impl Calculator {
        #[opper::function]
        async fn add_numbers(&mut self, x: i64, y: i64) -> opper::Result<Sum>;

        #[opper::function]
        async fn add_boxed(self: Box<Self>, x: i64, y: i64) -> opper::Result<Sum>;
    }
}

mod not_a_function {
    #[opper::function]
    struct Sum {
        sum: i64,
    }
}

mod not_async {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function]
    fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod pattern_param {
    #[opper::function]
    async fn add_numbers((x, y): (i64, i64)) -> opper::Result<String>;
}

mod reasks_not_a_number {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Sum {
        sum: i64,
    }

    fn positive(sum: &Sum) -> Result<(), String> {
        if sum.sum > 0 { Ok(()) } else { Err("negative".into()) }
    }

    #[opper::function(validate = positive, reasks = "two")]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;

    #[opper::function(reasks = -1)]
    async fn subtract(x: i64, y: i64) -> opper::Result<Sum>;
}

mod repeated_key {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function(model = "openai/gpt-4o-mini", model = "openai/gpt-4o")]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod self_by_value {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    struct Calculator(opper::Opper);

    impl AsRef<opper::Opper> for Calculator {
        fn as_ref(&self) -> &opper::Opper {
            &self.0
        }
    }

    impl Calculator {
        #[opper::function]
        async fn add_numbers(self, x: i64, y: i64) -> opper::Result<Sum>;
    }

    // The method keeps its signature: callers still compile.
    async fn use_it(calculator: Calculator) -> opper::Result<i64> {
        Ok(calculator.add_numbers(1, 2).await?.sum)
    }

    pub fn main() {
        let _ = use_it;
    }
}

mod unknown_key {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function(modle = "openai/gpt-4o-mini")]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod unknown_param_attribute {
    #[opper::function]
    async fn summarize(#[cfg(test)] text: String) -> opper::Result<String>;
}

mod unsafe_fn {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function]
    async unsafe fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod validate_set_twice {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Sum {
        sum: i64,
    }

    fn positive(sum: &Sum) -> Result<(), String> {
        if sum.sum > 0 { Ok(()) } else { Err("negative".into()) }
    }

    #[opper::function(validate = positive, validate = positive)]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

mod variadic {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function]
    async fn add_numbers(x: i64, rest: ...) -> opper::Result<Sum>;
}

mod wrong_return_type {
    #[opper::function]
    async fn add_numbers(x: i64, y: i64) -> i64;
}

mod wrong_value_kind {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Sum {
        sum: i64,
    }

    #[opper::function(name = 3, max_attempts = "3", xml_mode = 1)]
    async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;
}

fn main() {}
