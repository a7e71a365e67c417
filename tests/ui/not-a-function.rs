#[opper::function]
struct Sum {
    sum: i64,
}

fn main() {}
