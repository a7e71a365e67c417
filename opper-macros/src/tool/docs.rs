//! Doc comments as text: the fn's is the tool's description, a parameter's the description of
//! its property.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Attribute, LitStr};

/// The doc comment in `concat!`, one line per `#[doc]` without the space `///` leaves first
/// (as `schemars` joins a field's; `opper::Tool` trims a description); `None` without one.
/// Computed docs (`#[doc = include_str!(..)]`) are joined in as they are.
pub(super) fn doc(attrs: &[Attribute]) -> Option<TokenStream> {
    let mut joined = TokenStream::new();
    let lines = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| attr.meta.require_name_value().ok());
    for (index, line) in lines.enumerate() {
        if index > 0 {
            joined.extend(quote!(, "\n",));
        }
        match crate::ungroup::lit_str(&line.value) {
            Some(text) => {
                let value = text.value();
                let value = value.strip_prefix(' ').unwrap_or(&value);
                LitStr::new(value, text.span()).to_tokens(&mut joined);
            }
            None => line.value.to_tokens(&mut joined),
        }
    }
    (!joined.is_empty()).then(|| quote!(::core::concat!(#joined)))
}
