//! [`Kind`]: which scalar grammar a leaf's text follows, named in errors. A leaf below
//! [`scalar`](super::scalar), which parses by it, and [`Cx`](super::Cx), which remembers it.

/// What kind of scalar a leaf holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An integer; `signed` allows a leading `-`.
    Int { signed: bool },
    /// Any JSON number.
    Float,
    /// `true` or `false`.
    Bool,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Int { signed: true } => "an integer",
            Kind::Int { signed: false } => "a non-negative integer",
            Kind::Float => "a number",
            Kind::Bool => "a boolean",
        }
    }
}
