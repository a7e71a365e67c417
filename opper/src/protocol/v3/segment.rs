//! A name (a task's, a span's) as one segment of a URL's path.

/// Whether `segment` is one a URL's path reads as a dot segment (`.` or `..`, which the
/// percent-encoding keeps as they are): as a path segment it would move the request elsewhere
/// (`..` after `/v3/functions/` sends it to `/v3/call`).
pub(crate) fn is_dot(segment: &str) -> bool {
    matches!(segment, "." | "..")
}

/// Appends `segment` to `path` percent-encoded as one path segment (as Python's
/// `quote(segment, safe="")`: letters, digits and `-._~` are kept).
pub(crate) fn push(path: &mut String, segment: &str) {
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            path.push(char::from(byte));
        } else {
            path.push('%');
            for nibble in [byte >> 4, byte & 0x0F] {
                let digit = char::from_digit(u32::from(nibble), 16).unwrap_or('0');
                path.push(digit.to_ascii_uppercase());
            }
        }
    }
}
