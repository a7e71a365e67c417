//! [`TransportError`]: connecting, sending or reading failed, or timed out.

use super::text::after;

/// A failure of the transport: connecting, sending, reading, or a timeout. Its message says
/// what failed; the HTTP client's error, when there is one, is its [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error("{message}{}", after(*.attempts))]
pub struct TransportError {
    kind: TransportKind,
    message: String,
    /// How many times the request was sent (1 unless it was retried).
    pub(super) attempts: u32,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransportKind {
    Connect,
    ConnectTimeout,
    Timeout,
    Other,
}

impl TransportError {
    pub(crate) fn from_reqwest(error: reqwest::Error) -> Self {
        let kind = if error.is_connect() && error.is_timeout() {
            TransportKind::ConnectTimeout
        } else if error.is_timeout() {
            TransportKind::Timeout
        } else if error.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Other
        };
        // reqwest's error is the source (its Display names the URL, never headers, and the URL
        // is dropped); the message is this layer's only.
        let error = error.without_url();
        let message = match kind {
            TransportKind::ConnectTimeout => "timed out while connecting",
            TransportKind::Timeout => "timed out",
            TransportKind::Connect => "could not connect",
            TransportKind::Other => "the request failed",
        }
        .to_owned();
        Self {
            kind,
            message,
            attempts: 1,
            source: Some(Box::new(error)),
        }
    }

    pub(crate) fn timeout(message: impl Into<String>) -> Self {
        Self {
            kind: TransportKind::Timeout,
            message: format!("timed out: {}", message.into()),
            attempts: 1,
            source: None,
        }
    }

    pub(crate) fn closed(message: impl Into<String>) -> Self {
        Self {
            kind: TransportKind::Other,
            message: message.into(),
            attempts: 1,
            source: None,
        }
    }

    /// How many times the request was sent: 1 unless it was retried.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether this was a timeout (connect, request or read).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.kind,
            TransportKind::Timeout | TransportKind::ConnectTimeout
        )
    }

    /// Whether the connection could not be established.
    pub fn is_connect(&self) -> bool {
        matches!(
            self.kind,
            TransportKind::Connect | TransportKind::ConnectTimeout
        )
    }
}
