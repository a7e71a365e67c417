//! On error: the functions with the user's signature and a stub body, so that callers compile
//! and only the real errors are reported (thiserror's `fallback.rs`, tokio's "emit the item").

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{FnArg, Safety};

use super::ast::ItemSig;

pub(crate) fn stub(item: &ItemSig, krate: &syn::Path) -> TokenStream {
    let mut sig = item.sig.clone();
    // Always an `async fn` taking plain parameters, so that `f(..).await` type-checks.
    sig.constness = None;
    sig.asyncness = Some(Default::default());
    sig.safety = Safety::Default;
    sig.abi = None;
    sig.variadic = None;
    sig.inputs = sig
        .inputs
        .into_pairs()
        .filter_map(|pair| {
            let (arg, comma) = pair.into_tuple();
            match arg {
                FnArg::Receiver(_) => None,
                FnArg::Typed(mut typed) => {
                    typed.attrs.clear();
                    Some(syn::punctuated::Pair::new(FnArg::Typed(typed), comma))
                }
            }
        })
        .collect();
    let attrs = &item.attrs;
    let vis = &item.vis;
    let body = quote!({ ::core::unreachable!("#[opper::function] failed to expand") });

    let mut with_sig = sig.clone();
    with_sig.ident = format_ident!("{}_with", sig.ident);
    with_sig
        .inputs
        .insert(0, syn::parse_quote!(_: &#krate::__private::Opper));
    quote! {
        #(#attrs)*
        #[allow(unused_variables)]
        #vis #sig #body

        #[allow(dead_code, unused_variables)]
        #vis #with_sig #body
    }
}
