//! `#[opper::function]`: a bodiless `async fn` signature becomes a typed call of an Opper task.
//!
//! The attribute arguments are read into [`attr::Args`], the item into [`ast::Function`]
//! (validating the signature as it goes), then [`expand`] writes the code. Every error is
//! collected in a [`Ctxt`] and reported at once; on error, [`fallback`] emits the functions
//! with stub bodies so that callers see no follow-on errors.

use proc_macro2::TokenStream;
use quote::ToTokens;

mod ast;
mod attr;
mod expand;
mod fallback;
mod symbol;

/// Collects errors; reports all of them at once (serde's `Ctxt`).
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    fn error_spanned_by(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new_spanned(tokens, message));
    }

    fn error(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    fn finish(self) -> Result<(), syn::Error> {
        let mut errors = self.errors.into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item_fn: ast::ItemSig = match syn::parse2(item.clone()) {
        Ok(item_fn) => item_fn,
        Err(error) => {
            // Not a function signature: report it and give the item back unchanged.
            let error = if error.to_string() == "expected `fn`" {
                syn::Error::new(
                    error.span(),
                    "#[opper::function] goes on an `async fn` signature without a body, e.g. \
                     `async fn summarize(text: String) -> opper::Result<String>;`",
                )
            } else {
                error
            };
            let error = error.to_compile_error();
            return quote::quote! { #error #item };
        }
    };
    let mut cx = Ctxt::default();
    let args = attr::Args::parse(args, &mut cx);
    let function = ast::Function::from_syn(&item_fn, &args, &mut cx);
    match cx.finish() {
        Ok(()) => expand::expand(&args, &function),
        Err(error) => {
            let error = error.to_compile_error();
            let stub = fallback::stub(&item_fn, args.krate());
            quote::quote! { #error #stub }
        }
    }
}
