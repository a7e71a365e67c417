//! Helpers for `key = value` / `key(...)` attribute arguments, shared by both macros.

use syn::Token;
use syn::meta::ParseNestedMeta;

/// Consumes the value of a key that is not read (`= expr` or `(...)`), so that parsing goes on
/// with the next key.
pub(crate) fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}
