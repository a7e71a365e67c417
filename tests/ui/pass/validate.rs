//! Every form `validate = EXPR` takes: a fn path, a closure (its argument's type inferred), a
//! method path, any `Display` error, with and without `reasks`, on every return type; for a
//! `Vec<T>` output `&[T]` as well as `&Vec<T>`, for a `String` output `&str` as well as `&String`
//! (fns and closures), and a trait's method whose `Self` is inferred (as `garde::Validate::validate`)
//! even where the trait is implemented for the slice or `str` too.

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

#[allow(clippy::ptr_arg)]
fn vec_not_empty(items: &Vec<Sum>) -> Result<(), String> {
    if items.is_empty() { Err("empty".into()) } else { Ok(()) }
}

fn slice_not_empty(items: &[Sum]) -> Result<(), String> {
    if items.is_empty() { Err("empty".into()) } else { Ok(()) }
}

fn short_str(text: &str) -> Result<(), &'static str> {
    if text.len() < 100 { Ok(()) } else { Err("too long") }
}

/// A validation trait as garde's: implemented for the output, its slice and `str` alike.
trait Check {
    fn check(&self) -> Result<(), String>;
}

impl Check for Vec<Sum> {
    fn check(&self) -> Result<(), String> { Ok(()) }
}

impl Check for [Sum] {
    fn check(&self) -> Result<(), String> { Err("the slice's, not the Vec's".into()) }
}

impl Check for String {
    fn check(&self) -> Result<(), String> { Ok(()) }
}

impl Check for str {
    fn check(&self) -> Result<(), String> { Err("the str's, not the String's".into()) }
}

/// List sums
#[opper::function(validate = vec_not_empty)]
async fn sums_vec(n: i64) -> opper::Result<Vec<Sum>>;

/// List sums
#[opper::function(validate = slice_not_empty, reasks = 1)]
async fn sums_slice(n: i64) -> opper::Result<opper::Stream<Vec<Sum>>>;

/// List sums
#[opper::function(validate = |items: &[Sum]| if items.len() < 3 { Ok(()) } else { Err("too many") })]
async fn sums_slice_closure(n: i64) -> opper::Result<Vec<Sum>>;

/// List sums
#[opper::function(validate = |items: &Vec<Sum>| if items.len() < 3 { Ok(()) } else { Err("too many") })]
async fn sums_vec_closure(n: i64) -> opper::Result<Vec<Sum>>;

/// List sums
#[opper::function(validate = |items| if Vec::len(items) < 3 { Ok(()) } else { Err("too many") })]
async fn sums_untyped_closure(n: i64) -> opper::Result<Vec<Sum>>;

/// List sums
#[opper::function(validate = Check::check)]
async fn sums_trait_method(n: i64) -> opper::Result<opper::Response<Vec<Sum>>>;

/// Summarize
#[opper::function(validate = short_str)]
async fn summarize_str(text: String) -> opper::Result<String>;

/// Summarize
#[opper::function(validate = |text: &str| if text.is_empty() { Err("empty") } else { Ok(()) })]
async fn summarize_str_closure(text: String) -> opper::Result<opper::Stream<String>>;

/// Summarize
#[opper::function(validate = Check::check)]
async fn summarize_trait_method(text: String) -> opper::Result<String>;

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
    let _ = (sums_vec(1), sums_slice(1), sums_slice_closure(1), sums_vec_closure(1));
    let _ = (sums_untyped_closure(1), sums_trait_method(1));
    let _ = (summarize_str(String::new()), summarize_str_closure(String::new()));
    let _ = summarize_trait_method(String::new());
}
