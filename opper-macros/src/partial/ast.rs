//! The input of `#[derive(Partial)]`, read into the derive's own types, with every error
//! collected.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Data, DeriveInput, Fields, Generics, Ident, LitStr, Token, Type, Visibility};

use super::case::{RULES, RenameRule};

const SERDE: &str = "serde";
const OPPER: &str = "opper";
// serde keys the derive reads.
const RENAME: &str = "rename";
const RENAME_ALL: &str = "rename_all";
const ALIAS: &str = "alias";
const SKIP: &str = "skip";
const SKIP_DESERIALIZING: &str = "skip_deserializing";
const FLATTEN: &str = "flatten";
const OTHER: &str = "other";
const DESERIALIZE: &str = "deserialize";
// serde keys that change the shape of the JSON in ways the partial form cannot follow.
const CONTAINER_UNSUPPORTED: &[&str] = &[
    "tag",
    "content",
    "untagged",
    "transparent",
    "from",
    "try_from",
    "remote",
];
const FIELD_UNSUPPORTED: &[&str] = &["with", "deserialize_with"];
// opper keys.
const CRATE: &str = "crate";
const PARTIAL: &str = "partial";

/// Collects errors so that all of them are reported at once.
#[derive(Default)]
pub(super) struct Errors(Option<syn::Error>);

impl Errors {
    pub(super) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(super) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

pub(super) struct Input<'a> {
    pub(super) ident: &'a Ident,
    pub(super) vis: &'a Visibility,
    pub(super) generics: &'a Generics,
    pub(super) krate: syn::Path,
    pub(super) partial_ident: Ident,
    pub(super) body: Body<'a>,
}

pub(super) enum Body<'a> {
    Struct(Vec<Field<'a>>),
    /// A unit-only enum: its variants' names (with aliases), and whether one is `#[serde(other)]`.
    Enum {
        names: Vec<String>,
        open: bool,
    },
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

/// What one item's serde attributes say.
#[derive(Default)]
struct SerdeAttrs {
    rename: Option<String>,
    rename_all: Option<RenameRule>,
    aliases: Vec<String>,
    skip: bool,
    flatten: bool,
    other: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Place {
    Container,
    Field,
    Variant,
}

impl<'a> Input<'a> {
    pub(super) fn from_syn(input: &'a DeriveInput, errors: &mut Errors) -> Option<Self> {
        let (krate, partial_name) = opper_attrs(&input.attrs, errors);
        let serde = serde_attrs(&input.attrs, Place::Container, errors);
        for lifetime in input.generics.lifetimes() {
            errors.push(syn::Error::new_spanned(
                lifetime,
                "Partial cannot be derived for a type with lifetime parameters: a streamed output is \
                 deserialized into an owned value",
            ));
        }
        let body = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => {
                    let rule = serde.rename_all.unwrap_or(RenameRule::None);
                    let mut fields = Vec::new();
                    for field in &named.named {
                        let attrs = serde_attrs(&field.attrs, Place::Field, errors);
                        for attr in &field.attrs {
                            if attr.path().is_ident(OPPER) {
                                errors.push(syn::Error::new_spanned(
                                    attr,
                                    "`#[opper(...)]` goes on the type, not on a field",
                                ));
                            }
                        }
                        if attrs.skip {
                            continue;
                        }
                        let Some(ident) = &field.ident else { continue };
                        let name = attrs
                            .rename
                            .unwrap_or_else(|| rule.apply_to_field(&ident.unraw().to_string()));
                        let mut keys = vec![name];
                        keys.extend(attrs.aliases);
                        fields.push(Field {
                            ident,
                            vis: &field.vis,
                            ty: &field.ty,
                            keys,
                            flatten: attrs.flatten,
                            docs: field
                                .attrs
                                .iter()
                                .filter(|a| a.path().is_ident("doc"))
                                .collect(),
                        });
                    }
                    Body::Struct(fields)
                }
                Fields::Unnamed(unnamed) => {
                    errors.push(syn::Error::new_spanned(
                        unnamed,
                        "Partial cannot be derived for a tuple struct: a streamed output is a JSON \
                         object, so use a struct with named fields",
                    ));
                    return None;
                }
                Fields::Unit => {
                    errors.push(syn::Error::new_spanned(
                        data.struct_token,
                        "Partial cannot be derived for a unit struct: use a struct with named fields",
                    ));
                    return None;
                }
            },
            Data::Enum(data) => {
                let rule = serde.rename_all.unwrap_or(RenameRule::None);
                let mut names = Vec::new();
                let mut open = false;
                for variant in &data.variants {
                    if !matches!(variant.fields, Fields::Unit) {
                        errors.push(syn::Error::new_spanned(
                            &variant.fields,
                            "Partial can be derived only for enums whose variants are all units \
                             (streamed as a string); make this a unit variant or use a struct",
                        ));
                        continue;
                    }
                    let attrs = serde_attrs(&variant.attrs, Place::Variant, errors);
                    if attrs.other {
                        open = true;
                    }
                    if attrs.skip {
                        continue;
                    }
                    names.push(attrs.rename.unwrap_or_else(|| {
                        rule.apply_to_variant(&variant.ident.unraw().to_string())
                    }));
                    names.extend(attrs.aliases);
                }
                Body::Enum { names, open }
            }
            Data::Union(data) => {
                errors.push(syn::Error::new_spanned(
                    data.union_token,
                    "Partial cannot be derived for a union: use a struct with named fields or a \
                     unit-only enum",
                ));
                return None;
            }
        };
        let partial_ident = partial_name.unwrap_or_else(|| {
            Ident::new(
                &format!("Partial{}", input.ident.unraw()),
                input.ident.span(),
            )
        });
        Some(Input {
            ident: &input.ident,
            vis: &input.vis,
            generics: &input.generics,
            krate,
            partial_ident,
            body,
        })
    }
}

