//! The `#[opper(...)]` keys: the type's `crate` and `partial`, a field's `atomic` and
//! `required`, each where it belongs and at most once.

use syn::LitStr;

use crate::ctxt::Ctxt;
use crate::partial::ast::{Field as RawField, OpperAttrs};
use crate::partial::symbol::{ATOMIC, CRATE, PARTIAL, REQUIRED};

/// The type's `crate` and `partial`, each at most once; no other key (`atomic` and
/// `required` go on fields).
pub(super) fn container(
    attrs: &OpperAttrs,
    is_enum: bool,
    cx: &Ctxt,
) -> (Option<syn::Path>, Option<syn::Ident>) {
    for path in &attrs.unknown {
        cx.error_spanned_by(
            path,
            "unknown `opper` key: the valid keys are `partial = \"TypeName\"` and \
             `crate = \"path\"` on the type, `atomic` and `required` on a field",
        );
    }
    field_keys_elsewhere(attrs, is_enum, "the type", cx);
    let krate = once(&attrs.krate, CRATE, cx).and_then(|value| {
        parsed(
            value,
            "`crate` takes the path of the opper crate: `crate = \"::opper\"`",
            cx,
        )
    });
    let partial = once(&attrs.partial, PARTIAL, cx).and_then(|value| {
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
    repeated(values.iter().map(|(path, _)| path), key, cx);
    values.first().map(|(_, value)| value)
}

/// Whether a key that takes no value is set; an error on each repetition.
fn set_once(paths: &[syn::Path], key: &str, cx: &Ctxt) -> bool {
    repeated(paths, key, cx);
    !paths.is_empty()
}

/// An error on every occurrence of a key after the first.
fn repeated<'v>(paths: impl IntoIterator<Item = &'v syn::Path>, key: &str, cx: &Ctxt) {
    for path in paths.into_iter().skip(1) {
        cx.error_spanned_by(path, format!("`{key}` is set multiple times"));
    }
}

/// A field's keys (`atomic`, `required`) where they do not belong: on the type or a variant.
fn field_keys_elsewhere(attrs: &OpperAttrs, is_enum: bool, place: &str, cx: &Ctxt) {
    for (key, paths) in field_keys(attrs) {
        for path in paths {
            field_key_elsewhere(path, key, is_enum, place, cx);
        }
    }
}

/// `atomic` and `required`, each with where it is written.
fn field_keys(attrs: &OpperAttrs) -> [(&'static str, &[syn::Path]); 2] {
    [(ATOMIC, &attrs.atomic), (REQUIRED, &attrs.required)]
}

fn field_key_elsewhere(path: &syn::Path, key: &str, is_enum: bool, place: &str, cx: &Ctxt) {
    let message = if is_enum {
        format!(
            "`{key}` goes on a field of a struct, not on {place}: an enum's variant is shown \
             only whole already"
        )
    } else {
        format!(
            "`{key}` goes on a field, not on {place}: put `#[opper({key})]` on each field it is \
             for"
        )
    };
    cx.error_spanned_by(path, message);
}

/// The type's keys (`crate`, `partial`) where they do not belong: on a field or a variant.
fn type_keys_elsewhere(attrs: &OpperAttrs, place: &str, takes: &str, cx: &Ctxt) {
    for (key, paths) in [(CRATE, &attrs.krate), (PARTIAL, &attrs.partial)] {
        for (path, _) in paths {
            cx.error_spanned_by(
                path,
                format!("`{key}` goes on the type, not on {place}; {takes}"),
            );
        }
    }
}

/// A field's `#[opper(...)]`: `atomic` and `required`, each at most once, on a field that has
/// a path of its own (not flattened) and is deserialized (not skipped).
pub(super) fn field(field: &RawField<'_>, cx: &Ctxt) -> (bool, bool) {
    let attrs = &field.opper;
    const TAKES: &str = "a field takes `atomic` and `required`";
    for path in &attrs.unknown {
        cx.error_spanned_by(path, format!("unknown `opper` key on a field: {TAKES}"));
    }
    type_keys_elsewhere(attrs, "a field", TAKES, cx);
    let atomic = set_once(&attrs.atomic, ATOMIC, cx);
    let required = set_once(&attrs.required, REQUIRED, cx);
    for (key, paths) in field_keys(attrs) {
        let Some(path) = paths.first() else { continue };
        if field.serde.flatten {
            cx.error_spanned_by(
                path,
                format!(
                    "`{key}` cannot go on a flattened field: it has no path of its own (its \
                     fields are this struct's); put `#[opper({key})]` on its fields, in their \
                     type"
                ),
            );
        } else if field.serde.skip {
            cx.error_spanned_by(
                path,
                format!(
                    "`{key}` cannot go on a skipped field: it is never deserialized, so never \
                     streamed"
                ),
            );
        }
    }
    (atomic, required)
}

/// A variant's `#[opper(...)]`: every key is misplaced.
pub(super) fn variant(attrs: &OpperAttrs, cx: &Ctxt) {
    const TAKES: &str = "a variant takes no `opper` key";
    for path in &attrs.unknown {
        cx.error_spanned_by(path, format!("unknown `opper` key: {TAKES}"));
    }
    type_keys_elsewhere(attrs, "a variant", TAKES, cx);
    field_keys_elsewhere(attrs, true, "a variant", cx);
}

/// The path or name a string holds, or `message` on the string.
fn parsed<T: syn::parse::Parse>(value: &LitStr, message: &str, cx: &Ctxt) -> Option<T> {
    let parsed = value.parse().ok();
    if parsed.is_none() {
        cx.error_spanned_by(value, message);
    }
    parsed
}
