//! `#[derive(Partial)]`, in three passes: read the input as written (`ast`), check it and build
//! the [`spec::Input`] (`valid`), write the code (`expand`). On error, the errors are emitted
//! with a stub impl (`fallback`), so that uses of the trait do not cascade.

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::ctxt::Ctxt;

// The passes, leaves first.
mod symbol;
mod ast;
mod spec;
mod valid;
mod expand;
mod fallback;

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let cx = Ctxt::default();
    let container = ast::Container::from_syn(&input, &cx);
    match valid::validate(&container, cx) {
        Ok(checked) => expand::expand(&checked),
        Err(error) => {
            let error = error.to_compile_error();
            let stub = fallback::stub(&input, &valid::krate_for_stub(&container));
            quote::quote! { #error #stub }
        }
    }
}