/// `#[opper(crate = "path", partial = "Name")]` on the type.
pub(super) fn opper_attrs(attrs: &[Attribute], errors: &mut Errors) -> (syn::Path, Option<Ident>) {
    let mut krate: Option<syn::Path> = None;
    let mut partial: Option<Ident> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident(OPPER)) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(CRATE) {
                let value: LitStr = meta.value()?.parse()?;
                if krate.is_some() {
                    return Err(meta.error("`crate` is set multiple times"));
                }
                krate = Some(value.parse()?);
            } else if meta.path.is_ident(PARTIAL) {
                let value: LitStr = meta.value()?.parse()?;
                if partial.is_some() {
                    return Err(meta.error("`partial` is set multiple times"));
                }
                partial = Some(value.parse()?);
            } else {
                return Err(meta.error(
                    "unknown `opper` key: the valid keys are `partial = \"TypeName\"` and \
                     `crate = \"path\"`",
                ));
            }
            Ok(())
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    let krate = krate.unwrap_or_else(|| {
        let mut path = syn::Path::from(Ident::new("opper", Span::call_site()));
        path.leading_colon = Some(Token![::](Span::call_site()));
        path
    });
    (krate, partial)
}

fn serde_attrs(attrs: &[Attribute], place: Place, errors: &mut Errors) -> SerdeAttrs {
    let mut out = SerdeAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident(SERDE)) {
        let result = attr.parse_nested_meta(|meta| serde_key(&meta, place, &mut out));
        if let Err(error) = result {
            errors.push(error);
        }
    }
    out
}

fn serde_key(meta: &ParseNestedMeta<'_>, place: Place, out: &mut SerdeAttrs) -> syn::Result<()> {
    let path = &meta.path;
    if path.is_ident(RENAME) {
        if let Some(name) = deserialize_side(meta)? {
            out.rename = Some(name.value());
        }
    } else if path.is_ident(RENAME_ALL) {
        if let Some(name) = deserialize_side(meta)? {
            let rule = RenameRule::from_name(&name.value()).ok_or_else(|| {
                let valid: Vec<String> = RULES.iter().map(|(n, _)| format!("{n:?}")).collect();
                syn::Error::new_spanned(
                    &name,
                    format!("unknown rename rule, expected one of {}", valid.join(", ")),
                )
            })?;
            if place == Place::Container {
                out.rename_all = Some(rule);
            }
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
    } else if place == Place::Container
        && CONTAINER_UNSUPPORTED.iter().any(|key| path.is_ident(key))
    {
        return Err(meta.error(
            "Partial does not support this serde attribute: the partial form follows the \
             type's fields as they appear in the JSON",
        ));
    } else if place == Place::Field && FIELD_UNSUPPORTED.iter().any(|key| path.is_ident(key)) {
        return Err(meta.error(
            "Partial does not support a custom deserializer on a field: the partial form \
             follows the field's type",
        ));
    } else {
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

/// Consumes the value of a serde key the derive does not read (`= expr` or `(...)`).
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_value(&inner))?;
    }
    Ok(())
}
