//! The checked input of `#[derive(Partial)]`: what `expand.rs` writes code from. `valid.rs`
//! builds it only when every check passed.

use syn::{Attribute, Generics, Ident, Type, Visibility};

pub(super) struct Input<'a> {
    pub(super) ident: &'a Ident,
    pub(super) vis: &'a Visibility,
    pub(super) generics: &'a Generics,
    /// The path of the `opper` crate.
    pub(super) krate: syn::Path,
    /// The name of the generated partial struct.
    pub(super) partial_ident: Ident,
    pub(super) body: Body<'a>,
}

pub(super) enum Body<'a> {
    /// A struct with named fields: those that are deserialized.
    Struct(Vec<Field<'a>>),
    /// A unit-only enum: its variants' names (with aliases), and whether one is `#[serde(other)]`.
    Enum { names: Vec<String>, open: bool },
}

pub(super) struct Field<'a> {
    pub(super) ident: &'a Ident,
    pub(super) vis: &'a Visibility,
    pub(super) ty: &'a Type,
    /// The key in the JSON, then its aliases.
    pub(super) keys: Vec<String>,
    pub(super) flatten: bool,
    pub(super) docs: Vec<&'a Attribute>,
}
