//! Reading a response body without going past a limit.

/// Appends `response`'s body to `into`, chunk by chunk, until the body ends (`Ok(false)`) or
/// `into` holds `limit` bytes and more was coming (`Ok(true)`: the rest is never read, and
/// dropping the response drops the connection). Never holds more than `limit` bytes; what
/// arrived stays in `into` when reading fails or is abandoned (a timeout dropping the future).
pub(crate) async fn read(
    response: &mut reqwest::Response,
    limit: usize,
    into: &mut Vec<u8>,
) -> Result<bool, reqwest::Error> {
    let expected = response
        .content_length()
        .map_or(0, |length| usize::try_from(length).unwrap_or(usize::MAX));
    into.reserve(expected.min(limit).min(1 << 20));
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(into.len());
        match chunk.split_at_checked(room) {
            Some((head, rest)) if !rest.is_empty() => {
                into.extend_from_slice(head);
                return Ok(true);
            }
            _ => into.extend_from_slice(&chunk),
        }
    }
    Ok(false)
}
