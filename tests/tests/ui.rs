//! Compile-time behaviour of `#[opper::function]` and `#[derive(opper::Partial)]`: every misuse
//! is an error on the offending token with a message that says what to do, and every supported
//! form compiles.
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p opper-tests --test ui`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/*.rs");
    cases.compile_fail("ui/partial/*.rs");
    cases.compile_fail("ui/tool/*.rs");
}
