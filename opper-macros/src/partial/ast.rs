//! The input of `#[derive(Partial)]` as written: the type's shape and what its `#[serde(...)]`
//! and `#[opper(...)]` attributes say, read but not yet checked (`valid.rs` checks them).

use syn::meta::ParseNestedMeta;
use syn::{Attribute, Data, DeriveInput, Fields, FieldsUnnamed, Ident, LitStr, Token, Variant};

use crate::ctxt::Ctxt;
use crate::meta::skip_value;

pub(super) const SERDE: &str = "serde";
pub(super) const OPPER: &str = "opper";
// serde keys the derive reads.
const RENAME: &str = "rename";
const RENAME_ALL: &str = "rename_all";
const ALIAS: &str = "alias";
const SKIP: &str = "skip";
const SKIP_DESERIALIZING: &str = "skip_deserializing";
const FLATTEN: &str = "flatten";
const OTHER: &str = "other";
const DESERIALIZE: &str = "deserialize";
// opper keys.
const CRATE: &str = "crate";
const PARTIAL: &str = "partial";

/// The type deriving `Partial`.
pub(super) struct Container<'a> {
    pub(super) input: &'a DeriveInput,
    pub(super) opper: OpperAttrs,
    pub(super) serde: SerdeAttrs,
    pub(super) data: Shape<'a>,
}

/// The type's shape.
pub(super) enum Shape<'a> {
    /// A struct with named fields.
    Struct(Vec<Field<'a>>),
    Enum(Vec<EnumVariant<'a>>),
    TupleStruct(&'a FieldsUnnamed),
    UnitStruct(Token![struct]),
    Union(Token![union]),
}

/// A named field of a struct.
pub(super) struct Field<'a> {
    pub(super) field: &'a syn::Field,
    pub(super) ident: &'a Ident,
    pub(super) serde: SerdeAttrs,
    /// `#[opper(...)]` attributes, which do not go on fields.
    pub(super) opper: Vec<&'a Attribute>,
}

/// A variant of an enum.
pub(super) struct EnumVariant<'a> {
    pub(super) variant: &'a Variant,
    pub(super) serde: SerdeAttrs,
}

/// `#[opper(crate = "path", partial = "Name")]`, each key with its value as written.
#[derive(Default)]
pub(super) struct OpperAttrs {
    pub(super) krate: Vec<(syn::Path, LitStr)>,
    pub(super) partial: Vec<(syn::Path, LitStr)>,
    /// Keys the derive does not know.
    pub(super) unknown: Vec<syn::Path>,
}

/// What one item's `#[serde(...)]` attributes say, as far as the partial form cares.
#[derive(Default)]
pub(super) struct SerdeAttrs {
    /// `rename = "..."`, or the `deserialize` side of `rename(...)`.
    pub(super) rename: Option<String>,
    /// `rename_all = "..."` (its `deserialize` side), not yet checked to be a rule.
    pub(super) rename_all: Option<LitStr>,
    pub(super) aliases: Vec<String>,
    /// `skip` or `skip_deserializing`.
    pub(super) skip: bool,
    pub(super) flatten: bool,
    pub(super) other: bool,
    /// Every other key, skipped; `valid.rs` refuses those the partial form cannot follow.
    pub(super) other_keys: Vec<syn::Path>,
}

impl<'a> Container<'a> {
    /// Reads the input. Syntax errors in attributes are reported; what was read is kept.
    pub(super) fn from_syn(input: &'a DeriveInput, cx: &Ctxt) -> Self {
        let opper = opper_attrs(&input.attrs, cx);
        let serde = serde_attrs(&input.attrs, cx);
        let data = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => Shape::Struct(
                    named
                        .named
                        .iter()
                        .filter_map(|field| {
                            Some(Field {
                                field,
                                ident: field.ident.as_ref()?,
                                serde: serde_attrs(&field.attrs, cx),
                                opper: field
                                    .attrs
                                    .iter()
                                    .filter(|attr| attr.path().is_ident(OPPER))
                                    .collect(),
                            })
                        })
                        .collect(),
                ),
                Fields::Unnamed(unnamed) => Shape::TupleStruct(unnamed),
                Fields::Unit => Shape::UnitStruct(data.struct_token),
            },
            Data::Enum(data) => Shape::Enum(
                data.variants
                    .iter()
                    .map(|variant| EnumVariant {
                        variant,
                        serde: serde_attrs(&variant.attrs, cx),
                    })
                    .collect(),
            ),
            Data::Union(data) => Shape::Union(data.union_token),
        };
        Container {
            input,
            opper,
            serde,
            data,
        }
    }
}

/// `#[opper(...)]` on the type.
fn opper_attrs(attrs: &[Attribute], cx: &Ctxt) -> OpperAttrs {
    let mut out = OpperAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident(OPPER)) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(CRATE) {
                out.krate.push((meta.path.clone(), meta.value()?.parse()?));
            } else if meta.path.is_ident(PARTIAL) {
                out.partial
                    .push((meta.path.clone(), meta.value()?.parse()?));
            } else {
                out.unknown.push(meta.path.clone());
                skip_value(&meta)?;
            }
            Ok(())
        });
        if let Err(error) = result {
            cx.syn_error(error);
        }
    }
    out
}

fn serde_attrs(attrs: &[Attribute], cx: &Ctxt) -> SerdeAttrs {
    let mut out = SerdeAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident(SERDE)) {
        let result = attr.parse_nested_meta(|meta| serde_key(&meta, &mut out));
        if let Err(error) = result {
            cx.syn_error(error);
        }
    }
    out
}

fn serde_key(meta: &ParseNestedMeta<'_>, out: &mut SerdeAttrs) -> syn::Result<()> {
    let path = &meta.path;
    if path.is_ident(RENAME) {
        if let Some(name) = deserialize_side(meta)? {
            out.rename = Some(name.value());
        }
    } else if path.is_ident(RENAME_ALL) {
        if let Some(name) = deserialize_side(meta)? {
            out.rename_all = Some(name);
        }
    } else if path.is_ident(ALIAS) {
        let name: LitStr = meta.value()?.parse()?;
        out.aliases.push(name.value());
    } else if path.is_ident(SKIP) || path.is_ident(SKIP_DESERIALIZING) {
        out.skip = true;
    } else if path.is_ident(FLATTEN) {
        out.flatten = true;
    } else if path.is_ident(OTHER) {
        out.other = true;
    } else {
        out.other_keys.push(path.clone());
        skip_value(meta)?;
    }
    Ok(())
}

/// `key = "x"` or `key(serialize = "a", deserialize = "b")`: the name used to deserialize.
fn deserialize_side(meta: &ParseNestedMeta<'_>) -> syn::Result<Option<LitStr>> {
    if meta.input.peek(Token![=]) {
        return Ok(Some(meta.value()?.parse()?));
    }
    let mut found = None;
    meta.parse_nested_meta(|inner| {
        let value: LitStr = inner.value()?.parse()?;
        if inner.path.is_ident(DESERIALIZE) {
            found = Some(value);
        }
        Ok(())
    })?;
    Ok(found)
}
