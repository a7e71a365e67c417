//! [`Rejection`]: an output a task rejected, and why, kept within bounds.

use serde_json::Value;

use super::text::{bounded_json, cut};

/// One output that a task rejected: it did not fit the output type, or its validator said why
/// it is wrong. Kept, in order, by [`Error::Rejected`](crate::Error::Rejected).
///
/// What it keeps is bounded, however large the rejected output: an output whose compact JSON
/// is longer than [`MAX_OUTPUT_BYTES`](Self::MAX_OUTPUT_BYTES) is kept as a JSON string holding
/// the start of that JSON ([`cut`](Self::cut) says so), and a reason is cut at
/// [`MAX_REASON_BYTES`](Self::MAX_REASON_BYTES).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Rejection {
    /// The rejected output as JSON (a JSON string in text mode). When [`cut`](Self::cut): a
    /// JSON string holding the first [`MAX_OUTPUT_BYTES`](Self::MAX_OUTPUT_BYTES) (or a few
    /// less, at a character boundary) of the output's compact JSON.
    pub output: Value,
    /// Why it was rejected: the validator's message, or where and why it did not fit the type;
    /// at most [`MAX_REASON_BYTES`](Self::MAX_REASON_BYTES).
    pub reason: String,
    /// Whether the output was longer than [`MAX_OUTPUT_BYTES`](Self::MAX_OUTPUT_BYTES) and
    /// [`output`](Self::output) holds only the start of its JSON.
    pub cut: bool,
}

impl Rejection {
    /// How much of a rejected output is kept: 64 KiB of its compact JSON.
    pub const MAX_OUTPUT_BYTES: usize = 64 * 1024;
    /// How much of a reason is kept: 4 KiB.
    pub const MAX_REASON_BYTES: usize = 4 * 1024;

    /// A rejected output and the reason, each kept within its bound. The output is serialized
    /// into a bounded buffer, so a large one is never copied whole.
    pub fn new(output: Value, reason: impl Into<String>) -> Self {
        let mut reason = reason.into();
        reason = cut(reason, Self::MAX_REASON_BYTES);
        match bounded_json(&output, Self::MAX_OUTPUT_BYTES) {
            Ok(_) => Self {
                output,
                reason,
                cut: false,
            },
            Err(start) => Self {
                output: Value::String(start),
                reason,
                cut: true,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_rejection_keeps_bounded_copies() {
        let big = json!({ "text": "x".repeat(Rejection::MAX_OUTPUT_BYTES) });
        let rejection = Rejection::new(big, "r".repeat(2 * Rejection::MAX_REASON_BYTES));
        assert!(rejection.cut);
        let kept = rejection.output.as_str().map(str::len);
        assert_eq!(kept, Some(Rejection::MAX_OUTPUT_BYTES));
        assert_eq!(rejection.reason.len(), Rejection::MAX_REASON_BYTES);
        let small = Rejection::new(json!({"a": 1}), "why");
        assert_eq!((small.output, small.cut), (json!({"a": 1}), false));
    }
}
