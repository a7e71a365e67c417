//! The annotated item as written: attributes, visibility, signature and (mistaken) body. Read
//! as is; [`valid`](super::valid) checks it.

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
            return Err(not_a_function(input));
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

const ON_AN_IMPL: &str = "#[opper::function] goes on each task's bodiless `async fn` inside \
     the `impl` block, not on the block";

const ON_A_TRAIT_IMPL: &str = "#[opper::function] cannot make a trait's methods: declare the task \
     as a bodiless `async fn` in an inherent `impl` block (`impl Service { ... }`) or a module, and \
     call it from the trait method";

/// The error for an item that is not a function, spanned on its first token (on the header of
/// an `impl` block, which gets a message of its own).
fn not_a_function(input: ParseStream<'_>) -> syn::Error {
    if let Ok(item) = input.fork().parse::<syn::ItemImpl>() {
        let (impl_token, self_ty) = (item.impl_token, &item.self_ty);
        return match &item.trait_ {
            Some((path, for_token)) => syn::Error::new_spanned(
                quote::quote!(#impl_token #path #for_token #self_ty),
                ON_A_TRAIT_IMPL,
            ),
            None => syn::Error::new_spanned(quote::quote!(#impl_token #self_ty), ON_AN_IMPL),
        };
    }
    input.error(NOT_A_FUNCTION)
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
