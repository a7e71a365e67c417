//! The checks: the attribute's keys and the signature, as written, become a [`Task`] that cannot
//! be invalid. Every mistake is reported, spanned on the user's token, before anything is built.

use crate::ctxt::Ctxt;
use crate::function::ast::ItemSig;
use crate::function::attr::{Meta, Value};
use crate::function::spec::Task;
use crate::function::symbol;

// The checks, leaves first.
mod value;
mod docs;
mod model;
mod example;
mod signature;
mod args;

/// The task, or every mistake in the attribute and the signature.
pub(crate) fn validate<'a>(metas: &[Meta], item: &'a ItemSig, cx: Ctxt) -> syn::Result<Task<'a>> {
    let args = args::Args::validate(metas, &cx);
    let function = signature::function(item, &cx);
    let examples = function
        .as_ref()
        .map(|function| example::match_signature(args.examples, &function.input, &cx));
    let name = match &args.name {
        Some(name) => name.value(),
        None => syn::ext::IdentExt::unraw(&item.sig.ident).to_string(),
    };
    let instructions = match &args.instructions {
        Some(instructions) => Some(quote::ToTokens::to_token_stream(instructions)),
        None => docs::instructions(&item.attrs),
    };
    let task = function.zip(examples).map(|(function, examples)| Task {
        krate: args.krate.unwrap_or_else(crate::crate_path::default),
        name,
        instructions,
        model: args.model,
        tags: args.tags,
        configuration: args.configuration,
        examples,
        validate: args.validate,
        reasks: args.reasks,
        function,
    });
    cx.finish(task)
}

/// The path of the `opper` crate for the stub emitted on error: what `crate = ...` says if it
/// is a path, else `::opper`.
pub(crate) fn krate_for_stub(metas: &[Meta]) -> syn::Path {
    metas
        .iter()
        .find_map(|meta| match &meta.value {
            Value::Expr(expr) if meta.path.is_ident(symbol::CRATE) => {
                crate::crate_path::from_expr(expr)
            }
            _ => None,
        })
        .unwrap_or_else(crate::crate_path::default)
}
