//! The checks: the attribute's keys and the signature, as written, become a [`Task`] that cannot
//! be invalid. Every mistake is reported, spanned on the user's token, before anything is built.

use crate::ctxt::Ctxt;
use crate::function::ast::ItemSig;
use crate::function::attr::{Meta, Value};
use crate::function::spec::{Mode, Task};
use crate::function::symbol;

// The checks, leaves first.
mod value;
mod model;
mod example;
mod signature;
mod args;

/// The task, or every mistake in the attribute and the signature.
pub(crate) fn validate<'a>(metas: &[Meta], item: &'a ItemSig, cx: Ctxt) -> syn::Result<Task<'a>> {
    let args = args::Args::validate(metas, &cx);
    let function = signature::function(item, &cx);
    let agent = args.tools.is_some()
        || function.as_ref().is_some_and(|function| {
            matches!(function.output.mode, Mode::AgentRun | Mode::AgentStream)
        });
    agent_keys(&args, agent, &cx);
    if let Some(function) = function.as_ref().filter(|_| agent)
        && matches!(function.output.mode, Mode::Response | Mode::Stream)
    {
        cx.error_spanned_by(
            &function.output.ty,
            "an agent (`tools = [...]`) returns `opper::Result<T>`, \
             `opper::Result<opper::AgentRun<T>>` or `opper::Result<opper::AgentStream<T>>`",
        );
    }
    let examples = function
        .as_ref()
        .map(|function| example::match_signature(args.examples, &function.input, &cx));
    let name = match &args.name {
        Some(name) => name.value(),
        None => syn::ext::IdentExt::unraw(&item.sig.ident).to_string(),
    };
    let instructions = match &args.instructions {
        Some(instructions) => Some(quote::ToTokens::to_token_stream(instructions)),
        None => crate::docs::instructions(&item.attrs),
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
        tools: match args.tools {
            None if agent => Some(Vec::new()),
            tools => tools,
        },
        max_iterations: args.max_iterations,
        function,
    });
    cx.finish(task)
}

/// The keys an agent takes, and those it does not take.
fn agent_keys(args: &args::Args, agent: bool, cx: &Ctxt) {
    if agent {
        if let Some(example) = args.examples.first() {
            cx.error_spanned_by(
                example.output(),
                "an agent (`tools = [...]`) takes no `example`",
            );
        }
    } else if let Some(max) = &args.max_iterations {
        cx.error_spanned_by(
            max,
            "`max_iterations` is for an agent: add `tools = [...]`, or return `opper::AgentRun<T>`",
        );
    }
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
