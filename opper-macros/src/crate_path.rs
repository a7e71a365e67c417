//! The path of the `opper` crate in generated code: `::opper`, or what `crate = "..."` says (for a
//! renamed dependency).

use proc_macro2::Span;
use quote::ToTokens;
use syn::{Expr, Ident, Token};

use crate::ungroup::{lit_str, ungroup};

/// `::opper`.
pub(crate) fn default() -> syn::Path {
    let mut path = syn::Path::from(Ident::new("opper", Span::call_site()));
    path.leading_colon = Some(Token![::](Span::call_site()));
    path
}

/// The value of `crate = ...`: a string holding a path (`"::opper"`) or the path itself.
pub(crate) fn from_expr(expr: &Expr) -> Option<syn::Path> {
    if let Some(lit) = lit_str(expr) {
        return lit.parse().ok();
    }
    match ungroup(expr) {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
            Some(path.path.clone())
        }
        _ => None,
    }
}

/// `path` as one string without spaces, for `#[serde(crate = "...")]` and
/// `#[schemars(crate = "...")]`: `::opper::__private::serde`.
pub(crate) fn to_string(path: impl ToTokens) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}
