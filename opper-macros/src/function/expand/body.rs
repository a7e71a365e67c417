//! The body of either function: the input, the checks, then the call.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use super::checks::checks;
use super::input::{input_struct, input_value};
use super::names::Names;
use super::policy::policy;
use super::task::build_task;
use crate::function::spec::{Mode, Task};

/// The body of either function: the input struct, the checks, then the call with `client`, an
/// `Option<&Opper>`, of the task (built on first use, once per instantiation of the function:
/// see `TaskCell`). It binds no name: the task cell is a `static` alone in its block.
pub(super) fn body(task: &Task<'_>, names: &Names, client: &TokenStream) -> TokenStream {
    let private = &names.private;
    let cell = &names.cell;
    let input_struct = input_struct(task, names);
    let checks = checks(task, names);
    let build = build_task(task, names);
    let input_value = input_value(task, names);
    let call = call(task, names);
    let policy = policy(task, names);
    let agent = agent_args(task);
    quote!({
        #input_struct
        #checks
        ::core::result::Result::Ok(#call(
            #client,
            #private::TaskCell::get_or_init(
                {
                    static #cell: #private::TaskCell = #private::TaskCell::new();
                    &#cell
                },
                || #build,
            ),
            #input_value,
            &#policy,
            #agent
        ).await?)
    })
}

/// The runtime function that makes the call: `call`, `call_response` or `stream`, spanned on
/// the output type (its bounds are the output's).
fn call(task: &Task<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let out_ty = &task.function.output.ty;
    let call_name = match (task.function.output.mode, task.tools.is_some()) {
        (Mode::Call, false) => quote!(call),
        (Mode::Response, false) => quote!(call_response),
        (Mode::Stream, false) => quote!(stream),
        (Mode::Call, true) => quote!(agent_call),
        (Mode::AgentRun, _) => quote!(agent_run),
        (Mode::AgentStream, _) => quote!(agent_stream),
        // Refused by the checks: `Response` and `Stream` are a task's, not an agent's.
        (Mode::Response | Mode::Stream, true) => quote!(agent_call),
    };
    quote_spanned!(out_ty.span()=> #private::#call_name::<_, #out_ty>)
}

/// An agent's extra arguments: its tools (`|| vec![a_tool(), ...]`, each call spanned on the
/// user's path) and `max_iterations`; nothing for a task.
fn agent_args(task: &Task<'_>) -> TokenStream {
    let Some(tools) = &task.tools else {
        return TokenStream::new();
    };
    let calls = tools.iter().map(|path| {
        let mut path = path.clone();
        if let Some(last) = path.segments.last_mut() {
            let ident = last.ident.unraw();
            last.ident = format_ident!("{}_tool", ident, span = last.ident.span());
        }
        quote_spanned!(path.span()=> #path())
    });
    let max = match &task.max_iterations {
        Some(max) => quote!(::core::option::Option::Some(#max)),
        None => quote!(::core::option::Option::None),
    };
    quote!(|| ::std::vec![#(#calls),*], #max,)
}
