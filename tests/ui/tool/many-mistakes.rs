// Each mistake is reported once, on its token, and callers still compile.
#[opper::tool(model = "x")]
unsafe fn sum<'a>(list: &'a mut Vec<i64>, (a, b): (i64, i64), f: impl Fn()) -> i64 {
    let _ = f;
    list.len() as i64 + a + b
}

fn main() {
    let _: opper::Tool = sum_tool();
}
