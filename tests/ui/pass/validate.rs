//! Every form `validate = EXPR` takes: a fn path, a closure (its argument's type inferred), a
//! method path, any `Display` error, with and without `reasks`, on every return type.

use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Deserialize, JsonSchema, opper::Partial)]
struct Sum {
    sum: i64,
}

impl Sum {
    fn check(&self) -> Result<(), std::fmt::Error> {
        Ok(())
    }
}

fn positive(sum: &Sum) -> Result<(), String> {
    if sum.sum > 0 { Ok(()) } else { Err(format!("sum must be positive, got {}", sum.sum)) }
}

fn short(text: &String) -> Result<(), &'static str> {
    if text.len() < 100 { Ok(()) } else { Err("too long") }
}

/// Calculate the sum of two numbers
#[opper::function(validate = positive, reasks = 2)]
async fn add(x: i64, y: i64) -> opper::Result<opper::Response<Sum>>;

/// Calculate the sum of two numbers
#[opper::function(validate = |s| if s.sum < 100 { Ok(()) } else { Err("too big") })]
async fn add_small(x: i64, y: i64) -> opper::Result<Sum>;

/// Calculate the sum of two numbers
#[opper::function(validate = Sum::check, reasks = 0)]
async fn add_checked(x: i64, y: i64) -> opper::Result<opper::Stream<Sum>>;

/// Shape failures only
#[opper::function(reasks = 1)]
async fn add_shaped(x: i64, y: i64) -> opper::Result<Sum>;

/// Summarize
#[opper::function(validate = short)]
async fn summarize(text: String) -> opper::Result<String>;

fn main() {
    let _ = (add(1, 2), add_small(1, 2), add_checked(1, 2), add_shaped(1, 2));
    let _ = summarize(String::new());
}
