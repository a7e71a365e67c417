//! The checked input of `#[derive(Partial)]`: what [`expand`](super::expand) writes code from. [`valid`](super::valid)
//! builds it only when every check passed.

use syn::{Attribute, Generics, Ident, Type, Visibility};

pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a Visibility,
    pub(crate) generics: &'a Generics,
    /// The path of the `opper` crate.
    pub(crate) krate: syn::Path,
    /// The name of the generated partial struct.
    pub(crate) partial_ident: Ident,
    pub(crate) body: Body<'a>,
}

pub(crate) enum Body<'a> {
    /// A struct with named fields: those that are deserialized.
    Struct(Vec<Field<'a>>),
    /// A unit-only enum: its deserialized variants with their names (with aliases), and its
    /// `#[serde(other)]` variant, if any.
    Enum {
        variants: Vec<Variant<'a>>,
        other: Option<&'a Ident>,
    },
}

/// A unit variant that is deserialized.
pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    /// The name in the JSON, then its aliases.
    pub(crate) names: Vec<String>,
}

pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a Visibility,
    pub(crate) ty: &'a Type,
    /// The key in the JSON, then its aliases.
    pub(crate) keys: Vec<String>,
    pub(crate) flatten: bool,
    /// `#[opper(atomic)]`: shown only whole.
    pub(crate) atomic: bool,
    /// `#[opper(required)]`: the struct is not shown in its parent until this has a value.
    pub(crate) required: bool,
    pub(crate) docs: Vec<&'a Attribute>,
}
