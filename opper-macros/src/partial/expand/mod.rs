//! The code `#[derive(Partial)]` generates. It names only absolute paths under the `opper`
//! crate (`::opper` unless `#[opper(crate = "...")]` says otherwise) and `::core`/`::std`.
//! For a struct: its partial form and that form's std impls (`form.rs`), then `impl Partial`
//! (`trait_impl.rs`); for a unit-only enum, `impl Partial` alone, its partial form being the
//! enum itself (`unit_enum.rs`). The paths and
//! types they all name come from `types.rs`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::partial::spec::{Body, Input};

// The parts, leaves first.
mod types;
mod form;
mod trait_impl;
mod unit_enum;

pub(crate) fn expand(input: &Input<'_>) -> TokenStream {
    match &input.body {
        Body::Struct(fields) => {
            let form = form::partial_struct(input, fields);
            let trait_impl = trait_impl::struct_impl(input, fields);
            quote!(#form #trait_impl)
        }
        Body::Enum { variants, other } => unit_enum::enum_impl(input, variants, *other),
    }
}
