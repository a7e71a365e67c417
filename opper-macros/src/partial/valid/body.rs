//! What the partial form streams: a struct's deserialized fields with their JSON keys, a
//! unit-only enum's variant names.

use syn::ext::IdentExt;

use super::opper;
use super::serde::{Place, check_serde};
use crate::case::RenameRule;
use crate::ctxt::Ctxt;
use crate::partial::ast::{EnumVariant, Field as RawField};
use crate::partial::spec::{Body, Field, Variant};
use crate::partial::symbol::DOC;

/// A field, unless it is skipped.
pub(super) fn field<'a>(field: &RawField<'a>, rule: RenameRule, cx: &Ctxt) -> Option<Field<'a>> {
    check_serde(&field.serde, Place::Field, cx);
    let (atomic, required) = opper::field(field, cx);
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
        atomic,
        required,
        docs: field
            .field
            .attrs
            .iter()
            .filter(|a| a.path().is_ident(DOC))
            .collect(),
    })
}

/// A unit-only enum: its variants and their names.
pub(super) fn enum_body<'a>(variants: &[EnumVariant<'a>], rule: RenameRule, cx: &Ctxt) -> Body<'a> {
    let mut deserialized = Vec::new();
    let mut other = None;
    for EnumVariant {
        variant,
        serde,
        opper,
    } in variants
    {
        opper::variant(opper, cx);
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
            other = Some(&variant.ident);
        }
        if serde.skip {
            continue;
        }
        let mut names = vec![
            serde
                .rename
                .clone()
                .unwrap_or_else(|| rule.apply_to_variant(&variant.ident.unraw().to_string())),
        ];
        names.extend(serde.aliases.iter().cloned());
        deserialized.push(Variant {
            ident: &variant.ident,
            names,
        });
    }
    Body::Enum {
        variants: deserialized,
        other,
    }
}
