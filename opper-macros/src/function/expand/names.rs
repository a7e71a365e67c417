//! The names one expansion binds or gives: the input struct and its title, its type
//! parameters, and the hygienic locals of the bodies.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::ext::IdentExt;
use syn::{Ident, LitStr};

use crate::case::pascal_case;
use crate::function::spec::{Input, Param, Task};

/// The most parameters `__private::Args` takes: `__private::MAX_PARAMS`, the same number.
const MAX_PARAMS: usize = 16;

/// Names shared by the pieces of one expansion.
pub(super) struct Names {
    /// `::opper::__private`, or under the path `crate = ...` gives.
    pub(super) private: TokenStream,
    /// The generated input struct (unused with an `#[input]` parameter or `args`).
    pub(super) input_struct: Ident,
    /// The input's title: `AddNumbersInput`.
    pub(super) title: LitStr,
    /// The parameters are the input as a `__private::Args`, with no struct: the function's
    /// two bodies cost little to compile, and what the input needs of each parameter's type
    /// comes from `assert_input`, so a type that does not fit is reported there alone. A
    /// parameter with `#[serde]` or `#[schemars]` attributes (which only a derive reads), none
    /// or more than `MAX_PARAMS` make a derived struct instead.
    pub(super) args: bool,
    /// With `args`, the tuple of the parameters' `__private::Param`s.
    pub(super) params: Ident,
    /// The `static` task cell, alone in a block of its own.
    pub(super) cell: Ident,
    /// The `_with` twin's client parameter: hygienic, so a user parameter of the same name is
    /// another binding.
    pub(super) client: Ident,
    /// An example's locals.
    pub(super) input: Ident,
    pub(super) output: Ident,
}

impl Names {
    pub(super) fn new(task: &Task<'_>) -> Self {
        let krate = &task.krate;
        Names {
            private: quote!(#krate::__private),
            input_struct: input_struct_name(task.function.ident, task.function.input.params()),
            title: LitStr::new(
                &format!(
                    "{}Input",
                    pascal_case(&task.function.ident.unraw().to_string())
                ),
                Span::call_site(),
            ),
            args: matches!(&task.function.input, Input::Fields(params)
                if (1..=MAX_PARAMS).contains(&params.len())
                    && params.iter().all(|param| param.forwarded.is_empty())),
            params: Ident::new("__opper_params", Span::mixed_site()),
            cell: Ident::new("__OPPER_TASK", Span::mixed_site()),
            client: Ident::new("client", Span::mixed_site()),
            input: Ident::new("__opper_input", Span::mixed_site()),
            output: Ident::new("__opper_output", Span::mixed_site()),
        }
    }
}

/// `AddNumbersInput` for `add_numbers`, unless a parameter's type already uses that name.
fn input_struct_name(ident: &Ident, params: &[Param]) -> Ident {
    let name = format!("{}Input", pascal_case(&ident.unraw().to_string()));
    if params
        .iter()
        .any(|param| mentions(param.ty.to_token_stream(), &name))
    {
        format_ident!("__Opper{}", name)
    } else {
        Ident::new(&name, Span::call_site())
    }
}

/// The input struct's `index`th type parameter: `__T0`, or with `_`s appended until no
/// parameter's type mentions it (inside the struct, it would shadow the user's type).
pub(super) fn type_param_name(index: usize, params: &[Param]) -> Ident {
    let mut name = format!("__T{index}");
    while params
        .iter()
        .any(|param| mentions(param.ty.to_token_stream(), &name))
    {
        name.push('_');
    }
    Ident::new(&name, Span::call_site())
}

fn mentions(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Group(group) => mentions(group.stream(), name),
        proc_macro2::TokenTree::Ident(ident) => ident == name,
        _ => false,
    })
}
