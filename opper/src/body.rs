//! Reading a response body without going past a limit.

/// A body read up to a limit.
#[derive(Debug)]
pub(crate) struct Limited {
    /// The bytes read, at most the limit.
    pub(crate) bytes: Vec<u8>,
    /// Whether the body went on past the limit (then `bytes` is its start, and the rest was
    /// never read: dropping the response drops the connection).
    pub(crate) cut: bool,
}

/// Reads `response`'s body chunk by chunk until it ends or `limit` bytes have arrived; never
/// keeps more than `limit` bytes. A body that breaks off is an error, with what had arrived.
pub(crate) async fn read(
    response: &mut reqwest::Response,
    limit: usize,
) -> Result<Limited, (reqwest::Error, Vec<u8>)> {
    let expected = response
        .content_length()
        .map_or(0, |length| usize::try_from(length).unwrap_or(usize::MAX));
    let mut bytes = Vec::with_capacity(expected.min(limit).min(1 << 20));
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - bytes.len();
                if chunk.len() > room {
                    bytes.extend_from_slice(&chunk[..room]);
                    return Ok(Limited { bytes, cut: true });
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(Limited { bytes, cut: false }),
            Err(error) => return Err((error, bytes)),
        }
    }
}
