//! The task's input: the struct of the parameters (when they are not an `Args`), its type, and
//! its value.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::{LitStr, Type};

use super::checks::assert_input;
use super::names::{Names, type_param_name};
use crate::function::spec::{Input, Param, Task};

/// The struct of the parameters, when they are the input's fields and not an `Args`. It is an
/// item inside the function body, which cannot name `Self` nor the function's elided lifetimes:
/// a field whose type does is a type parameter of the struct, given at each use.
pub(super) fn input_struct(task: &Task<'_>, names: &Names) -> TokenStream {
    let Input::Fields(params) = &task.function.input else {
        return TokenStream::new();
    };
    let private = &names.private;
    let name = &names.input_struct;
    if names.args {
        return TokenStream::new();
    }
    let title = &names.title;
    let serde_crate = LitStr::new(
        &format!("{}::serde", crate::crate_path::to_string(private)),
        Span::call_site(),
    );
    let schemars_crate = LitStr::new(
        &format!("{}::schemars", crate::crate_path::to_string(private)),
        Span::call_site(),
    );
    let mut type_params = Vec::new();
    let fields: Vec<TokenStream> = params
        .iter()
        .map(|param| {
            let Param {
                ident,
                ty,
                docs,
                forwarded,
                generic,
            } = param;
            let ty = if *generic {
                let type_param = type_param_name(type_params.len(), params);
                type_params.push(type_param.clone());
                type_param.into_token_stream()
            } else {
                ty.to_token_stream()
            };
            quote!(#(#docs)* #(#forwarded)* #ident: #ty)
        })
        .collect();
    let generics = (!type_params.is_empty()).then(|| quote!(<#(#type_params),*>));
    quote! {
        #[derive(#private::serde::Serialize, #private::schemars::JsonSchema)]
        #[serde(crate = #serde_crate)]
        #[schemars(crate = #schemars_crate, rename = #title)]
        struct #name #generics {
            #(#fields,)*
        }
    }
}

/// The type of the input: the input struct with its type parameters given, or the `#[input]`
/// parameter's type.
pub(super) fn input_ty(task: &Task<'_>, names: &Names) -> TokenStream {
    match &task.function.input {
        Input::Fields(_) if names.args => {
            let private = &names.private;
            quote!(#private::Args<_>)
        }
        Input::Fields(params) => {
            let name = &names.input_struct;
            let args: Vec<&Type> = params
                .iter()
                .filter(|param| param.generic)
                .map(|param| &param.ty)
                .collect();
            if args.is_empty() {
                name.to_token_stream()
            } else {
                quote!(#name<#(#args),*>)
            }
        }
        Input::Whole(param) => param.ty.to_token_stream(),
    }
}

/// A `__private::Args` of `values`, one per parameter, in order. The parameters' values take
/// their `Param`s from the checks; an example's, whose borrows live shorter, from checks of
/// their own, the same tokens on the same spans (so a type that does not fit is still reported
/// once).
pub(super) fn args(
    task: &Task<'_>,
    names: &Names,
    values: impl Iterator<Item = TokenStream>,
    example: bool,
) -> TokenStream {
    let private = &names.private;
    let title = &names.title;
    let params = &names.params;
    let param_names = param_names(task);
    let tys = task.function.input.params().iter().map(|param| &param.ty);
    // `param` first: it gives the value its type, so that `&("a")` coerces to a `&str` field.
    let fields = values.zip(tys).enumerate().map(|(index, (value, ty))| {
        let param = if example {
            assert_input(names, ty)
        } else {
            let index = syn::Index::from(index);
            quote!(#params.#index)
        };
        quote!(#private::Field { param: #param, value: #value })
    });
    quote!(#private::Args {
        title: #title,
        names: &[#(#param_names),*],
        values: (#(#fields,)*),
    })
}

/// The parameters' names, as string literals.
pub(super) fn param_names(task: &Task<'_>) -> Vec<LitStr> {
    task.function
        .input
        .params()
        .iter()
        .map(|param| LitStr::new(&param.ident.unraw().to_string(), Span::call_site()))
        .collect()
}

/// A reference to the input, built from the parameters.
pub(super) fn input_value(task: &Task<'_>, names: &Names) -> TokenStream {
    match &task.function.input {
        Input::Fields(params) if names.args => {
            let values = params.iter().map(|param| param.ident.to_token_stream());
            let args = args(task, names, values, false);
            quote!(&#args)
        }
        Input::Fields(params) => {
            let name = &names.input_struct;
            let args = params.iter().map(|param| &param.ident);
            quote!(&#name { #(#args: #args),* })
        }
        Input::Whole(param) => {
            let ident = &param.ident;
            quote!(&#ident)
        }
    }
}
