//! The checked tool: what `expand.rs` writes code from.

use proc_macro2::TokenStream;
use syn::{Ident, Type};

/// A tool that can be expanded.
pub(crate) struct Tool<'a> {
    pub(crate) krate: syn::Path,
    /// The tool's name (the fn's, or `name = "..."`).
    pub(crate) name: String,
    /// The fn's doc comment, as a `&str` expression; `None` without one.
    pub(crate) description: Option<TokenStream>,
    pub(crate) item: &'a super::ast::ItemFn,
    pub(crate) params: Vec<Param>,
    /// The return type; `None` for `()`.
    pub(crate) ret: Option<&'a Type>,
    /// Whether the return type is a `Result` (its `Err` is the tool's error).
    pub(crate) fallible: bool,
}

/// A parameter: read from the arguments as `owned`, passed as written.
pub(crate) struct Param {
    pub(crate) ident: Ident,
    /// The type read from the arguments: the parameter's, or its referent's owned form
    /// (`&str` is read as `String`, `&[T]` as `Vec<T>`, `&T` as `T`).
    pub(crate) owned: Type,
    /// Whether the parameter is a reference (the owned value is borrowed for the call).
    pub(crate) borrowed: bool,
    /// Its doc comment, as `schemars` joins a field's (a `&str` expression).
    pub(crate) doc: TokenStream,
}
