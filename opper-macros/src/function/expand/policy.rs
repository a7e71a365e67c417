//! The policy of a call: the validator of `validate = EXPR` and the re-asks.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::names::Names;
use crate::function::spec::Task;

/// The policy: the validator and the re-asks, a temporary of the call (a `static` could not name
/// an output type that mentions `Self`). `validate = EXPR` goes through
/// `validator::<Output, _, _>`, spanned on EXPR: a wrong signature is reported there, in the
/// words of `opper::ValidatorFn`.
pub(super) fn policy(task: &Task<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let out_ty = &task.function.output.ty;
    let validator = match &task.validate {
        Some(expr) => {
            let check = quote_spanned!(expr.span()=> #private::validator::<#out_ty, _, _>);
            quote!(::core::option::Option::Some(#check(#expr)))
        }
        None => quote!(::core::option::Option::None),
    };
    let reasks = match &task.reasks {
        Some(reasks) => quote!(::core::option::Option::Some(#reasks)),
        None => quote!(::core::option::Option::None),
    };
    quote!(#private::Policy::<#out_ty>::new(#validator, #reasks))
}
