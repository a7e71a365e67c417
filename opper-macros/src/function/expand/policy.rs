//! The policy of a call: the validator of `validate = EXPR` and the re-asks.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Pat, ReturnType, parse_quote_spanned};

use super::names::Names;
use crate::function::spec::Task;
use crate::ungroup::ungroup;

/// The policy: the validator and the re-asks, a temporary of the call (a `static` could not name
/// an output type that mentions `Self`).
pub(super) fn policy(task: &Task<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let out_ty = &task.function.output.ty;
    let validator = match &task.validate {
        Some(expr) => validator(expr, names, out_ty),
        None => quote!(::core::option::Option::None),
    };
    let reasks = match &task.reasks {
        Some(reasks) => quote!(::core::option::Option::Some(#reasks)),
        None => quote!(::core::option::Option::None),
    };
    quote!(#private::Policy::<#out_ty>::new(#validator, #reasks))
}

/// `validate = EXPR` as an `Option<Validator<Output>>`, spanned on EXPR: a validator that does
/// not fit is reported there, once, in the words of `__private::ValidatorForm`. A closure whose
/// parameter has no written type takes it from `closure_validator`'s `Fn(&Output)`; anything
/// else goes through `__private::Validate`, which also takes the forms `clippy::ptr_arg` asks
/// for (`&[T]` for a `Vec<T>`, `&str` for a `String`).
fn validator(expr: &Expr, names: &Names, out_ty: &syn::Type) -> TokenStream {
    let private = &names.private;
    if untyped_closure(expr) {
        let check = quote_spanned!(expr.span()=> #private::closure_validator::<#out_ty, _, _>);
        return quote!(::core::option::Option::Some(#check(#expr)));
    }
    let method = quote_spanned!(expr.span()=> validator);
    let validate = quote_spanned!(expr.span()=> #private::Validate::<#out_ty, _>::new);
    let expr = with_return_type(expr);
    quote!({
        use #private::{ByRefValidator as _, FormValidator as _};
        (&#validate(#expr)).#method()
    })
}

/// A closure without a return type gets `-> Result<(), _>`: a body of another type (`s.sum > 0`)
/// is then reported on the body, as the compiler would with an untyped closure.
fn with_return_type(expr: &Expr) -> TokenStream {
    let Expr::Closure(closure) = ungroup(expr) else {
        return expr.to_token_stream();
    };
    if !matches!(closure.output, ReturnType::Default) {
        return expr.to_token_stream();
    }
    let mut closure = closure.clone();
    let body = &closure.body;
    let span = body.span();
    let block: Expr = parse_quote_spanned!(span=> { #body });
    closure.output = parse_quote_spanned!(span=> -> ::core::result::Result<(), _>);
    *closure.body = block;
    closure.to_token_stream()
}

/// A closure with a parameter whose type is not written (`|sum| ...`).
fn untyped_closure(expr: &Expr) -> bool {
    match ungroup(expr) {
        Expr::Closure(closure) => closure
            .inputs
            .iter()
            .any(|input| !matches!(input, Pat::Type(_))),
        _ => false,
    }
}
