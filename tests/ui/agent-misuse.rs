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

fn main() {}
