//! `impl PartialForm` for a unit-only enum: its partial form is the enum itself, shown only whole
//! (`Option<Role>` in its parent's partial, so that a program matches on it mid-stream).

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

use super::types::{bounded_generics, private, respan};
use crate::partial::spec::{Input, Variant};

pub(super) fn enum_impl(
    input: &Input<'_>,
    variants: &[Variant<'_>],
    other: Option<&Ident>,
) -> TokenStream {
    let rt = private(input);
    let ident = input.ident;
    let ty_name = ident.to_string();
    let generics = bounded_generics(input);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    // The enum is its own partial form, so it needs what a partial form is (`Clone`, `Debug`,
    // `Serialize`): the compiler says which is missing, on the enum's name.
    let form = respan(
        quote!(
            type Form = Self;
        ),
        ident.span(),
    );
    let names: Vec<&String> = variants.iter().flat_map(|variant| &variant.names).collect();
    let arms = variants.iter().map(|variant| {
        let names = &variant.names;
        let variant = variant.ident;
        quote!(#(#names)|* => ::core::option::Option::Some(Self::#variant),)
    });
    let otherwise = match other {
        Some(other) => quote!(::core::option::Option::Some(Self::#other)),
        None => quote!(::core::option::Option::None),
    };
    let open = other.is_some();
    quote! {
        #[automatically_derived]
        impl #impl_generics #rt::PartialForm for #ident #ty_generics #where_clause {
            #form

            fn __empty() -> ::core::option::Option<Self> {
                ::core::option::Option::None
            }

            fn __apply(
                __slot: &mut ::core::option::Option<Self>,
                __path: &[#rt::Seg<'_>],
                __delta: &#rt::Value,
                __cx: &mut #rt::Cx,
            ) -> ::core::result::Result<(), ::std::string::String> {
                #rt::variant(
                    __slot,
                    __path,
                    __delta,
                    __cx,
                    #ty_name,
                    &[#(#names),*],
                    #open,
                    |__name| match __name {
                        #(#arms)*
                        _ => #otherwise,
                    },
                )
            }
        }

        #[automatically_derived]
        impl #impl_generics #rt::PartialField for #ident #ty_generics #where_clause {}
    }
}
