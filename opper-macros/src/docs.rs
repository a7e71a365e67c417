//! Doc comments as text: a task's instructions, a tool's description, a parameter's
//! description.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Attribute, LitStr};

use crate::ungroup::lit_str;

/// The doc comment, lines joined and trimmed (rustdoc's leading space removed). Doc attributes
/// that are macro calls, such as `#[doc = include_str!("task.md")]`, are joined in with
/// `concat!` and the whole trimmed when the task is built.
pub(crate) fn instructions(attrs: &[Attribute]) -> Option<TokenStream> {
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

/// The doc comment in `concat!`, one line per `#[doc]` without the space `///` leaves first
/// (as `schemars` joins a field's; `opper::Tool` trims a description); `None` without one.
/// Computed docs (`#[doc = include_str!(..)]`) are joined in as they are.
pub(crate) fn joined(attrs: &[Attribute]) -> Option<TokenStream> {
    let mut joined = TokenStream::new();
    let lines = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| attr.meta.require_name_value().ok());
    for (index, line) in lines.enumerate() {
        if index > 0 {
            joined.extend(quote!(, "\n",));
        }
        match lit_str(&line.value) {
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
