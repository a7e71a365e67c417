//! The bound the derive puts on the types of a struct's fields. Not a public API.

use super::PartialForm;

/// A type that can be the type of a field of a `#[derive(opper::Partial)]` type: the std types
/// that implement [`PartialForm`] and every derived type, each with an impl of its own (a blanket
/// impl over `Partial` would make a recursive type's impl need itself).
///
/// The derive bounds the partial struct, its impls and `impl Partial` by `FieldType:
/// PartialField` for each field whose type names no type parameter, spanned on that type: a
/// field whose type is not `Partial` is then one error, on that type, and nothing that names
/// the field's partial type fails again.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be streamed: it does not implement `opper::Partial`",
    label = "the type of a field of an `opper::Partial` type needs `opper::Partial`",
    note = "add `#[derive(opper::Partial)]` to `{Self}`"
)]
pub trait PartialField: PartialForm {}
