//! The value after a key, of the form the key takes: `= expr` or `(...)`, or an error that
//! says which.

use syn::Expr;

use crate::ctxt::Ctxt;
use crate::function::attr::{Meta, Value};

/// `= expr` after `meta`'s key, or an error that says so.
pub(super) fn expr<'m>(meta: &'m Meta, cx: &Ctxt) -> Option<&'m Expr> {
    match &meta.value {
        Value::Expr(expr) => Some(expr),
        _ => {
            cx.error_spanned_by(
                &meta.path,
                format!("expected `{} = ...`", path_name(&meta.path)),
            );
            None
        }
    }
}

/// `(...)` after `meta`'s key, or an error that says so.
pub(super) fn list<'m>(meta: &'m Meta, cx: &Ctxt) -> Option<&'m [Meta]> {
    match &meta.value {
        Value::List(list) => Some(list),
        _ => {
            cx.error_spanned_by(
                &meta.path,
                format!("expected `{}(...)`", path_name(&meta.path)),
            );
            None
        }
    }
}

fn path_name(path: &syn::Path) -> String {
    crate::crate_path::to_string(path)
}
