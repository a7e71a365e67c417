//! The input of `#[derive(Partial)]` as written: the type's shape and what its `#[serde(...)]`
//! and `#[opper(...)]` attributes say, read but not yet checked ([`valid`](super::valid) checks them).

use syn::meta::ParseNestedMeta;
use syn::{Attribute, Data, DeriveInput, Fields, FieldsUnnamed, Ident, LitStr, Token, Variant};

use crate::ctxt::Ctxt;
use crate::meta::skip_value;
use crate::partial::symbol::{
    ALIAS, ATOMIC, CRATE, DESERIALIZE, FLATTEN, OPPER, OTHER, PARTIAL, RENAME, RENAME_ALL,
    REQUIRED, SERDE, SKIP, SKIP_DESERIALIZING,
};

/// The type deriving `Partial`.
pub(crate) struct Container<'a> {
    pub(crate) input: &'a DeriveInput,
    pub(crate) opper: OpperAttrs,
    pub(crate) serde: SerdeAttrs,
    pub(crate) data: Shape<'a>,
}

/// The type's shape.
pub(crate) enum Shape<'a> {
    /// A struct with named fields.
    Struct(Vec<Field<'a>>),
    Enum(Vec<EnumVariant<'a>>),
    TupleStruct(&'a FieldsUnnamed),
    UnitStruct(Token![struct]),
    Union(Token![union]),
}

/// A named field of a struct.
pub(crate) struct Field<'a> {
    pub(crate) field: &'a syn::Field,
    pub(crate) ident: &'a Ident,
    pub(crate) serde: SerdeAttrs,
    pub(crate) opper: OpperAttrs,
}

/// A variant of an enum.
pub(crate) struct EnumVariant<'a> {
    pub(crate) variant: &'a Variant,
    pub(crate) serde: SerdeAttrs,
    pub(crate) opper: OpperAttrs,
}

/// What one item's `#[opper(...)]` attributes say, each key as written, wherever it is (the
/// type's keys `crate = "path"` and `partial = "Name"`, a field's `atomic` and `required`):
/// [`valid`](super::valid) checks that each is where it belongs, once.
#[derive(Default)]
pub(crate) struct OpperAttrs {
    pub(crate) krate: Vec<(syn::Path, LitStr)>,
    pub(crate) partial: Vec<(syn::Path, LitStr)>,
    pub(crate) atomic: Vec<syn::Path>,
    pub(crate) required: Vec<syn::Path>,
    /// Keys the derive does not know.
    pub(crate) unknown: Vec<syn::Path>,
}

/// What one item's `#[serde(...)]` attributes say, as far as the partial form cares.
#[derive(Default)]
pub(crate) struct SerdeAttrs {
    /// `rename = "..."`, or the `deserialize` side of `rename(...)`.
    pub(crate) rename: Option<String>,
    /// `rename_all = "..."` (its `deserialize` side), not yet checked to be a rule.
    pub(crate) rename_all: Option<LitStr>,
    pub(crate) aliases: Vec<String>,
    /// `skip` or `skip_deserializing`.
    pub(crate) skip: bool,
    pub(crate) flatten: bool,
    pub(crate) other: bool,
    /// Every other key, skipped; [`valid`](super::valid) refuses those the partial form cannot follow.
    pub(crate) other_keys: Vec<syn::Path>,
}

impl<'a> Container<'a> {
    /// Reads the input. Syntax errors in attributes are reported; what was read is kept.
    pub(crate) fn from_syn(input: &'a DeriveInput, cx: &Ctxt) -> Self {
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
                                opper: opper_attrs(&field.attrs, cx),
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
                        opper: opper_attrs(&variant.attrs, cx),
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

/// `#[opper(...)]` on the type, a field or a variant.
fn opper_attrs(attrs: &[Attribute], cx: &Ctxt) -> OpperAttrs {
    let mut out = OpperAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident(OPPER)) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(CRATE) {
                out.krate.push((meta.path.clone(), meta.value()?.parse()?));
            } else if meta.path.is_ident(PARTIAL) {
                out.partial
                    .push((meta.path.clone(), meta.value()?.parse()?));
            } else if meta.path.is_ident(ATOMIC) {
                out.atomic.push(flag(&meta, cx)?);
            } else if meta.path.is_ident(REQUIRED) {
                out.required.push(flag(&meta, cx)?);
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

/// A key that takes no value (`atomic`); a value is reported, skipped, and the key kept.
fn flag(meta: &ParseNestedMeta<'_>, cx: &Ctxt) -> syn::Result<syn::Path> {
    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        cx.error_spanned_by(
            &meta.path,
            format!("`{key}` takes no value: write `#[opper({key})]`"),
        );
        skip_value(meta)?;
    }
    Ok(meta.path.clone())
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
