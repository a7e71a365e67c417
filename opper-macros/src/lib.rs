//! Procedural macros of the [`opper`](https://docs.rs/opper) crate: `#[opper::function]` and
//! `#[derive(opper::Partial)]`. Use them through `opper`, which re-exports both.

use proc_macro::TokenStream;

// The modules, leaves first: a module uses only those above it (`scripts/check-layers`).
mod case;
mod ctxt;
mod meta;
mod ungroup;
mod docs;
mod crate_path;
mod param;
mod function;
mod partial;
mod tool;

/// Turns a bodiless `async fn` signature into a typed call of an Opper task.
///
/// Documented in the `opper` crate, which re-exports it.
#[proc_macro_attribute]
pub fn function(args: TokenStream, item: TokenStream) -> TokenStream {
    function::expand(args.into(), item.into()).into()
}

/// Derives `opper::Partial`: the partial form of a type, filled chunk by chunk by a stream.
///
/// Documented in the `opper` crate, which re-exports it.
#[proc_macro_derive(Partial, attributes(serde, opper))]
pub fn derive_partial(input: TokenStream) -> TokenStream {
    partial::derive(input.into()).into()
}

/// Makes a `fn` or `async fn` an `opper::Tool` as well: `<name>_tool()`.
///
/// Documented in the `opper` crate, which re-exports it.
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    tool::expand(args.into(), item.into()).into()
}
