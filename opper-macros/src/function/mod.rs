//! `#[opper::function]`: a bodiless `async fn` signature becomes a typed call of an Opper task.
//!
//! Three passes, as in thiserror and serde: the attribute is read into [`attr::Meta`]s and the
//! item into an [`ast::ItemSig`], as written; [`valid`] checks both and builds a [`spec::Task`],
//! reporting every mistake at once; [`expand`] writes the code from it. On error, [`fallback`]
//! emits the functions with stub bodies, so that callers see no follow-on errors.

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;

// The passes, leaves first.
mod symbol;
mod ast;
mod attr;
mod spec;
mod valid;
mod expand;
mod fallback;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item_sig: ast::ItemSig = match syn::parse2(item.clone()) {
        Ok(item_sig) => item_sig,
        Err(error) => {
            // Not a function signature: report it and give the item back unchanged.
            let error = error.to_compile_error();
            return quote::quote! { #error #item };
        }
    };
    let cx = Ctxt::default();
    let metas = attr::parse(args, &cx);
    match valid::validate(&metas, &item_sig, cx) {
        Ok(task) => expand::expand(&task),
        Err(error) => {
            let error = error.to_compile_error();
            let stub = fallback::stub(&item_sig, &valid::krate_for_stub(&metas));
            quote::quote! { #error #stub }
        }
    }
}
