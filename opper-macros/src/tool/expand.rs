//! The code: the function as written (its parameters' `///` comments taken off, which Rust
//! does not allow there), and `<name>_tool()`, which reads each parameter from the model's
//! arguments, calls the function, and turns its return value into the output's JSON text or
//! the error's message.
//!
//! What the types must implement is asserted once, spanned on the type:
//! `tool_param::<T>()` per parameter, `assert_tool_output::<Form, Ret>()` for the return type (which gives the
//! conversion of the return value, so no other bound is written).
//! Generated locals are mixed-site, so they cannot clash with the user's names.
//! `<name>_tool()` builds its tool (the parameters' schema) on its first call and hands out
//! clones of it (an `Arc`) after: an agent task makes its tools on each call.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, LitStr};

use super::spec::Tool;

pub(super) fn expand(tool: &Tool<'_>) -> TokenStream {
    let item = function(tool.item);
    let make = make_tool(tool);
    quote! {
        #item
        #make
    }
}

/// The function as written, without doc comments on its parameters.
pub(super) fn function(item: &super::ast::ItemFn) -> TokenStream {
    let mut sig = item.sig.clone();
    for arg in &mut sig.inputs {
        if let FnArg::Typed(typed) = arg {
            typed.attrs.retain(|attr| !attr.path().is_ident("doc"));
        }
    }
    let (attrs, vis) = (&item.attrs, &item.vis);
    let (allow, body) = match &item.body {
        Some(body) => (TokenStream::new(), quote!(#body)),
        // Only on error (reported): a stub, so that callers compile.
        None => (
            quote!(#[allow(unused_variables)]),
            quote!({ ::core::unreachable!("#[opper::tool] needs a body") }),
        ),
    };
    quote! {
        #(#attrs)*
        #allow
        #vis #sig #body
    }
}

/// `<name>_tool`, with the function's visibility.
pub(super) fn tool_ident(item: &super::ast::ItemFn) -> syn::Ident {
    let ident = syn::ext::IdentExt::unraw(&item.sig.ident);
    format_ident!("{}_tool", ident, span = item.sig.ident.span())
}

/// The doc comment of `<name>_tool`.
pub(super) fn tool_doc(item: &super::ast::ItemFn) -> LitStr {
    LitStr::new(
        &format!(
            "[`{}`] as an `opper::Tool`, for an agent's model to call.",
            item.sig.ident
        ),
        Span::call_site(),
    )
}

fn make_tool(tool: &Tool<'_>) -> TokenStream {
    let krate = &tool.krate;
    let private = quote!(#krate::__private);
    let item = tool.item;
    let (vis, fn_ident) = (&item.vis, &item.sig.ident);
    let tool_ident = tool_ident(item);
    let doc = tool_doc(item);
    let params = format_ident!("params", span = Span::mixed_site());
    let args = format_ident!("args", span = Span::mixed_site());
    let error = format_ident!("error", span = Span::mixed_site());
    let name = LitStr::new(&tool.name, Span::call_site());
    let description = tool.description.clone().unwrap_or_else(|| quote!(""));
    let checks = tool.params.iter().map(|param| {
        let owned = &param.owned;
        quote_spanned!(owned.span()=> #private::tool_param::<#owned>())
    });
    let names: Vec<LitStr> = tool
        .params
        .iter()
        .map(|param| {
            let name = syn::ext::IdentExt::unraw(&param.ident).to_string();
            LitStr::new(&name, Span::call_site())
        })
        .collect();
    let indexes: Vec<syn::Index> = (0..tool.params.len()).map(syn::Index::from).collect();
    let parameters = if tool.params.is_empty() {
        quote!(::core::option::Option::None)
    } else {
        let title = LitStr::new(
            &format!("{}Args", crate::case::pascal_case(&tool.name)),
            Span::call_site(),
        );
        let docs = tool.params.iter().map(|param| &param.doc);
        quote!(::core::option::Option::Some(#private::input_schema(
            #title,
            &[#(#names),*],
            &[#(#docs),*],
            &[#(#params.#indexes.schema()),*],
        )))
    };
    let reads = tool
        .params
        .iter()
        .zip(&names)
        .zip(&indexes)
        .map(|((param, name), index)| {
            let ident = &param.ident;
            quote! {
                let #ident = match #params.#index.read(&mut #args, #name) {
                    ::core::result::Result::Ok(value) => value,
                    ::core::result::Result::Err(#error) => return #private::tool_failed(#error),
                };
            }
        });
    let passed = tool.params.iter().map(|param| {
        let ident = &param.ident;
        if param.borrowed {
            quote!(::core::borrow::Borrow::borrow(&#ident))
        } else {
            quote!(#ident)
        }
    });
    let form = if tool.fallible {
        quote!(#private::Fallible)
    } else {
        quote!(#private::Plain)
    };
    let ret = match tool.ret {
        Some(ret) => quote!(#ret),
        None => quote!(()),
    };
    let ret_span = tool
        .ret
        .map_or_else(|| item.sig.ident.span(), Spanned::span);
    let output = format_ident!("output", span = Span::mixed_site());
    let cell = format_ident!("__OPPER_TOOL", span = Span::mixed_site());
    let assert_output = quote_spanned!(ret_span=>
        let #output = #private::assert_tool_output::<#form, #ret>();
    );
    let awaited = match item.sig.asyncness {
        Some(_) => quote!(.await),
        None => TokenStream::new(),
    };
    let unused_args = tool.params.is_empty().then(|| quote!(let _ = &#args;));
    quote! {
        #[doc = #doc]
        #[allow(clippy::needless_borrow)]
        #vis fn #tool_ident() -> #private::Tool {
            static #cell: ::std::sync::OnceLock<#private::Tool> = ::std::sync::OnceLock::new();
            ::core::clone::Clone::clone(#cell.get_or_init(|| {
                let #params = (#(#checks,)*);
                #assert_output
                #private::tool(
                    #name,
                    #description,
                    #parameters,
                    move |mut #args: #private::ToolArgs| -> #private::ToolFuture {
                        #unused_args
                        #(#reads)*
                        ::std::boxed::Box::pin(async move {
                            #output(#fn_ident(#(#passed),*) #awaited)
                        })
                    },
                )
            }))
        }
    }
}
