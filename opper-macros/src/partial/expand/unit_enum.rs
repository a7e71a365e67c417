//! `impl Partial` for a unit-only enum: its partial form is the variant's name, shown only
//! whole.

use proc_macro2::TokenStream;
use quote::quote;

use super::types::{bounded_generics, private};
use crate::partial::spec::Input;

pub(super) fn enum_impl(input: &Input<'_>, names: &[String], open: bool) -> TokenStream {
    let krate = &input.krate;
    let rt = private(input);
    let ident = input.ident;
    let ty_name = ident.to_string();
    let generics = bounded_generics(input);
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let (_, ty_generics, _) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::Partial for #ident #ty_generics #where_clause {
            type Partial = ::std::string::String;

            fn __apply(
                __slot: &mut ::core::option::Option<::std::string::String>,
                __path: &[#rt::Seg<'_>],
                __delta: &#rt::Value,
                __cx: &mut #rt::Cx,
            ) -> ::core::result::Result<(), ::std::string::String> {
                #rt::variant(__slot, __path, __delta, __cx, #ty_name, &[#(#names),*], #open)
            }
        }

        #[automatically_derived]
        impl #impl_generics #rt::PartialField for #ident #ty_generics #where_clause {}
    }
}
