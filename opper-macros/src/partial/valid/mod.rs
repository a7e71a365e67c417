//! The checks of `#[derive(Partial)]`: shapes the partial form can follow (here), the serde
//! attributes it understands (`serde.rs`), the `#[opper(...)]` keys (`opper.rs`), and the
//! fields and variants it streams (`body.rs`). Every mistake is reported, then the [`Input`] is
//! built.

use syn::ext::IdentExt;

use crate::ctxt::Ctxt;
use crate::partial::ast::{Container, Shape};
use crate::partial::spec::{Body, Input};

// The checks, leaves first.
mod serde;
mod opper;
mod body;

use self::serde::{Place, check_serde, rule};

/// The checked input, or every mistake.
pub(crate) fn validate<'a>(container: &Container<'a>, cx: Ctxt) -> syn::Result<Input<'a>> {
    let input = container.input;
    let is_enum = matches!(container.data, Shape::Enum(_));
    let (krate, partial_name) = opper::container(&container.opper, is_enum, &cx);
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
                .filter_map(|field| body::field(field, rule, &cx))
                .collect(),
        )),
        Shape::Enum(variants) => Some(body::enum_body(variants, rule, &cx)),
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
pub(crate) fn krate_for_stub(container: &Container<'_>) -> syn::Path {
    container
        .opper
        .krate
        .first()
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or_else(crate::crate_path::default)
}
