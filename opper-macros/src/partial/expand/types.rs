//! The paths and types every part of the expansion names: the `__private` module, the input's
//! generics bounded for `Partial`, and a field's type as generated code may name it.

use proc_macro2::{Group, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::{GenericParam, Generics, parse_quote};

use crate::partial::spec::{Field, Input};

/// `::opper::__private`, or under the path `#[opper(crate = "...")]` gives.
pub(super) fn private(input: &Input<'_>) -> TokenStream {
    let krate = &input.krate;
    quote!(#krate::__private)
}

/// The input's generics with `T: Partial + 'static` on every type parameter.
pub(super) fn bounded_generics(input: &Input<'_>) -> Generics {
    let krate = &input.krate;
    let mut generics = input.generics.clone();
    for param in &mut generics.params {
        if let GenericParam::Type(param) = param {
            param.bounds.push(parse_quote!(#krate::Partial));
            param.bounds.push(parse_quote!('static));
        }
    }
    generics
}

/// A field's type as the generated code names it: in the partial struct, `Self` would name the
/// partial type, so it names the input instead.
pub(super) fn field_ty(input: &Input<'_>, field: &Field<'_>) -> TokenStream {
    let ident = input.ident;
    let (_, ty_generics, _) = input.generics.split_for_impl();
    replace_self(field.ty.to_token_stream(), &quote!(#ident #ty_generics))
}

/// Replaces every `Self` in `tokens` by `self_ty`.
fn replace_self(tokens: TokenStream, self_ty: &TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|tree| match tree {
            TokenTree::Ident(ident) if ident == "Self" => self_ty.clone(),
            TokenTree::Group(group) => {
                let mut new = Group::new(group.delimiter(), replace_self(group.stream(), self_ty));
                new.set_span(group.span());
                TokenTree::Group(new).into_token_stream()
            }
            other => other.into_token_stream(),
        })
        .collect()
}
