//! The names of the attribute keys `#[derive(Partial)]` reads (serde's `symbol.rs`).

/// The attributes: serde's, then the derive's own.
pub(crate) const SERDE: &str = "serde";
pub(crate) const OPPER: &str = "opper";

// serde keys the derive reads.
pub(crate) const RENAME: &str = "rename";
pub(crate) const RENAME_ALL: &str = "rename_all";
pub(crate) const ALIAS: &str = "alias";
pub(crate) const SKIP: &str = "skip";
pub(crate) const SKIP_DESERIALIZING: &str = "skip_deserializing";
pub(crate) const FLATTEN: &str = "flatten";
pub(crate) const OTHER: &str = "other";
pub(crate) const DESERIALIZE: &str = "deserialize";

/// serde keys on the type that change the shape of the JSON in ways the partial form cannot
/// follow.
pub(crate) const CONTAINER_UNSUPPORTED: &[&str] = &[
    "tag",
    "content",
    "untagged",
    "transparent",
    "from",
    "try_from",
    "remote",
];
/// serde keys on a field that the partial form cannot follow.
pub(crate) const FIELD_UNSUPPORTED: &[&str] = &["with", "deserialize_with"];

// opper keys: of the type, then of a field.
pub(crate) const CRATE: &str = "crate";
pub(crate) const PARTIAL: &str = "partial";
pub(crate) const ATOMIC: &str = "atomic";
pub(crate) const REQUIRED: &str = "required";

/// The doc attribute, carried over to the partial form's fields.
pub(crate) const DOC: &str = "doc";
