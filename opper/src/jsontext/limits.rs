//! The bounds on what one stream may build (see the [module docs](crate::partial#limits)):
//! below every module that checks them (`partial`, and the v3 text reader in `protocol`).
//! Public as `opper::partial::{MAX_DEPTH, FREE_ITEMS, MAX_PATH_BYTES}`.

/// The deepest a chunk may reach into the output: the segments of its `json_path` (without
/// the optional `response` prefix) plus the nesting of its delta. Also the deepest the output
/// schema is followed when the value is completed at the end. See the [module docs](crate::partial#limits).
pub const MAX_DEPTH: usize = 128;

/// The array items a stream may create before each must be paid for by a byte of `json_path`
/// received. See the [module docs](crate::partial#limits).
pub const FREE_ITEMS: usize = 4096;

/// The longest `json_path` accepted, in bytes. Together with [`MAX_DEPTH`] it bounds what one
/// chunk can cost, [`Update::completed`](crate::Update::completed) included (one path per level
/// the chunk completes). See the [module docs](crate::partial#limits).
pub const MAX_PATH_BYTES: usize = 4096;
