//! The `#[serde(...)]` keys the partial form cannot follow, and the container's rename rule.

use crate::case::{RULES, RenameRule};
use crate::ctxt::Ctxt;
use crate::partial::ast::SerdeAttrs;
use crate::partial::symbol::{CONTAINER_UNSUPPORTED, FIELD_UNSUPPORTED};

/// Where a `#[serde(...)]` attribute is: it decides which keys the partial form cannot follow.
#[derive(Clone, Copy)]
pub(super) enum Place {
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
pub(super) fn check_serde(attrs: &SerdeAttrs, place: Place, cx: &Ctxt) {
    let (unsupported, message) = place.unsupported();
    for path in &attrs.other_keys {
        if unsupported.iter().any(|key| path.is_ident(key)) {
            cx.error_spanned_by(path, message);
        }
    }
    if let Some(name) = &attrs.rename_all
        && RenameRule::from_name(&name.value()).is_none()
    {
        let valid: Vec<String> = RULES.iter().map(|(n, _)| format!("{n:?}")).collect();
        cx.error_spanned_by(
            name,
            format!("unknown rename rule, expected one of {}", valid.join(", ")),
        );
    }
}

/// The container's `rename_all` rule (none when absent or unknown, which is reported).
pub(super) fn rule(attrs: &SerdeAttrs) -> RenameRule {
    attrs
        .rename_all
        .as_ref()
        .and_then(|name| RenameRule::from_name(&name.value()))
        .unwrap_or(RenameRule::None)
}
