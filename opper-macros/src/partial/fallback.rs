//! On error: `impl Partial` (and `PartialField`) with a unit partial form, which keeps the rest of the crate free of
//! follow-on errors while the real ones are fixed.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

pub(crate) fn stub(input: &DeriveInput, krate: &syn::Path) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        impl #impl_generics #krate::__private::PartialForm for #ident #ty_generics #where_clause {
            type Form = ();
            fn __empty() -> ::core::option::Option<()> {
                ::core::option::Option::Some(())
            }
            fn __resolve(_: &[#krate::__private::Seg<'_>]) -> bool {
                false
            }
            fn __apply(
                _: &mut ::core::option::Option<()>,
                _: &[#krate::__private::Seg<'_>],
                _: &#krate::__private::Value,
                _: &mut #krate::__private::Cx,
            ) -> ::core::result::Result<(), ::std::string::String> {
                ::core::result::Result::Ok(())
            }
        }

        impl #impl_generics #krate::__private::PartialField for #ident #ty_generics #where_clause {}
    }
}
