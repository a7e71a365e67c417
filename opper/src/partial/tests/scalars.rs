//! Scalars: typed deltas or their text, split numbers, no coercion, unfinished numbers.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::{assemble, assert_err, feed, schema_of};
use crate::error::Error;
use crate::partial::Assembler;

#[derive(Debug, PartialEq, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Scalars {
    text: String,
    int: i64,
    small: u8,
    real: f64,
    single: f32,
    flag: bool,
    letter: char,
    big: u128,
}

#[test]
fn scalars_take_typed_deltas_or_their_text() {
    let value: Scalars = assemble(&[
        ("text", json!("a")),
        ("text", json!(1)),
        ("text", json!(true)),
        ("int", json!(-42)),
        ("small", json!("255")),
        ("real", json!(2.5)),
        ("single", json!("0.1")),
        ("flag", json!(false)),
        ("letter", json!("é")),
        ("big", json!("18446744073709551615")),
    ])
    .unwrap();
    assert_eq!(
        value,
        Scalars {
            text: "a1true".into(),
            int: -42,
            small: 255,
            real: 2.5,
            single: 0.1,
            flag: false,
            letter: 'é',
            big: u128::from(u64::MAX),
        }
    );
}

#[test]
fn numbers_and_booleans_split_over_chunks() {
    let mut asm = Assembler::<Scalars>::new(schema_of::<Scalars>());
    // Text is held back until the field completes: never `1` on the way to `1.25`.
    feed(&mut asm, &[("response.real", json!("1"))]);
    assert_eq!(asm.partial().real, None);
    feed(&mut asm, &[("response.real", json!("2.5"))]);
    assert_eq!(asm.partial().real, None);
    feed(
        &mut asm,
        &[("response.real", json!("e")), ("response.real", json!("-"))],
    );
    assert_eq!(asm.partial().real, None, "an incomplete text shows nothing");
    feed(
        &mut asm,
        &[("response.real", json!("1")), ("int", json!(1))],
    );
    assert_eq!(asm.partial().real, Some(1.25));
    assert_eq!(
        asm.partial().int,
        None,
        "a typed delta waits too: another may follow on the same path"
    );
    feed(&mut asm, &[("int", json!(2))]);
    assert_eq!(asm.partial().int, None, "never `1` on the way to `12`");
    feed(&mut asm, &[("flag", json!("tr"))]);
    assert_eq!(
        asm.partial().int,
        Some(12),
        "typed digits of one path join too"
    );
    assert_eq!(asm.partial().flag, None);
    feed(&mut asm, &[("flag", json!("ue"))]);
    assert_eq!(
        asm.partial().flag,
        None,
        "whole only once the field completes"
    );
    feed(&mut asm, &[("text", json!("x"))]);
    assert_eq!(asm.partial().flag, Some(true));
}

#[test]
fn no_heuristic_coercion() {
    let mut asm = Assembler::<Scalars>::new(None);
    feed(&mut asm, &[("text", json!("123"))]);
    assert_eq!(asm.partial().text.as_deref(), Some("123"));
    assert_err(&mut asm, "int", json!("12a"), "is not an integer");
    let mut asm = Assembler::<Scalars>::new(None);
    assert_err(&mut asm, "int", json!(1.5), "is not an integer");
    assert_err(&mut asm, "flag", json!(1), "expected a boolean");
    assert_err(&mut asm, "flag", json!("yes"), "is not a boolean");
    assert_err(&mut asm, "small", json!(256), "out of range");
    assert_err(
        &mut asm,
        "small",
        json!("-1"),
        "is not a non-negative integer",
    );
    assert_err(&mut asm, "real", json!(true), "expected a number");
    assert_err(&mut asm, "real", json!("NaN"), "is not a number");
    assert_err(&mut asm, "text", json!({"a": 1}), "cannot take");
    assert_err(&mut asm, "text", json!(null), "cannot take");
}

#[test]
fn an_unfinished_number_is_an_error() {
    let mut asm = Assembler::<Scalars>::new(None);
    feed(&mut asm, &[("real", json!("1e"))]);
    assert_err(
        &mut asm,
        "int",
        json!(1),
        "stopped at `1e`, which is not a number",
    );

    let mut asm = Assembler::<Scalars>::new(None);
    feed(&mut asm, &[("text", json!("x")), ("real", json!("-"))]);
    match asm.finish() {
        Err(Error::Incomplete {
            reason, partial, ..
        }) => {
            assert!(reason.contains("`real` stopped at `-`"), "{reason}");
            assert_eq!(partial, json!({"text": "x"}));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_number_too_long_is_rejected() {
    let mut asm = Assembler::<Scalars>::new(None);
    let mut result = Ok(Vec::new());
    asm.push(Some("real"), &json!("0.")).unwrap();
    for _ in 0..1000 {
        result = asm.push(Some("real"), &json!("0"));
        if result.is_err() {
            break;
        }
    }
    assert!(result.unwrap_err().contains("longer than"));
}

#[test]
fn output_that_does_not_fit_is_an_output_error_with_its_path() {
    let mut asm = Assembler::<Scalars>::new(None);
    feed(
        &mut asm,
        &[
            ("text", json!("t")),
            ("int", json!(1)),
            ("small", json!(1)),
            ("real", json!(1)),
            ("single", json!(1)),
            ("flag", json!(true)),
            ("letter", json!("ab")),
            ("big", json!(1)),
        ],
    );
    match asm.finish() {
        Err(Error::Output {
            json,
            path,
            message,
        }) => {
            assert_eq!(path, "letter");
            assert!(message.contains("invalid"), "{message}");
            assert_eq!(json["letter"], "ab");
        }
        other => panic!("{other:?}"),
    }
}
