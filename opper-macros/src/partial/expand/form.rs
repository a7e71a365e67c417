//! The partial form of a struct: `PartialT`, every field an `Option` of the field type's partial
//! form, serializing to the JSON known so far, with `Default`, `Clone` and `Debug` impls that
//! ask nothing of the type parameters (they are the input's, behind a marker).

use proc_macro2::TokenStream;
use quote::quote;

use super::types::{field_bounded_generics, field_ty, private};
use crate::partial::spec::{Field, Input};

pub(super) fn partial_struct(input: &Input<'_>, fields: &[Field<'_>]) -> TokenStream {
    let rt = private(input);
    let vis = input.vis;
    let partial = &input.partial_ident;
    let generics = field_bounded_generics(input);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let serde_crate = format!("{}::serde", crate::crate_path::to_string(&rt));
    let struct_doc = format!(
        "The partial form of [`{}`]: what a stream has delivered of it so far. Every field is \
         optional; it serializes to the JSON known so far.",
        input.ident
    );
    let marker = Marker::new(input);
    let marker_field = &marker.field;
    let marker_init = &marker.init;

    let decls = fields.iter().map(|field| {
        let name = field.ident;
        let fvis = field.vis;
        let ty = field_ty(input, field);
        let docs = &field.docs;
        let default_doc = docs.is_empty().then(|| {
            let doc = format!("`{name}` so far.");
            quote!(#[doc = #doc])
        });
        let serde_attr = match (field.flatten, field.keys.first()) {
            (false, Some(key)) => {
                quote!(#[serde(rename = #key, skip_serializing_if = "::core::option::Option::is_none")])
            }
            _ => quote!(#[serde(flatten)]),
        };
        quote! {
            #(#docs)*
            #default_doc
            #serde_attr
            #fvis #name: ::core::option::Option<<#ty as #rt::PartialForm>::Form>,
        }
    });
    let names: Vec<_> = fields.iter().map(|field| field.ident).collect();
    let debug_names = names.iter().map(ToString::to_string);
    let debug_partial = partial.to_string();

    quote! {
        #[doc = #struct_doc]
        #[derive(#rt::serde::Serialize)]
        #[serde(crate = #serde_crate, bound = "")]
        #vis struct #partial #generics #where_clause {
            #(#decls)*
            #marker_field
        }

        #[automatically_derived]
        impl #impl_generics ::core::default::Default for #partial #ty_generics #where_clause {
            fn default() -> Self {
                Self { #(#names: ::core::option::Option::None,)* #marker_init }
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::clone::Clone for #partial #ty_generics #where_clause {
            fn clone(&self) -> Self {
                Self { #(#names: ::core::clone::Clone::clone(&self.#names),)* #marker_init }
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::fmt::Debug for #partial #ty_generics #where_clause {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#debug_partial) #(.field(#debug_names, &self.#names))* .finish()
            }
        }
    }
}

/// The field that holds the input's type parameters, and its value; nothing without them.
struct Marker {
    field: TokenStream,
    init: TokenStream,
}

impl Marker {
    fn new(input: &Input<'_>) -> Self {
        let type_params: Vec<_> = input.generics.type_params().map(|p| &p.ident).collect();
        if type_params.is_empty() {
            return Marker {
                field: TokenStream::new(),
                init: TokenStream::new(),
            };
        }
        Marker {
            field: quote! {
                #[doc(hidden)]
                #[serde(skip)]
                pub __opper_marker: ::core::marker::PhantomData<fn() -> (#(#type_params,)*)>,
            },
            init: quote!(__opper_marker: ::core::marker::PhantomData,),
        }
    }
}
