//! `#[opper::tool]`: a `fn` or `async fn` with a body stays as written, and `<name>_tool()`
//! makes it an `opper::Tool` the model may call.
//!
//! The passes of `#[opper::function]`: the attribute and the item are read as written
//! ([`ast`]); [`valid`] checks them into a [`spec::Tool`], reporting every mistake at once;
//! [`expand`] writes the code from it. On error, [`fallback`] emits the function and a stub
//! `<name>_tool()`, so that callers see no follow-on errors.

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;

// The passes, leaves first.
mod ast;
mod spec;
mod valid;
mod expand;
mod fallback;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item_fn: ast::ItemFn = match syn::parse2(item.clone()) {
        Ok(item_fn) => item_fn,
        Err(error) => {
            let error = error.to_compile_error();
            return quote::quote! { #error #item };
        }
    };
    let cx = Ctxt::default();
    let args = ast::args(args, &cx);
    match valid::validate(&args, &item_fn, cx) {
        Ok(tool) => expand::expand(&tool),
        Err(error) => {
            let error = error.to_compile_error();
            let stub = fallback::stub(&item_fn, &args);
            quote::quote! { #error #stub }
        }
    }
}
