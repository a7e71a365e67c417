//! The generated code: the function and, unless it is an `&self` method, its `_with` twin
//! taking a client. Every item they need (the task cell, a derived input struct if any) is
//! inside their bodies, so the same code works in a module and in an `impl` block. Each piece is
//! written by a function of its own, from a [`Task`] that has been checked.
//!
//! Two bodies, each cheap and each reporting what the other reports. Neither can call the
//! other: the attribute cannot tell a module (`f_with(..)`) from an `impl` block
//! (`Self::f_with(..)`), and no path names a sibling in both. So what a body repeats is kept
//! small: the parameters are the input as a `__private::Args`, not a struct with two derives
//! (most of a body's compile time); and what the compiler checks, it checks so that both bodies
//! report the same error on the same token, which it prints once. A type that does not fit is
//! reported by `assert_input` alone, whose `Param` carries what the input needs of it; an
//! example's parameter names are checked by the attribute, since a struct's field errors name
//! each body's struct.
//!
//! Hygiene: the user's parameters and the items of their module share the body's scope, so the
//! generated code binds as few names as it can. Its locals are `Span::mixed_site()`, which no
//! parameter shadows, and named `__opper_*`, which no unit struct or constant in scope is (a
//! pattern naming one of those would match it instead of binding). Its items are in blocks of
//! their own or under names no parameter type mentions; its helpers are `__private` functions.
//!
//! The parts, leaves first: the names an expansion binds (`names.rs`), the checks of the
//! signature's types (`checks.rs`), the input (`input.rs`), the examples (`example.rs`), the
//! task built on the first call (`task.rs`), the validator and re-asks (`policy.rs`), a body
//! (`body.rs`), and the two functions (`function.rs`).

use proc_macro2::TokenStream;
use quote::quote;

use crate::function::spec::Task;

mod names;
mod checks;
mod input;
mod example;
mod task;
mod policy;
mod body;
mod function;

use self::names::Names;

pub(crate) fn expand(task: &Task<'_>) -> TokenStream {
    let names = Names::new(task);
    let function = function::function(task, &names);
    let with_client = function::with_client(task, &names);
    let trait_impl_guard = function::trait_impl_guard(task);
    quote! {
        #function
        #with_client
        #trait_impl_guard
    }
}
