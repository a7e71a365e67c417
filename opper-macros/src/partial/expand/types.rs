//! The paths and types every part of the expansion names: the `__private` module, the input's
//! generics bounded for `Partial`, and a field's type as generated code may name it.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{GenericParam, Generics, parse_quote};

use crate::partial::spec::{Body, Field, Input};

/// `::opper::__private`, or under the path `#[opper(crate = "...")]` gives.
pub(super) fn private(input: &Input<'_>) -> TokenStream {
    let krate = &input.krate;
    quote!(#krate::__private)
}

/// The input's generics with `T: __private::PartialForm + 'static` on every type parameter
/// (so that a type parameter may be a unit enum).
pub(super) fn bounded_generics(input: &Input<'_>) -> Generics {
    let rt = private(input);
    let mut generics = input.generics.clone();
    for param in &mut generics.params {
        if let GenericParam::Type(param) = param {
            param.bounds.push(parse_quote!(#rt::PartialForm));
            param.bounds.push(parse_quote!('static));
        }
    }
    generics
}

/// [`bounded_generics`] and, for a struct, `FieldType: __private::PartialField` for every field
/// whose type names no type parameter, spanned on that type: the generics of the partial
/// struct, of its impls and of `impl Partial` (`PartialField` says why).
pub(super) fn field_bounded_generics(input: &Input<'_>) -> Generics {
    let mut generics = bounded_generics(input);
    let Body::Struct(fields) = &input.body else {
        return generics;
    };
    let params: Vec<String> = input
        .generics
        .type_params()
        .map(|param| param.ident.to_string())
        .collect();
    let rt = private(input);
    let mut seen: Vec<String> = Vec::new();
    for field in fields {
        let ty = field_ty(input, field);
        let key = ty.to_string();
        if seen.contains(&key) || params.iter().any(|param| mentions(&ty, param)) {
            continue;
        }
        seen.push(key);
        let end = last_span(&ty).unwrap_or_else(|| field.ty.span());
        let bound = respan(quote!(: #rt::PartialField), end);
        generics
            .make_where_clause()
            .predicates
            .push(parse_quote!(#ty #bound));
    }
    generics
}

/// Whether `tokens` contain the identifier `name`.
fn mentions(tokens: &TokenStream, name: &str) -> bool {
    tokens.clone().into_iter().any(|tree| match tree {
        TokenTree::Group(group) => mentions(&group.stream(), name),
        TokenTree::Ident(ident) => ident == name,
        _ => false,
    })
}

/// `tokens` with every token spanned on `span`.
pub(super) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut new = Group::new(group.delimiter(), respan(group.stream(), span));
                new.set_span(span);
                tree = TokenTree::Group(new);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// The span of the last token of `tokens` (a group's closing delimiter), so that a bound
/// written after a type spans the whole type.
fn last_span(tokens: &TokenStream) -> Option<Span> {
    tokens.clone().into_iter().last().map(|last| match last {
        TokenTree::Group(group) => group.span_close(),
        other => other.span(),
    })
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
