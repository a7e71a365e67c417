//! On error: the function as written and a stub `<name>_tool()`, so that callers compile and
//! only the real errors are reported.

use proc_macro2::TokenStream;
use quote::quote;

use super::ast::{Args, ItemFn};
use super::expand::{function, tool_doc, tool_ident};

pub(super) fn stub(item: &ItemFn, args: &Args) -> TokenStream {
    let krate = args
        .krate
        .clone()
        .unwrap_or_else(crate::crate_path::default);
    let function = function(item);
    let (vis, tool_ident, doc) = (&item.vis, tool_ident(item), tool_doc(item));
    quote! {
        #function

        #[doc = #doc]
        #vis fn #tool_ident() -> #krate::__private::Tool {
            ::core::unreachable!("#[opper::tool] failed to expand")
        }
    }
}
