//! The two functions: the one the user declared, and its `_with` twin taking a client; and the
//! guard that reports an `&self` task in a trait impl.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use super::body::body;
use super::names::Names;
use crate::function::spec::{Param, Task};

/// The parameters as declared, without attributes: `x: i64, text: &str`.
fn declarations(task: &Task<'_>) -> TokenStream {
    let decls = task
        .function
        .input
        .params()
        .iter()
        .map(|Param { ident, ty, .. }| quote!(#ident: #ty));
    quote!(#(#decls),*)
}

/// The function the user declared: with the default client, or an `&self` method with the
/// client `self` provides.
pub(super) fn function(task: &Task<'_>, names: &Names) -> TokenStream {
    let function = &task.function;
    let private = &names.private;
    let vis = function.vis;
    let ident = function.ident;
    let ret = function.ret;
    let decls = declarations(task);
    let (receiver, client) = match &function.receiver {
        Some(receiver) => {
            let self_token = &receiver.self_token;
            let client = quote_spanned! {receiver.span()=>
                ::core::option::Option::Some(#private::ClientSource::opper_client(#self_token))
            };
            (quote!(#receiver,), client)
        }
        None => (TokenStream::new(), quote!(::core::option::Option::None)),
    };
    let body = body(task, names, &client);
    let attrs = function.attrs;
    quote! {
        #(#attrs)*
        #[allow(clippy::needless_question_mark)]
        #vis async fn #ident(#receiver #decls) #ret #body
    }
}

/// `name_with(client, ..)`: the same call with an explicit client. Not for `&self` methods,
/// whose client is `self`'s.
pub(super) fn with_client(task: &Task<'_>, names: &Names) -> TokenStream {
    let function = &task.function;
    if function.receiver.is_some() {
        return TokenStream::new();
    }
    let private = &names.private;
    let vis = function.vis;
    let ident = function.ident;
    let ret = function.ret;
    let with_ident = format_ident!("{}_with", ident);
    let decls = declarations(task);
    let others = function
        .attrs
        .iter()
        .filter(|attr| !attr.path().is_ident("doc"));
    let with_doc = format!("Like [`{ident}`], with an explicit client.");
    let client = &names.client;
    let body = body(task, names, &quote!(::core::option::Option::Some(#client)));
    quote! {
        #[doc = #with_doc]
        #(#others)*
        #[allow(dead_code, clippy::needless_question_mark)]
        #vis async fn #with_ident(#client: &#private::Opper, #decls) #ret #body
    }
}

/// An `&self` method cannot be a trait's: the task and its support live in an inherent impl.
/// This hidden constant is not a member of any trait, so in a trait impl the compiler reports it,
/// and its name says what to do.
pub(super) fn trait_impl_guard(task: &Task<'_>) -> TokenStream {
    if task.function.receiver.is_none() {
        return TokenStream::new();
    }
    let guard = Ident::new(
        &format!(
            "{}__opper_tasks_go_in_an_inherent_impl__call_it_from_the_trait_method",
            task.function.ident.unraw()
        ),
        task.function.ident.span(),
    );
    quote! {
        #[doc(hidden)]
        #[allow(dead_code, non_upper_case_globals)]
        const #guard: () = ();
    }
}
