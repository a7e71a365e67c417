//! The checks of `#[derive(Partial)]`: shapes the partial form can follow, serde attributes it
//! understands, `#[opper(...)]` keys. Every mistake is reported, then the [`Input`] is built.

use syn::LitStr;
use syn::ext::IdentExt;

use super::ast::{Container, EnumVariant, Field as RawField, OpperAttrs, SerdeAttrs, Shape};
use super::spec::{Body, Field, Input};
use crate::case::{RULES, RenameRule};
use crate::ctxt::Ctxt;

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

/// The checked input, or every mistake.
pub(super) fn validate<'a>(container: &Container<'a>, cx: Ctxt) -> syn::Result<Input<'a>> {
    let input = container.input;
    let (krate, partial_name) = opper(&container.opper, &cx);
    check_serde(&container.serde, Place::Container, &cx);
    for lifetime in input.generics.lifetimes() {
        cx.error_spanned_by(
            lifetime,
            "Partial cannot be derived for a type with lifetime parameters: a streamed output is \
             deserialized into an owned value",
        );
    }
    let rule = rule(&container.serde);
    let body = match &container.data {
        Shape::Struct(fields) => Some(Body::Struct(
            fields
                .iter()
                .filter_map(|field| self::field(field, rule, &cx))
                .collect(),
        )),
        Shape::Enum(variants) => Some(enum_body(variants, rule, &cx)),
        Shape::TupleStruct(unnamed) => {
            cx.error_spanned_by(
                unnamed,
                "Partial cannot be derived for a tuple struct: a streamed output is a JSON \
                 object, so use a struct with named fields",
            );
            None
        }
        Shape::UnitStruct(token) => {
            cx.error_spanned_by(
                token,
                "Partial cannot be derived for a unit struct: use a struct with named fields",
            );
            None
        }
        Shape::Union(token) => {
            cx.error_spanned_by(
                token,
                "Partial cannot be derived for a union: use a struct with named fields or a \
                 unit-only enum",
            );
            None
        }
    };
    let input = body.map(|body| Input {
        ident: &input.ident,
        vis: &input.vis,
        generics: &input.generics,
        krate: krate.unwrap_or_else(crate::crate_path::default),
        partial_ident: partial_name.unwrap_or_else(|| {
            syn::Ident::new(
                &format!("Partial{}", input.ident.unraw()),
                input.ident.span(),
            )
        }),
        body,
    });
    cx.finish(input)
}

/// The path of the `opper` crate for the stub emitted on error: `#[opper(crate = "...")]` if it
/// holds a path, else `::opper`.
pub(super) fn krate_for_stub(container: &Container<'_>) -> syn::Path {
    container
        .opper
        .krate
        .first()
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or_else(crate::crate_path::default)
}

/// `crate` and `partial`, each at most once; no other key.
fn opper(attrs: &OpperAttrs, cx: &Ctxt) -> (Option<syn::Path>, Option<syn::Ident>) {
    for path in &attrs.unknown {
        cx.error_spanned_by(
            path,
            "unknown `opper` key: the valid keys are `partial = \"TypeName\"` and \
             `crate = \"path\"`",
        );
    }
    let krate = once(&attrs.krate, "crate", cx).and_then(|value| {
        parsed(
            value,
            "`crate` takes the path of the opper crate: `crate = \"::opper\"`",
            cx,
        )
    });
    let partial = once(&attrs.partial, "partial", cx).and_then(|value| {
        parsed(
            value,
            "`partial` takes the name of the partial type: `partial = \"PartialTeam\"`",
            cx,
        )
    });
    (krate, partial)
}

/// The first value of a key; an error on each repetition.
fn once<'v>(values: &'v [(syn::Path, LitStr)], key: &str, cx: &Ctxt) -> Option<&'v LitStr> {
    for (path, _) in values.iter().skip(1) {
        cx.error_spanned_by(path, format!("`{key}` is set multiple times"));
    }
    values.first().map(|(_, value)| value)
}

