//! `#[derive(Partial)]`: read the input (`ast`), then expand it (`expand`). On error, the
//! errors are emitted with a stub impl, so that uses of the trait do not cascade.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

mod ast;
mod case;
mod expand;

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = ast::Errors::default();
    let parsed = ast::Input::from_syn(&input, &mut errors);
    match (parsed, errors.finish()) {
        (Some(parsed), Ok(())) => expand::expand(&parsed),
        (_, result) => {
            let error = result.err().map(|e| e.to_compile_error());
            let stub = stub(&input);
            quote! { #error #stub }
        }
    }
}

/// `impl Partial` with a unit partial form: keeps the rest of the crate free of follow-on
/// errors while the real ones are fixed.
fn stub(input: &DeriveInput) -> TokenStream {
    let mut ignored = ast::Errors::default();
    let (krate, _) = ast::opper_attrs(&input.attrs, &mut ignored);
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        impl #impl_generics #krate::Partial for #ident #ty_generics #where_clause {
            type Partial = ();
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
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::{TokenStream, derive};

    fn errors(input: TokenStream) -> String {
        let out = derive(input).to_string();
        assert!(
            out.contains("compile_error"),
            "expected an error, got {out}"
        );
        assert!(
            out.contains("type Partial = ()"),
            "errors come with a stub impl: {out}"
        );
        out
    }

    #[test]
    fn unsupported_shapes_are_errors_that_say_what_to_do() {
        for (input, needle) in [
            (
                quote!(
                    struct T(u8);
                ),
                "tuple struct",
            ),
            (
                quote!(
                    struct T;
                ),
                "unit struct",
            ),
            (quote!(union U { a: u8 }), "union"),
            (
                quote!(
                    enum E {
                        A,
                        B(u8),
                    }
                ),
                "variants are all units",
            ),
            (
                quote!(
                    enum E {
                        A { x: u8 },
                    }
                ),
                "variants are all units",
            ),
            (
                quote!(
                    struct S<'a> {
                        a: &'a str,
                    }
                ),
                "lifetime parameters",
            ),
            (
                quote!(
                    #[serde(untagged)]
                    enum E {
                        A,
                    }
                ),
                "does not support this serde attribute",
            ),
            (
                quote!(
                    #[serde(transparent)]
                    struct S {
                        a: u8,
                    }
                ),
                "does not support",
            ),
            (
                quote!(
                    #[serde(rename_all = "Snake")]
                    struct S {
                        a: u8,
                    }
                ),
                "unknown rename rule",
            ),
            (
                quote!(
                    struct S {
                        #[serde(with = "m")]
                        a: u8,
                    }
                ),
                "custom deserializer",
            ),
            (
                quote!(
                    #[opper(nope)]
                    struct S {
                        a: u8,
                    }
                ),
                "unknown `opper` key",
            ),
            (
                quote!(
                    #[opper(partial = "A", partial = "B")]
                    struct S {
                        a: u8,
                    }
                ),
                "set multiple times",
            ),
            (
                quote!(
                    struct S {
                        #[opper(crate = "x")]
                        a: u8,
                    }
                ),
                "goes on the type",
            ),
        ] {
            let out = errors(input);
            assert!(out.contains(needle), "{needle:?} not in {out}");
        }
    }

    #[test]
    fn all_errors_are_reported_at_once() {
        let out = errors(quote! {
            #[serde(tag = "t")]
            enum E { A(u8), B { x: u8 } }
        });
        assert_eq!(out.matches("compile_error").count(), 3, "{out}");
    }

    #[test]
    fn generated_code_names_absolute_paths() {
        let out = derive(quote! {
            #[serde(rename_all = "camelCase", deny_unknown_fields, bound(deserialize = "T: X"))]
            pub struct S<T> {
                #[serde(default = "d", skip_serializing_if = "f", alias = "ab")]
                a_b: Vec<T>,
                #[serde(skip)]
                c: u8,
            }
        })
        .to_string();
        assert!(!out.contains("compile_error"), "{out}");
        for needle in [
            "pub struct PartialS < T : :: opper :: Partial + 'static >",
            "\"aB\" | \"ab\" =>",
            ":: opper :: __private :: serde :: Serialize",
            "crate = \"::opper::__private::serde\"",
        ] {
            assert!(out.contains(needle), "{needle:?} not in {out}");
        }
        assert!(!out.contains("c :"), "skipped fields are left out: {out}");
    }
}
