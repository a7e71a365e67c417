//! On error: the functions with the user's signature and a stub body, so that callers compile
//! and only the real errors are reported (thiserror's `fallback.rs`, tokio's "emit the item").

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{FnArg, Safety};

use crate::function::ast::ItemSig;

pub(crate) fn stub(item: &ItemSig, krate: &syn::Path) -> TokenStream {
    let mut sig = item.sig.clone();
    // Always an `async fn` taking plain parameters, so that `f(..).await` type-checks. A
    // receiver is kept as written, so that method calls do too.
    sig.constness = None;
    sig.asyncness = Some(Default::default());
    sig.safety = Safety::Default;
    sig.abi = None;
    sig.variadic = None;
    for arg in &mut sig.inputs {
        if let FnArg::Typed(typed) = arg {
            typed.attrs.clear();
        }
    }
    let attrs = &item.attrs;
    let vis = &item.vis;
    let body = quote!({ ::core::unreachable!("#[opper::function] failed to expand") });
    let with = if sig.receiver().is_some() {
        TokenStream::new()
    } else {
        let mut with_sig = sig.clone();
        with_sig.ident = format_ident!("{}_with", sig.ident);
        with_sig
            .inputs
            .insert(0, syn::parse_quote!(_: &#krate::__private::Opper));
        quote! {
            #[allow(dead_code, unused_variables)]
            #vis #with_sig #body
        }
    };
    quote! {
        #(#attrs)*
        #[allow(unused_variables)]
        #vis #sig #body

        #with
    }
}
