//! `example(input(...), output = ..., comment = "...")`: its keys, then its form against the
//! signature's (the compiler checks the values' types).

use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{Expr, Ident};

use super::value::expr;
use crate::ctxt::Ctxt;
use crate::function::attr::{Meta, Value};
use crate::function::spec::{Example, ExampleInput, Input, Param};
use crate::function::symbol;

/// An example with its keys checked, in either input form.
pub(super) struct RawExample {
    input: RawInput,
    output: Expr,
    comment: Option<Expr>,
}

impl RawExample {
    /// The example's output, to point at the example.
    pub(super) fn output(&self) -> &Expr {
        &self.output
    }
}

enum RawInput {
    /// `input(field = value, ...)`; the `input` token.
    Fields(Ident, Vec<(Ident, Expr)>),
    /// `input = value`; the `input` token.
    Whole(Ident, Expr),
}

/// The keys of `example(...)`: each once, `input` and `output` required.
pub(super) fn parse(key: &Ident, list: &[Meta], cx: &Ctxt) -> Option<RawExample> {
    let mut input = None;
    let mut output = None;
    let mut comment = None;
    let mut seen: Vec<String> = Vec::new();
    for meta in list {
        let Some(inner) = meta.key() else {
            cx.error_spanned_by(&meta.path, "expected `input`, `output` or `comment`");
            continue;
        };
        let name = inner.to_string();
        let known = [symbol::INPUT, symbol::OUTPUT, symbol::COMMENT].contains(&name.as_str());
        if !known {
            cx.error_spanned_by(
                inner,
                format!(
                    "unknown key `{name}` in `example(...)`; expected `input`, `output` or `comment`"
                ),
            );
            continue;
        }
        if seen.contains(&name) {
            cx.error_spanned_by(
                inner,
                format!("`{name}` is set multiple times in this example"),
            );
            continue;
        }
        seen.push(name.clone());
        match (name.as_str(), &meta.value) {
            (symbol::INPUT, Value::List(fields)) => {
                input = Some(RawInput::Fields(inner.clone(), input_fields(fields, cx)));
            }
            (symbol::INPUT, Value::Expr(expr)) => {
                input = Some(RawInput::Whole(inner.clone(), expr.clone()));
            }
            (symbol::INPUT, _) => cx.error_spanned_by(
                inner,
                "expected `input(parameter = value, ...)` or `input = value`",
            ),
            (symbol::OUTPUT, _) => output = expr(meta, cx).cloned(),
            _ => comment = expr(meta, cx).cloned(),
        }
    }
    if input.is_none() {
        cx.error_spanned_by(
            key,
            "this example has no input: add `input(parameter = value, ...)`",
        );
    }
    if output.is_none() {
        cx.error_spanned_by(key, "this example has no output: add `output = ...`");
    }
    Some(RawExample {
        input: input?,
        output: output?,
        comment,
    })
}

/// `input(text = "...", ...)`: parameter names, each once.
fn input_fields(list: &[Meta], cx: &Ctxt) -> Vec<(Ident, Expr)> {
    let mut fields: Vec<(Ident, Expr)> = Vec::new();
    for field in list {
        let Some(ident) = field.key() else {
            cx.error_spanned_by(
                &field.path,
                "expected a parameter name: `input(text = \"...\")`",
            );
            continue;
        };
        let Some(value) = expr(field, cx) else {
            continue;
        };
        if fields.iter().any(|(existing, _)| existing == ident) {
            cx.error_spanned_by(
                ident,
                format!("`{ident}` is set multiple times in this example"),
            );
        } else {
            fields.push((ident.clone(), value.clone()));
        }
    }
    fields
}

/// Whether `input(...)` names each parameter once and nothing else. Checked here, once: the
/// compiler would report a wrong name in each generated body that builds the example.
fn fields_match(key: &Ident, fields: &[(Ident, Expr)], params: &[Param], cx: &Ctxt) -> bool {
    let names = params
        .iter()
        .map(|param| format!("`{}`", param.ident.unraw()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut matched = true;
    for (field, _) in fields {
        if !params.iter().any(|param| param.ident == *field) {
            cx.error_spanned_by(
                field,
                format!(
                    "`{}` is not a parameter of this function; its parameters: {names}",
                    field.unraw()
                ),
            );
            matched = false;
        }
    }
    let missing: Vec<String> = params
        .iter()
        .filter(|param| !fields.iter().any(|(field, _)| *field == param.ident))
        .map(|param| format!("`{}`", param.ident.unraw()))
        .collect();
    // After a wrong name, a missing one is most likely the same mistake: reported once.
    if matched && !missing.is_empty() {
        cx.error_spanned_by(
            key,
            format!(
                "this example gives no value for {}: an example sets every parameter",
                missing.join(", ")
            ),
        );
        matched = false;
    }
    matched
}

/// Examples in the signature's form: `input(...)` with parameters, `input = ...` with an
/// `#[input]` parameter.
pub(super) fn match_signature(examples: Vec<RawExample>, input: &Input, cx: &Ctxt) -> Vec<Example> {
    let mut matched = Vec::new();
    for example in examples {
        let input = match (example.input, input) {
            (RawInput::Whole(key, _), Input::Fields(_)) => {
                cx.error_spanned_by(
                    key,
                    "this function's input is its parameters: write `input(parameter = value, ...)`",
                );
                continue;
            }
            (RawInput::Fields(key, _), Input::Whole(param)) => {
                cx.error_spanned_by(
                    key,
                    format!(
                        "this function's input is its `#[input]` parameter: write `input = {} {{ ... }}`",
                        param.ty.to_token_stream()
                    ),
                );
                continue;
            }
            (RawInput::Fields(key, fields), Input::Fields(params)) => {
                if !fields_match(&key, &fields, params, cx) {
                    continue;
                }
                ExampleInput::Fields { key, fields }
            }
            (RawInput::Whole(_, expr), Input::Whole(_)) => ExampleInput::Whole(expr),
        };
        matched.push(Example {
            input,
            output: example.output,
            comment: example.comment,
        });
    }
    matched
}
