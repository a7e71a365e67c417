// A parameter type that cannot be an input is reported once, on the type: not again by the
// example that gives it a value, nor by either generated body.
#[derive(serde::Serialize)]
struct Point {
    x: i64,
}

#[opper::function(example(input(point = Point { x: 1 }, note = "n"), output = "a point"))]
async fn describe(point: Point, note: &str) -> opper::Result<String>;

fn main() {}
