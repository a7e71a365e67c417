//! Requests as the mock server saw them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

/// One request received by the [`MockServer`](super::MockServer), kept for assertions.
///
/// Every request is recorded, including those answered 400, 401, 404 or 422 (and 408 or 413,
/// without their body). The server keeps the last 1,000 and at most 32 MiB of bodies; see
/// [`MockServer::record_last`](super::MockServer::record_last).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use opper::testing::MockServer;
///
/// let server = MockServer::start().await;
/// reqwest::Client::new()
///     .post(format!("{}/v2/call", server.url()))
///     .bearer_auth("key")
///     .header("content-type", "application/json")
///     .body(r#"{"name": "greet", "input": "Ann"}"#)
///     .send()
///     .await
///     .unwrap();
/// let request = &server.requests_for("greet")[0];
/// assert_eq!(request.path, "/v2/call");
/// assert_eq!(request.bearer(), Some("key"));
/// assert_eq!(request.body.as_ref().unwrap()["input"], "Ann");
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The HTTP method, e.g. `"POST"`.
    pub method: String,
    /// The path as sent (not decoded), without the query string, e.g. `"/v2/call/stream"` or
    /// `"/v3/functions/my%2Ffn/call"`.
    pub path: String,
    /// The query string, if any (without `?`).
    pub query: Option<String>,
    /// The headers in the order received, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON, or `None` when it is not JSON.
    pub body: Option<Value>,
    /// The body as received.
    pub raw_body: Bytes,
    /// The task's name when the path carries it (`/v3/functions/{name}/...`), decoded.
    pub(crate) path_name: Option<String>,
    /// Whether the request went to the spans endpoints: its body's `name` is a span's, not a
    /// task's.
    pub(crate) not_a_task: bool,
    pub(crate) disconnected: Arc<AtomicBool>,
}

impl RecordedRequest {
    /// The first value of a header (name matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The key of an `Authorization: Bearer <key>` header.
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, key) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
    }

    /// The task's name: on `/v3/functions/{name}/call|stream` the path's, percent-decoded
    /// (`my%2Ffn` is `my/fn`), else the body's `name`. `None` for a request to the spans
    /// endpoints (`/v3/spans[/{id}]`): a span's body has a `name` too, and it names no task.
    pub fn task(&self) -> Option<&str> {
        if self.not_a_task {
            return None;
        }
        if let Some(name) = &self.path_name {
            return Some(name);
        }
        self.body.as_ref()?.get("name")?.as_str()
    }

    /// The task's input as sent: the body's `input` (the same field on v2 and v3), or `None`
    /// when the body is not JSON or has none.
    pub fn input_json(&self) -> Option<&Value> {
        self.body.as_ref()?.get("input")
    }

    /// The task's input as sent, deserialized into `T`: for an `#[opper::function]`, a struct
    /// with its parameters as fields (or the `#[input]` parameter's type). A body without an
    /// input reads as `null`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> opper::Result<()> {
    /// #[derive(serde::Deserialize)]
    /// struct Asked {
    ///     text: String,
    /// }
    ///
    /// let server = opper::testing::MockServer::start().await;
    /// server
    ///     .client()
    ///     .call("summarize")
    ///     .input(&serde_json::json!({"text": "A long text."}))
    ///     .send::<String>()
    ///     .await?;
    /// let asked: Asked = server.requests_for("summarize")[0].input().unwrap();
    /// assert_eq!(asked.text, "A long text.");
    /// # Ok(()) }
    /// ```
    pub fn input<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        T::deserialize(self.input_json().unwrap_or(&Value::Null))
    }

    /// Whether this was a request to the streaming endpoint.
    pub fn is_stream(&self) -> bool {
        self.path.ends_with("/stream")
    }

    /// Whether the client went away before the response was complete: it closed the
    /// connection (or dropped the stream) while the server was still delaying, streaming or
    /// stalling. Read live: it can turn `true` after the request was recorded.
    pub fn client_disconnected(&self) -> bool {
        self.disconnected.load(Ordering::SeqCst)
    }

    /// Waits up to `timeout` for [`client_disconnected`](Self::client_disconnected) to become
    /// `true`, and returns it.
    pub async fn wait_disconnected(&self, timeout: Duration) -> bool {
        // No deadline when it is past the clock's range (`Duration::MAX`): wait for good.
        let deadline = tokio::time::Instant::now().checked_add(timeout);
        loop {
            if self.client_disconnected() {
                return true;
            }
            if deadline.is_some_and(|deadline| tokio::time::Instant::now() >= deadline) {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// The requests the server keeps: the last `limit`, and bodies of at most `MAX_RECORDED_BYTES`
/// in all, older ones forgotten first.
#[derive(Debug)]
pub(crate) struct Recording {
    kept: VecDeque<RecordedRequest>,
    limit: usize,
    bytes: usize,
    /// Requests received since the start or the last clear, kept or not.
    pub(crate) received: usize,
}

/// How many requests the server keeps by default.
pub(crate) const DEFAULT_RECORD_LIMIT: usize = 1_000;
/// How many bytes of bodies the server keeps at most.
pub(crate) const MAX_RECORDED_BYTES: usize = 32 << 20;

impl Default for Recording {
    fn default() -> Self {
        Self {
            kept: VecDeque::new(),
            limit: DEFAULT_RECORD_LIMIT,
            bytes: 0,
            received: 0,
        }
    }
}

impl Recording {
    pub(crate) fn push(&mut self, request: RecordedRequest) {
        self.received = self.received.saturating_add(1);
        self.bytes = self.bytes.saturating_add(request.raw_body.len());
        self.kept.push_back(request);
        self.trim();
    }

    /// Keeps the last `limit` requests from now on (0: none).
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
        self.trim();
    }

    pub(crate) fn clear(&mut self) {
        self.kept.clear();
        self.bytes = 0;
        self.received = 0;
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &RecordedRequest> {
        self.kept.iter()
    }

    fn trim(&mut self) {
        while self.kept.len() > self.limit || self.bytes > MAX_RECORDED_BYTES {
            match self.kept.pop_front() {
                Some(old) => self.bytes = self.bytes.saturating_sub(old.raw_body.len()),
                None => break,
            }
        }
    }
}
