//! The body of either function: the input, the checks, then the call.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
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
        ).await?)
    })
}

/// The runtime function that makes the call: `call`, `call_response` or `stream`, spanned on
/// the output type (its bounds are the output's).
fn call(task: &Task<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let out_ty = &task.function.output.ty;
    let call_name = match task.function.output.mode {
        Mode::Call => quote!(call),
        Mode::Response => quote!(call_response),
        Mode::Stream => quote!(stream),
    };
    quote_spanned!(out_ty.span()=> #private::#call_name::<_, #out_ty>)
}
