//! The annotated item as written: attributes, visibility, signature and (mistaken) body. Read
//! as is; `valid.rs` checks it.

use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Block, Signature, Token, Visibility};

/// `#[attrs] vis async fn name(params) -> Ret;`: a signature without a body (a body is accepted
/// by the parser so that it can be reported with a helpful message).
pub(crate) struct ItemSig {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) body: Option<Block>,
}

const NOT_A_FUNCTION: &str = "#[opper::function] goes on an `async fn` signature without a body, \
     e.g. `async fn summarize(text: String) -> opper::Result<String>;`";

impl Parse for ItemSig {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        if !starts_signature(input) {
            return Err(input.error(NOT_A_FUNCTION));
        }
        let sig: Signature = input.parse()?;
        let body = if input.peek(syn::token::Brace) {
            Some(input.parse()?)
        } else {
            if !input.peek(Token![;]) {
                return Err(input
                    .error("expected `;`: #[opper::function] takes a signature without a body"));
            }
            input.parse::<Token![;]>()?;
            None
        };
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the function"));
        }
        Ok(ItemSig {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

/// Whether a function signature starts here: `const`, `async`, `unsafe` and `extern "abi"` in
/// that order, each optional, then `fn`.
fn starts_signature(input: ParseStream<'_>) -> bool {
    let ahead = input.fork();
    ahead.parse::<Option<Token![const]>>().is_ok()
        && ahead.parse::<Option<Token![async]>>().is_ok()
        && ahead.parse::<Option<Token![unsafe]>>().is_ok()
        && ahead.parse::<Option<syn::Abi>>().is_ok()
        && ahead.peek(Token![fn])
}
