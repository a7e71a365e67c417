//! The annotated item and the attribute's keys as written; `valid.rs` checks them.

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{Attribute, Block, LitStr, Signature, Visibility};

use crate::ctxt::Ctxt;

/// `#[attrs] vis [async] fn name(params) -> Ret { body }`; a missing body is accepted by the
/// parser so that it can be reported with a helpful message.
pub(crate) struct ItemFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) body: Option<Block>,
}

impl Parse for ItemFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse().map_err(|error| {
            syn::Error::new(
                error.span(),
                "#[opper::tool] goes on a `fn` or `async fn` with a body, e.g. \
                 `fn add(a: i64, b: i64) -> i64 { a + b }`",
            )
        })?;
        let body = if input.peek(syn::token::Brace) {
            Some(input.parse()?)
        } else {
            input.parse::<syn::Token![;]>()?;
            None
        };
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the function"));
        }
        Ok(ItemFn {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

/// The attribute's keys: `name = "..."` (the tool's name, default the fn's) and
/// `crate = "::path"`.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) name: Option<LitStr>,
    pub(crate) krate: Option<syn::Path>,
}

pub(crate) fn args(tokens: TokenStream, cx: &Ctxt) -> Args {
    let mut args = Args::default();
    let parser = syn::meta::parser(|meta| {
        let set_twice = |key: &str| meta.error(format!("`{key}` is set multiple times"));
        if meta.path.is_ident("name") {
            let value: LitStr = meta.value()?.parse()?;
            if args.name.replace(value).is_some() {
                return Err(set_twice("name"));
            }
        } else if meta.path.is_ident("crate") {
            let value: LitStr = meta.value()?.parse()?;
            if args.krate.replace(value.parse()?).is_some() {
                return Err(set_twice("crate"));
            }
        } else {
            return Err(meta.error("unknown key; expected `name` or `crate`"));
        }
        Ok(())
    });
    if let Err(error) = parser.parse2(tokens) {
        cx.syn_error(error);
    }
    args
}