/// The path or name a string holds, or `message` on the string.
fn parsed<T: syn::parse::Parse>(value: &LitStr, message: &str, cx: &Ctxt) -> Option<T> {
    let parsed = value.parse().ok();
    if parsed.is_none() {
        cx.error_spanned_by(value, message);
    }
    parsed
}

/// Where a `#[serde(...)]` attribute is: it decides which keys the partial form cannot follow.
#[derive(Clone, Copy)]
enum Place {
    Container,
    Field,
    Variant,
}

impl Place {
    /// The keys refused here, and what they are told.
    fn unsupported(self) -> (&'static [&'static str], &'static str) {
        match self {
            Place::Container => (
                CONTAINER_UNSUPPORTED,
                "Partial does not support this serde attribute: the partial form follows the \
                 type's fields as they appear in the JSON",
            ),
            Place::Field => (
                FIELD_UNSUPPORTED,
                "Partial does not support a custom deserializer on a field: the partial form \
                 follows the field's type",
            ),
            Place::Variant => (&[], ""),
        }
    }
}

/// Refuses the serde keys the partial form cannot follow here, and unknown rename rules.
fn check_serde(attrs: &SerdeAttrs, place: Place, cx: &Ctxt) {
    let (unsupported, message) = place.unsupported();
    for path in &attrs.other_keys {
        if unsupported.iter().any(|key| path.is_ident(key)) {
            cx.error_spanned_by(path, message);
        }
    }
    if let Some(name) = &attrs.rename_all {
        if RenameRule::from_name(&name.value()).is_none() {
            let valid: Vec<String> = RULES.iter().map(|(n, _)| format!("{n:?}")).collect();
            cx.error_spanned_by(
                name,
                format!("unknown rename rule, expected one of {}", valid.join(", ")),
            );
        }
    }
}

/// The container's `rename_all` rule (none when absent or unknown, which is reported).
fn rule(attrs: &SerdeAttrs) -> RenameRule {
    attrs
        .rename_all
        .as_ref()
        .and_then(|name| RenameRule::from_name(&name.value()))
        .unwrap_or(RenameRule::None)
}

/// A field, unless it is skipped.
fn field<'a>(field: &RawField<'a>, rule: RenameRule, cx: &Ctxt) -> Option<Field<'a>> {
    check_serde(&field.serde, Place::Field, cx);
    for attr in &field.opper {
        cx.error_spanned_by(attr, "`#[opper(...)]` goes on the type, not on a field");
    }
    if field.serde.skip {
        return None;
    }
    let name = field
        .serde
        .rename
        .clone()
        .unwrap_or_else(|| rule.apply_to_field(&field.ident.unraw().to_string()));
    let mut keys = vec![name];
    keys.extend(field.serde.aliases.iter().cloned());
    Some(Field {
        ident: field.ident,
        vis: &field.field.vis,
        ty: &field.field.ty,
        keys,
        flatten: field.serde.flatten,
        docs: field
            .field
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .collect(),
    })
}

/// A unit-only enum: its variants' names.
fn enum_body(variants: &[EnumVariant<'_>], rule: RenameRule, cx: &Ctxt) -> Body<'static> {
    let mut names = Vec::new();
    let mut open = false;
    for EnumVariant { variant, serde } in variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            cx.error_spanned_by(
                &variant.fields,
                "Partial can be derived only for enums whose variants are all units \
                 (streamed as a string); make this a unit variant or use a struct",
            );
            continue;
        }
        check_serde(serde, Place::Variant, cx);
        if serde.other {
            open = true;
        }
        if serde.skip {
            continue;
        }
        names.push(
            serde
                .rename
                .clone()
                .unwrap_or_else(|| rule.apply_to_variant(&variant.ident.unraw().to_string())),
        );
        names.extend(serde.aliases.iter().cloned());
    }
    Body::Enum { names, open }
}
