//! The attribute's arguments as written, `#[opper::function(model = "...", example(...), ...)]`:
//! a tree of keys, each with its value parsed but not yet checked ([`valid`](super::valid) checks them).

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

use crate::ctxt::Ctxt;
use crate::function::symbol;

/// One key: `key`, `key = value` or `key(...)`.
pub(crate) struct Meta {
    pub(crate) path: syn::Path,
    pub(crate) value: Value,
}

/// What follows a key.
pub(crate) enum Value {
    /// Nothing.
    Flag,
    /// `= expr`.
    Expr(Expr),
    /// `(key = value, ...)`, after a key that takes keys of its own (`tags`, `configuration`,
    /// `example` and its `input`).
    List(Vec<Meta>),
    /// `(expr, ...)`, after `model`: `model("provider/model", option = value, ...)`.
    Args(Punctuated<Expr, Token![,]>),
    /// `(...)` after a key that takes no list: skipped.
    Parens,
}

impl Meta {
    /// The key as a single name, if it is one.
    pub(crate) fn key(&self) -> Option<&syn::Ident> {
        self.path.get_ident()
    }
}

/// Reads the attribute's arguments. A syntax error is reported and ends the reading; the keys
/// read before it are kept, so that their mistakes are reported too.
pub(crate) fn parse(tokens: TokenStream, cx: &Ctxt) -> Vec<Meta> {
    let mut metas = Vec::new();
    let parser = syn::meta::parser(|meta| {
        metas.push(parse_meta(&meta)?);
        Ok(())
    });
    if let Err(error) = parser.parse2(tokens) {
        cx.syn_error(error);
    }
    metas
}

fn parse_meta(meta: &ParseNestedMeta<'_>) -> syn::Result<Meta> {
    let path = meta.path.clone();
    let value = if meta.input.peek(Token![=]) {
        Value::Expr(meta.value()?.parse()?)
    } else if meta.input.peek(syn::token::Paren) {
        let key = path.get_ident().map(ToString::to_string);
        match key.as_deref() {
            Some(symbol::MODEL) => {
                let content;
                syn::parenthesized!(content in meta.input);
                Value::Args(Punctuated::parse_terminated(&content)?)
            }
            Some(symbol::TAGS | symbol::CONFIGURATION | symbol::EXAMPLE | symbol::INPUT) => {
                let mut list = Vec::new();
                meta.parse_nested_meta(|inner| {
                    list.push(parse_meta(&inner)?);
                    Ok(())
                })?;
                Value::List(list)
            }
            _ => {
                crate::meta::skip_value(meta)?;
                Value::Parens
            }
        }
    } else {
        Value::Flag
    };
    Ok(Meta { path, value })
}
