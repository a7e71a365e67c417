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
            fn __resolve(_: &[#krate::partial::__rt::Seg<'_>]) -> bool {
                false
            }
            fn __apply(
                _: &mut ::core::option::Option<()>,
                _: &[#krate::partial::__rt::Seg<'_>],
                _: &#krate::partial::__rt::Value,
                _: &mut #krate::partial::__rt::Cx,
            ) -> ::core::result::Result<(), ::std::string::String> {
                ::core::result::Result::Ok(())
            }
        }
    }
}
