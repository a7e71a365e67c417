//! What a parameter of an `#[opper::function]` or an `#[opper::tool]` may be, checked alike for
//! both: a plain name (`plain_name`), and a type without `impl Trait`, `&mut` or a named
//! lifetime (`refused`). Each macro words its own errors.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Ident, Pat, Type};

use crate::ctxt::Ctxt;

/// The parameter's name, when `pat` is a plain one (no `ref`, no `name @ pattern`, no
/// destructuring); else `message` is reported on the pattern.
pub(crate) fn plain_name(pat: &Pat, cx: &Ctxt, message: &str) -> Option<Ident> {
    match pat {
        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => Some(pat.ident.clone()),
        other => {
            cx.error_spanned_by(other, message);
            None
        }
    }
}

/// What a parameter's type cannot hold.
pub(crate) enum Refused {
    ImplTrait,
    MutRef,
    /// A named lifetime other than `'static` (`'_` is elided).
    Lifetime,
}

/// Every `impl`, `&mut` and named lifetime in `ty`, with its tokens, in the order written.
pub(crate) fn refused(ty: &Type) -> Vec<(TokenStream, Refused)> {
    let mut found = Vec::new();
    find_refused(ty.to_token_stream(), &mut found);
    found
}

fn find_refused(tokens: TokenStream, found: &mut Vec<(TokenStream, Refused)>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tt) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1);
        match tt {
            TokenTree::Group(group) => find_refused(group.stream(), found),
            TokenTree::Ident(ident) if ident == "impl" => {
                found.push((tt.to_token_stream(), Refused::ImplTrait));
            }
            TokenTree::Punct(punct) if punct.as_char() == '&' => {
                if let Some(TokenTree::Ident(ident)) = next
                    && ident == "mut"
                {
                    found.push((quote::quote!(#punct #ident), Refused::MutRef));
                }
            }
            TokenTree::Punct(punct) if punct.as_char() == '\'' => {
                if let Some(TokenTree::Ident(ident)) = next
                    && ident != "static"
                    && ident != "_"
                {
                    found.push((quote::quote!(#punct #ident), Refused::Lifetime));
                }
            }
            _ => {}
        }
    }
}
