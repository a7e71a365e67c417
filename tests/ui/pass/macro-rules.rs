//! Tasks declared inside `macro_rules!`: `literal`, `expr`, `ident`, `tt` and `ty` fragments in
//! every place the attribute reads a literal, an expression, a name or a type.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Sum {
    sum: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Pair {
    x: i64,
    y: i64,
}

mod reexport {
    pub use ::opper::*;
}

// `literal` fragments for every literal: name, instructions, models, options, headers, tags,
// configuration values, example values and comment, and the doc comment.
macro_rules! literal_task {
    ($f:ident, $doc:literal, $name:literal, $model:literal, $fallback:literal, $temperature:literal,
     $header:literal, $tag:literal, $attempts:literal, $xml:literal, $x:literal, $y:literal,
     $comment:literal) => {
        #[doc = $doc]
        #[opper::function(
            name = $name,
            model = [$model, model($fallback, temperature = $temperature, extra_headers("x-team" = $header))],
            tags(project = $tag),
            max_attempts = $attempts,
            configuration(xml_mode = $xml, cache_ttl = $attempts),
            example(input(x = $x, y = $y), output = Sum { sum: 3 }, comment = $comment),
        )]
        async fn $f(x: i64, y: i64) -> opper::Result<Sum>;
    };
}
literal_task!(
    add_literal,
    "Add the numbers.",
    "add",
    "openai/gpt-4o-mini",
    "anthropic/claude-sonnet-4",
    0.2,
    "core",
    "macros",
    3,
    false,
    1,
    2,
    "One and two"
);

// `expr` fragments, including a whole `model(...)`, a whole fallback list and the crate's path.
macro_rules! expr_task {
    ($f:ident, $name:expr, $instructions:expr, $model:expr, $tag:expr, $attempts:expr,
     $validation:expr, $x:expr, $output:expr, $krate:expr) => {
        #[opper::function(
            crate = $krate,
            name = $name,
            instructions = $instructions,
            model = $model,
            tags(project = $tag),
            few_shot_count = $attempts,
            configuration(input_validation = $validation),
            example(input(x = $x, y = $x), output = $output),
        )]
        async fn $f(x: i64, y: i64) -> opper::Result<Sum>;
    };
}
expr_task!(
    add_expr,
    "add",
    "Add the numbers.",
    model("openai/gpt-4o-mini", temperature = 0.2, max_tokens = 100),
    "macros",
    2,
    true,
    1 + 1,
    Sum { sum: 4 },
    "crate::reexport"
);
expr_task!(
    add_fallback,
    "add_fallback",
    "Add.",
    ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4"],
    env!("CARGO_PKG_NAME"),
    0,
    false,
    0,
    Sum { sum: 0 },
    crate::reexport
);

// `ident` fragments for the function, its parameters, keys and example fields.
macro_rules! ident_task {
    ($f:ident, $a:ident, $b:ident, $tag:ident, $key:ident, $option:ident) => {
        /// Add the numbers.
        #[opper::function(
            model("openai/gpt-4o-mini", $option = 0.5),
            tags($tag = "macros"),
            $key = 3,
            example(input($a = 1, $b = 2), output = Sum { sum: 3 }),
        )]
        async fn $f($a: i64, $b: i64) -> opper::Result<Sum>;
    };
}
ident_task!(add_ident, left, right, project, max_attempts, temperature);

// `tt` fragments, and the whole argument list as token trees.
macro_rules! tt_task {
    ($f:ident, $name:tt, $model:tt, $($args:tt)*) => {
        /// Add the numbers.
        #[opper::function(name = $name, model = $model, $($args)*)]
        async fn $f(x: i64, y: i64) -> opper::Result<Sum>;
    };
}
tt_task!(add_tt, "add", ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4"], tags(project = "macros"), xml_mode = true, example(input(x = 1, y = 2), output = Sum { sum: 3 }, comment = "tt"));

// `ty` fragments for the parameters and the output, and an `#[input]` parameter with an
// `expr` example.
macro_rules! typed_task {
    ($f:ident, $param:ty, $output:ty, $stream:ident, $input:expr) => {
        /// Add the pair.
        #[opper::function(example(input = $input, output = Sum { sum: 3 }))]
        async fn $f(#[input] pair: $param) -> opper::Result<$output>;

        /// Add the pair, streamed.
        #[opper::function]
        async fn $stream(pair: $param) -> opper::Result<opper::Stream<$output>>;
    };
}
typed_task!(add_pair, Pair, Sum, add_pair_live, Pair { x: 1, y: 2 });

async fn calls(client: &opper::Opper) -> opper::Result<()> {
    let _: Sum = add_literal(1, 2).await?;
    let _: Sum = add_expr_with(client, 1, 2).await?;
    let _: Sum = add_fallback(1, 2).await?;
    let _: Sum = add_ident(1, 2).await?;
    let _: Sum = add_tt(1, 2).await?;
    let _: Sum = add_pair(Pair { x: 1, y: 2 }).await?;
    let _: Sum = add_pair_live(Pair { x: 1, y: 2 }).await?.finish().await?;
    Ok(())
}

fn main() {
    let _ = calls;
}
