//! `impl Partial` for a struct: which paths it takes (`__resolve`), when it may be shown in its
//! parent (`__ready`, from its required fields), and how a delta is applied (`__apply`).

use proc_macro2::TokenStream;
use quote::quote;

use super::types::{bounded_generics, field_bounded_generics, field_ty, private};
use crate::partial::spec::{Field, Input};

pub(super) fn struct_impl(input: &Input<'_>, fields: &[Field<'_>]) -> TokenStream {
    let ident = input.ident;
    let partial = &input.partial_ident;
    let generics = field_bounded_generics(input);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let (_, input_ty_generics, _) = input.generics.split_for_impl();
    // A struct whose fields are all flattened never reads the rest of the path itself.
    let rest_unused = fields
        .iter()
        .all(|f| f.flatten)
        .then(|| quote!(let _ = __rest;));
    let resolve = resolve(input, fields, rest_unused.as_ref());
    let ready = ready(input, fields);
    let apply = apply(input, fields, rest_unused.as_ref());
    let rt = private(input);
    let field_generics = bounded_generics(input);
    let (field_impl_generics, _, field_where_clause) = field_generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics #rt::PartialForm for #ident #input_ty_generics #where_clause {
            type Form = #partial #ty_generics;

            fn __empty() -> ::core::option::Option<Self::Form> {
                ::core::option::Option::Some(::core::default::Default::default())
            }

            #resolve
            #ready
            #apply
        }

        #[automatically_derived]
        impl #field_impl_generics #rt::PartialField for #ident #input_ty_generics
            #field_where_clause {}
    }
}

/// `__resolve`: whether a path names a field of this struct, its own or a flattened one's.
fn resolve(
    input: &Input<'_>,
    fields: &[Field<'_>],
    rest_unused: Option<&TokenStream>,
) -> TokenStream {
    let rt = private(input);
    let arms = fields.iter().filter(|field| !field.flatten).map(|field| {
        let keys = &field.keys;
        let ty = field_ty(input, field);
        quote!(#(#keys)|* => <#ty as #rt::PartialForm>::__resolve(__rest),)
    });
    let flattened: Vec<TokenStream> = fields
        .iter()
        .filter(|field| field.flatten)
        .map(|field| {
            let ty = field_ty(input, field);
            quote!(<#ty as #rt::PartialForm>::__resolve(__path))
        })
        .collect();
    let otherwise = if flattened.is_empty() {
        quote!(false)
    } else {
        quote!(#(#flattened)||*)
    };
    quote! {
        fn __resolve(__path: &[#rt::Seg<'_>]) -> bool {
            match #rt::first_key(__path) {
                ::core::option::Option::Some((__key, __rest)) => {
                    #rest_unused
                    match __key {
                        #(#arms)*
                        _ => #otherwise,
                    }
                }
                ::core::option::Option::None => false,
            }
        }
    }
}

/// `__ready`: held back from its parent until every required field (its own, and those of its
/// flattened fields) has a value. Nothing when no field is required.
fn ready(input: &Input<'_>, fields: &[Field<'_>]) -> TokenStream {
    let rt = private(input);
    let checks: Vec<TokenStream> = fields
        .iter()
        .filter_map(|field| {
            let name = field.ident;
            if field.flatten {
                let ty = field_ty(input, field);
                Some(quote!(#rt::flat_ready::<#ty>(&__partial.#name)))
            } else if field.required {
                Some(quote!(#rt::has_value(&__partial.#name)))
            } else {
                None
            }
        })
        .collect();
    if checks.is_empty() {
        return TokenStream::new();
    }
    quote! {
        fn __ready(__partial: &Self::Form) -> bool {
            #(#checks)&&*
        }
    }
}

/// `__apply`: the delta goes to the field its path names (an atomic field is built aside and
/// shown only whole), else to the flattened field that takes it, else it is an error naming
/// the known keys.
fn apply(
    input: &Input<'_>,
    fields: &[Field<'_>],
    rest_unused: Option<&TokenStream>,
) -> TokenStream {
    let rt = private(input);
    let ty_name = input.ident.to_string();
    let arms = fields.iter().filter(|field| !field.flatten).map(|field| {
        let name = field.ident;
        let keys = &field.keys;
        let ty = field_ty(input, field);
        let apply = if field.atomic {
            quote!(#rt::atomic::<#ty>)
        } else {
            quote!(<#ty as #rt::PartialForm>::__apply)
        };
        quote!(#(#keys)|* => #apply(&mut __obj.#name, __rest, __delta, __cx),)
    });
    let flattened = fields.iter().filter(|field| field.flatten).map(|field| {
        let name = field.ident;
        let ty = field_ty(input, field);
        quote! {
            if <#ty as #rt::PartialForm>::__resolve(__path) {
                return #rt::flattened::<#ty>(&mut __obj.#name, __path, __delta, __cx);
            }
        }
    });
    let known = fields
        .iter()
        .filter(|field| !field.flatten)
        .filter_map(|field| field.keys.first());
    // A struct without fields uses neither.
    let (obj, cx) = if fields.is_empty() {
        (quote!(_), quote!(_))
    } else {
        (quote!(__obj), quote!(__cx))
    };
    quote! {
        fn __apply(
            __slot: &mut ::core::option::Option<Self::Form>,
            __path: &[#rt::Seg<'_>],
            __delta: &#rt::Value,
            __cx: &mut #rt::Cx,
        ) -> ::core::result::Result<(), ::std::string::String> {
            let (__key, __rest) = #rt::split_key(__path, #ty_name)?;
            #rest_unused
            #rt::with_object::<Self>(__slot, __path, __cx, |#obj, #cx| match __key {
                #(#arms)*
                _ => {
                    #(#flattened)*
                    ::core::result::Result::Err(#rt::no_field(#ty_name, __key, &[#(#known),*]))
                }
            })
        }
    }
}
