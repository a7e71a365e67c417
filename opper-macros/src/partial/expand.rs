//! The code `#[derive(Partial)]` generates. It names only absolute paths under the `opper`
//! crate (`::opper` unless `#[opper(crate = "...")]` says otherwise) and `::core`/`::std`.

use proc_macro2::TokenStream;
use proc_macro2::{Group, TokenTree};
use quote::{ToTokens, quote};
use syn::{GenericParam, Generics, parse_quote};

use super::spec::{Body, Field, Input};

pub(super) fn expand(input: &Input<'_>) -> TokenStream {
    match &input.body {
        Body::Struct(fields) => expand_struct(input, fields),
        Body::Enum { names, open } => expand_enum(input, names, *open),
    }
}

/// The input's generics with `T: Partial + 'static` on every type parameter.
fn bounded_generics(input: &Input<'_>) -> Generics {
    let krate = &input.krate;
    let mut generics = input.generics.clone();
    for param in &mut generics.params {
        if let GenericParam::Type(param) = param {
            param.bounds.push(parse_quote!(#krate::Partial));
            param.bounds.push(parse_quote!('static));
        }
    }
    generics
}

fn expand_struct(input: &Input<'_>, fields: &[Field<'_>]) -> TokenStream {
    let krate = &input.krate;
    let rt = quote!(#krate::__private);
    let ident = input.ident;
    let vis = input.vis;
    let partial = &input.partial_ident;
    let ty_name = ident.to_string();
    let generics = bounded_generics(input);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let (_, input_ty_generics, _) = input.generics.split_for_impl();
    let serde_crate = format!("{}::serde", crate::crate_path::to_string(&rt));
    let struct_doc = format!(
        "The partial form of [`{ty_name}`]: what a stream has delivered of it so far. Every \
         field is optional; it serializes to the JSON known so far."
    );

    let type_params: Vec<_> = input.generics.type_params().map(|p| &p.ident).collect();
    let (marker_field, marker_init, marker_clone) = if type_params.is_empty() {
        (quote!(), quote!(), quote!())
    } else {
        (
            quote! {
                #[doc(hidden)]
                #[serde(skip)]
                pub __opper_marker: ::core::marker::PhantomData<fn() -> (#(#type_params,)*)>,
            },
            quote!(__opper_marker: ::core::marker::PhantomData,),
            quote!(__opper_marker: ::core::marker::PhantomData,),
        )
    };

    let mut decls = Vec::new();
    let mut inits = Vec::new();
    let mut clones = Vec::new();
    let mut debugs = Vec::new();
    let mut resolve_arms = Vec::new();
    let mut apply_arms = Vec::new();
    let mut flat_resolves = Vec::new();
    let mut flat_applies = Vec::new();
    let mut known = Vec::new();
    let self_ty = quote!(#ident #input_ty_generics);
    for field in fields {
        let name = field.ident;
        let fvis = field.vis;
        // In the partial struct, `Self` would name the partial type: name the input instead.
        let ty = &replace_self(field.ty.to_token_stream(), &self_ty);
        let docs = &field.docs;
        let default_doc = if docs.is_empty() {
            let doc = format!("`{}` so far.", name);
            quote!(#[doc = #doc])
        } else {
            quote!()
        };
        let serde_attr = if field.flatten {
            quote!(#[serde(flatten)])
        } else {
            let key = &field.keys[0];
            quote!(#[serde(rename = #key, skip_serializing_if = "::core::option::Option::is_none")])
        };
        decls.push(quote! {
            #(#docs)*
            #default_doc
            #serde_attr
            #fvis #name: ::core::option::Option<<#ty as #krate::Partial>::Partial>,
        });
        inits.push(quote!(#name: ::core::option::Option::None,));
        clones.push(quote!(#name: ::core::clone::Clone::clone(&self.#name),));
        let debug_name = name.to_string();
        debugs.push(quote!(.field(#debug_name, &self.#name)));
        if field.flatten {
            flat_resolves.push(quote!(<#ty as #krate::Partial>::__resolve(__path)));
            flat_applies.push(quote! {
                if <#ty as #krate::Partial>::__resolve(__path) {
                    return <#ty as #krate::Partial>::__apply(
                        &mut #rt::object(__slot).#name, __path, __delta, __cx,
                    );
                }
            });
        } else {
            let keys = &field.keys;
            known.push(keys[0].clone());
            resolve_arms.push(quote! {
                #(#keys)|* => <#ty as #krate::Partial>::__resolve(__rest),
            });
            apply_arms.push(quote! {
                #(#keys)|* => <#ty as #krate::Partial>::__apply(
                    &mut #rt::object(__slot).#name, __rest, __delta, __cx,
                ),
            });
        }
    }
    let debug_partial = partial.to_string();
    let flat_resolve = if flat_resolves.is_empty() {
        quote!(false)
    } else {
        quote!(#(#flat_resolves)||*)
    };
    let rest_unused = if fields.iter().all(|f| f.flatten) {
        quote!(let _ = __rest;)
    } else {
        quote!()
    };

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
                Self { #(#inits)* #marker_init }
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::clone::Clone for #partial #ty_generics #where_clause {
            fn clone(&self) -> Self {
                Self { #(#clones)* #marker_clone }
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::fmt::Debug for #partial #ty_generics #where_clause {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#debug_partial) #(#debugs)* .finish()
            }
        }

        #[automatically_derived]
        impl #impl_generics #krate::Partial for #ident #input_ty_generics #where_clause {
            type Partial = #partial #ty_generics;

            fn __resolve(__path: &[#rt::Seg<'_>]) -> bool {
                match #rt::first_key(__path) {
                    ::core::option::Option::Some((__key, __rest)) => {
                        #rest_unused
                        match __key {
                            #(#resolve_arms)*
                            _ => #flat_resolve,
                        }
                    }
                    ::core::option::Option::None => false,
                }
            }

            fn __apply(
                __slot: &mut ::core::option::Option<Self::Partial>,
                __path: &[#rt::Seg<'_>],
                __delta: &#rt::Value,
                __cx: &mut #rt::Cx,
            ) -> ::core::result::Result<(), ::std::string::String> {
                let (__key, __rest) = #rt::split_key(__path, #ty_name)?;
                #rest_unused
                match __key {
                    #(#apply_arms)*
                    _ => {
                        #(#flat_applies)*
                        ::core::result::Result::Err(#rt::no_field(#ty_name, __key, &[#(#known),*]))
                    }
                }
            }
        }
    }
}

fn expand_enum(input: &Input<'_>, names: &[String], open: bool) -> TokenStream {
    let krate = &input.krate;
    let rt = quote!(#krate::__private);
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
                _: &mut #rt::Cx,
            ) -> ::core::result::Result<(), ::std::string::String> {
                #rt::unit_enum(__slot, __path, __delta, #ty_name, &[#(#names),*], #open)
            }
        }
    }
}

/// Replaces every `Self` in `tokens` by `self_ty`.
fn replace_self(tokens: TokenStream, self_ty: &TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|tree| match tree {
            TokenTree::Ident(ident) if ident == "Self" => self_ty.clone(),
            TokenTree::Group(group) => {
                let mut new = Group::new(group.delimiter(), replace_self(group.stream(), self_ty));
                new.set_span(group.span());
                TokenTree::Group(new).into_token_stream()
            }
            other => other.into_token_stream(),
        })
        .collect()
}
