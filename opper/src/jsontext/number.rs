//! JSON's number grammar, read a byte at a time.

/// Where a text is in JSON's number grammar, `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`,
/// read a byte at a time (by `partial`'s scalars, and by the v3 text reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Num {
    /// Nothing read yet.
    Start,
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    E,
    ExpSign,
    Exp,
}

impl Num {
    /// The state after `b`; `None` when `b` cannot come next.
    pub(crate) fn next(self, b: u8) -> Option<Self> {
        Some(match (self, b) {
            (Self::Start, b'-') => Self::Minus,
            (Self::Start | Self::Minus, b'0') => Self::Zero,
            (Self::Start | Self::Minus | Self::Int, b'1'..=b'9') | (Self::Int, b'0') => Self::Int,
            (Self::Zero | Self::Int, b'.') => Self::Dot,
            (Self::Dot | Self::Frac, b'0'..=b'9') => Self::Frac,
            (Self::Zero | Self::Int | Self::Frac, b'e' | b'E') => Self::E,
            (Self::E, b'+' | b'-') => Self::ExpSign,
            (Self::E | Self::ExpSign | Self::Exp, b'0'..=b'9') => Self::Exp,
            _ => return None,
        })
    }

    /// Whether the number may end here.
    pub(crate) fn whole(self) -> bool {
        matches!(self, Self::Zero | Self::Int | Self::Frac | Self::Exp)
    }
}
