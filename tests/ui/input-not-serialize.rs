#[derive(schemars::JsonSchema)]
struct Point {
    x: i64,
    y: i64,
}

#[opper::function]
async fn describe(point: Point) -> opper::Result<String>;

fn main() {}
