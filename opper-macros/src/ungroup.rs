//! Seeing through invisible groups. A `$x:literal`, `$x:expr` or `$x:ty` fragment of a
//! `macro_rules!` macro reaches the attribute wrapped in a group without delimiters, which syn
//! parses as `Expr::Group` / `Type::Group`: every place that expects a literal, a path or a
//! type of some shape looks through them (serde_derive's `get_lit_str`).

use syn::{Expr, Lit, LitStr, Type};

/// The expression inside any number of invisible groups.
pub(crate) fn ungroup(mut expr: &Expr) -> &Expr {
    while let Expr::Group(group) = expr {
        expr = &group.expr;
    }
    expr
}

/// The type inside any number of invisible groups.
pub(crate) fn ungroup_type(mut ty: &Type) -> &Type {
    while let Type::Group(group) = ty {
        ty = &group.elem;
    }
    ty
}

/// The literal, if `expr` is one (through invisible groups).
pub(crate) fn lit(expr: &Expr) -> Option<&Lit> {
    match ungroup(expr) {
        Expr::Lit(lit) if lit.attrs.is_empty() => Some(&lit.lit),
        _ => None,
    }
}

/// The string literal, if `expr` is one (through invisible groups).
pub(crate) fn lit_str(expr: &Expr) -> Option<&LitStr> {
    match lit(expr) {
        Some(Lit::Str(lit)) => Some(lit),
        _ => None,
    }
}
