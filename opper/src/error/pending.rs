//! [`PendingOperation`]: an operation a v3 `202 Accepted` answer says is still under way.

/// An operation the API is still working on, from a v3 `202 Accepted` answer
/// ([`Error::Pending`](crate::Error::Pending)); `GET /v3/artifacts/{id}/status` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingOperation {
    /// The operation's id.
    pub id: Option<String>,
    /// Where its status can be read.
    pub status_url: Option<String>,
    /// What it is (its `type`, such as `image`).
    pub kind: Option<String>,
}

impl PendingOperation {
    /// How many pending operations an [`Error::Pending`](crate::Error::Pending) keeps: the first 64.
    pub const MAX_KEPT: usize = 64;
    /// How much of each field is kept: 2 KiB.
    pub const MAX_FIELD_BYTES: usize = 2 * 1024;
}
