//! Misuses of `#[opper::tool]`, one module each (named after what it shows), checked in one
//! compilation: each is an error the macro reports on the offending token, with what to do.

mod generic {
    #[opper::tool]
    fn echo<T: serde::Serialize>(value: T) -> T {
        value
    }
}

mod mut_ref_param {
    #[opper::tool]
    fn push(list: &mut Vec<i64>, value: i64) -> usize {
        list.push(value);
        list.len()
    }
}

mod no_body {
    #[opper::tool]
    fn add(a: i64, b: i64) -> i64;
}

mod self_receiver {
    struct Calculator;

    impl Calculator {
        #[opper::tool]
        fn add(&self, a: i64, b: i64) -> i64 {
            a + b
        }
    }
}

fn main() {}
