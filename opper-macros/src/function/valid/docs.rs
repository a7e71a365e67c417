//! The instructions from the doc comment.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::Attribute;

use crate::ungroup::lit_str;

/// The doc comment, lines joined and trimmed (rustdoc's leading space removed). Doc attributes
/// that are macro calls, such as `#[doc = include_str!("task.md")]`, are joined in with
/// `concat!` and the whole trimmed when the task is built.
pub(super) fn instructions(attrs: &[Attribute]) -> Option<TokenStream> {
    let mut parts: Vec<TokenStream> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut computed = false;
    for attr in attrs {
        let syn::Meta::NameValue(meta) = &attr.meta else {
            continue;
        };
        if !meta.path.is_ident("doc") {
            continue;
        }
        match lit_str(&meta.value) {
            Some(lit) => {
                for line in lit.value().lines() {
                    lines.push(line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned());
                }
            }
            None => {
                computed = true;
                if !lines.is_empty() {
                    parts.push(std::mem::take(&mut lines).join("\n").to_token_stream());
                }
                parts.push(meta.value.to_token_stream());
            }
        }
    }
    if !computed {
        let text = lines.join("\n");
        let text = text.trim();
        return (!text.is_empty()).then(|| text.to_token_stream());
    }
    if !lines.is_empty() {
        parts.push(lines.join("\n").to_token_stream());
    }
    // One part per line, as rustdoc joins them.
    let mut joined = Vec::with_capacity(parts.len() * 2);
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            joined.push("\n".to_token_stream());
        }
        joined.push(part);
    }
    Some(quote!(::core::primitive::str::trim(
        ::core::concat!(#(#joined),*)
    )))
}
