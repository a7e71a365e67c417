//! `crate = "..."` points the generated code at another path of the opper crate (for a renamed
//! dependency: `opper2 = { package = "opper", ... }` and `crate = "::opper2"`).
mod reexport {
    pub use ::opper::*;
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct Sum {
    sum: i64,
}

/// Add.
#[opper::function(crate = "crate::reexport", model = "openai/gpt-4o-mini", example(input(x = 1, y = 2), output = 3))]
async fn add(x: i64, y: i64) -> opper::Result<i64>;

/// Add, with the path unquoted.
#[opper::function(crate = crate::reexport)]
async fn add_again(x: i64, y: i64) -> opper::Result<Sum>;

fn main() {
    let _ = (add(1, 2), add_again(1, 2));
}
