//! Where a piece of a text, borrowed from it by a reader (a `&RawValue`, a `&str`), is in it.

use std::ops::Range;

/// Where `part`, a slice of `whole`, is in it; `None` when it is not a slice of it.
pub(crate) fn span_in(whole: &[u8], part: &[u8]) -> Option<Range<usize>> {
    let start = part.as_ptr().addr().checked_sub(whole.as_ptr().addr())?;
    let end = start.checked_add(part.len())?;
    whole.get(start..end).map(|_| start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_is_found_and_another_text_is_not() {
        let whole = br#"{"data": [1, 2]}"#;
        assert_eq!(span_in(whole, whole.get(9..15).unwrap()), Some(9..15));
        assert_eq!(span_in(whole, whole), Some(0..whole.len()));
        let other = whole.to_vec();
        assert_eq!(span_in(whole, other.get(9..15).unwrap()), None);
    }
}
