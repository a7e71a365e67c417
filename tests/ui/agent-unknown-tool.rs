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

fn main() {
    let _ = add(1, 2);
}
