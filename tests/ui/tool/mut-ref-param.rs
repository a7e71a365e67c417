#[opper::tool]
fn push(list: &mut Vec<i64>, value: i64) -> usize {
    list.push(value);
    list.len()
}

fn main() {}
