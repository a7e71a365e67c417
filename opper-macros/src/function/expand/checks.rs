//! The checks of the signature's types: `assert_input::<T>()` per parameter and
//! `assert_output::<T>()` (`assert_streamable`), spanned on the types.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Type;
use syn::spanned::Spanned;

use super::names::Names;
use crate::function::spec::{Mode, Param, Task};

/// `assert_input::<T>()` per parameter and `assert_output::<T>()` (`assert_streamable`), spanned
/// on the types: a type that does not fit gets `opper`'s message there. They come before the
/// call, so that the call's own bounds, on the same types, are not reported first.
pub(super) fn checks(task: &Task<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let inputs = task
        .function
        .input
        .params()
        .iter()
        .map(|Param { ty, .. }| assert_input(names, ty));
    let inputs = if names.args {
        let params = &names.params;
        quote!(let #params = (#(#inputs,)*);)
    } else {
        quote!(#(#inputs;)*)
    };
    let out_ty = &task.function.output.ty;
    let assert_output = match task.function.output.mode {
        Mode::Stream | Mode::AgentStream => quote!(assert_streamable),
        _ => quote!(assert_output),
    };
    let output = quote_spanned!(out_ty.span()=> #private::#assert_output::<#out_ty>(););
    quote!(#inputs #output)
}

/// `assert_input::<T>()`, spanned on the type.
pub(super) fn assert_input(names: &Names, ty: &Type) -> TokenStream {
    let private = &names.private;
    quote_spanned!(ty.span()=> #private::assert_input::<#ty>())
}
