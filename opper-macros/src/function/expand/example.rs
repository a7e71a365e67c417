//! `example(...)`: one example added to the task, its values type-checked against the
//! signature.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use super::input::{args, input_ty};
use super::names::Names;
use crate::function::spec::{Example, ExampleInput, Input, Task};
use crate::ungroup::ungroup_type;

/// `built` with one example added, its input and output type-checked against the signature by
/// the types of two locals (a mismatch points at the signature's type too). `example` is
/// spanned on the output: an output that cannot be sent gets `ExampleOutput`'s message there.
pub(super) fn example(
    task: &Task<'_>,
    names: &Names,
    example: &Example,
    built: TokenStream,
) -> TokenStream {
    let private = &names.private;
    let output = &task.function.output;
    let out_ty = &output.ty;
    let input_ty = input_ty(task, names);
    let input = match &example.input {
        ExampleInput::Fields { fields, .. } if names.args => {
            // In the parameters' order; the attribute's check made `fields` name each once.
            let values = task.function.input.params().iter().filter_map(|param| {
                let (_, expr) = fields.iter().find(|(field, _)| *field == param.ident)?;
                Some(example_value(Some(&param.ty), expr))
            });
            args(task, names, values, true)
        }
        ExampleInput::Fields { key, fields } => {
            let path = Ident::new(&names.input_struct.to_string(), key.span());
            let params = task.function.input.params();
            let fields = fields.iter().map(|(field, expr)| {
                let ty = params
                    .iter()
                    .find(|param| param.ident == *field)
                    .map(|param| &param.ty);
                let value = example_value(ty, expr);
                quote!(#field: #value)
            });
            quote!(#path { #(#fields),* })
        }
        ExampleInput::Whole(expr) => match &task.function.input {
            Input::Whole(param) if is_reference(&param.ty) => example_value(Some(&param.ty), expr),
            _ => expr.to_token_stream(),
        },
    };
    let expr = &example.output;
    let out = if output.text {
        quote_spanned!(expr.span()=> ::core::convert::Into::into(#expr))
    } else {
        expr.to_token_stream()
    };
    let add = quote_spanned!(expr.span()=> #private::example::<_, #out_ty>);
    let comment = match &example.comment {
        Some(comment) => quote!(::core::option::Option::Some(#comment)),
        None => quote!(::core::option::Option::None),
    };
    let input_local = &names.input;
    let output_local = &names.output;
    quote!({
        let #input_local: #input_ty = #input;
        let #output_local: #out_ty = #out;
        #add(#built, &#input_local, &#output_local, #comment)
    })
}

/// An example's value for a parameter of type `ty`: borrowed for a reference (so that `"Ann"`,
/// a `String` or a `Vec` fit `&str` and `&[T]`), else converted with `Into`.
fn example_value(ty: Option<&Type>, expr: &syn::Expr) -> TokenStream {
    if ty.is_some_and(is_reference) {
        quote_spanned!(expr.span()=> &(#expr))
    } else {
        quote_spanned!(expr.span()=> ::core::convert::Into::into(#expr))
    }
}

fn is_reference(ty: &Type) -> bool {
    matches!(ungroup_type(ty), Type::Reference(_))
}
