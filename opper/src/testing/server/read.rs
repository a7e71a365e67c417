//! The first step: read a request's body within the server's limits, and record the request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::CONTENT_LENGTH;
use hyper::http::request::Parts;
use serde_json::{Value, json};

use super::respond::{Stop, closing, error_response};
use super::route::{Endpoint, Route};
use super::state::{Shared, lock};
use crate::testing::record::RecordedRequest;

/// A request as read: its body, and what the later steps ask of its headers.
#[derive(Debug)]
pub(crate) struct Read {
    /// The body as sent.
    pub(crate) raw_body: Bytes,
    /// The body, when JSON.
    pub(crate) body: Option<Value>,
    /// The bearer token of its `Authorization` header.
    pub(crate) authorization: Option<String>,
    /// Whether it has an `Authorization` header at all.
    pub(crate) has_authorization: bool,
    /// Set when the client hangs up before the answer is complete.
    pub(crate) disconnected: Arc<AtomicBool>,
}

/// Reads and records a request; a body too long or too slow is answered here (a `413` or
/// `408` that closes the connection), one cut off closes the connection.
pub(crate) async fn read(
    shared: &Shared,
    parts: &Parts,
    incoming: Incoming,
    route: &Route,
) -> Result<Read, Stop> {
    let limit = shared.max_body_bytes.load(Ordering::Relaxed);
    let timeout = *lock(&shared.body_timeout);
    let raw_body = match read_body(parts, incoming, limit, timeout).await {
        Ok(raw_body) => raw_body,
        // A body that cannot be read means the client went away; nothing to answer.
        Err(BodyError::Gone) => return Err(Stop::Drop),
        Err(error) => {
            let record = record_of(parts, route, None, Bytes::new(), Arc::default());
            lock(&shared.requests).push(record);
            let response = match error {
                BodyError::TooLarge => error_response(
                    route.wire,
                    413,
                    "PayloadTooLargeError",
                    "Request body too large",
                    json!(format!("The body is longer than {limit} bytes")),
                ),
                _ => error_response(
                    route.wire,
                    408,
                    "RequestTimeoutError",
                    "Request timeout",
                    json!(format!(
                        "The body did not arrive within {} ms",
                        timeout.as_millis()
                    )),
                ),
            };
            return Err(closing(response).into());
        }
    };
    let body: Option<Value> = serde_json::from_slice(&raw_body).ok();
    let disconnected = Arc::new(AtomicBool::new(false));
    let record = record_of(
        parts,
        route,
        body.clone(),
        raw_body.clone(),
        disconnected.clone(),
    );
    let authorization = record.bearer().map(str::to_owned);
    let has_authorization = record.header("authorization").is_some();
    lock(&shared.requests).push(record);
    Ok(Read {
        raw_body,
        body,
        authorization,
        has_authorization,
        disconnected,
    })
}

/// Why a request body was not read.
enum BodyError {
    /// The client went away or broke the framing.
    Gone,
    /// Longer than the limit (by its `Content-Length` or as it arrived).
    TooLarge,
    /// Not all there within the body timeout.
    TimedOut,
}

/// Reads a request body of at most `limit` bytes within `timeout`, never more of it than that.
async fn read_body(
    parts: &Parts,
    mut incoming: Incoming,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, BodyError> {
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let capacity = declared.map_or(0, |len| usize::try_from(len).unwrap_or(0));
    let read = async move {
        let mut body = Vec::with_capacity(capacity);
        while let Some(frame) = incoming.frame().await {
            let frame = frame.map_err(|_| BodyError::Gone)?;
            if let Ok(data) = frame.into_data() {
                if body.len().saturating_add(data.len()) > limit {
                    return Err(BodyError::TooLarge);
                }
                body.extend_from_slice(&data);
            }
        }
        Ok(Bytes::from(body))
    };
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or(Err(BodyError::TimedOut))
}

/// The request as recorded: headers lowercased in arrival order, the body parsed when JSON.
fn record_of(
    parts: &Parts,
    route: &Route,
    body: Option<Value>,
    raw_body: Bytes,
    disconnected: Arc<AtomicBool>,
) -> RecordedRequest {
    RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        raw_body,
        path_name: route.name.clone(),
        not_a_task: route.endpoint == Some(Endpoint::Spans),
        disconnected,
    }
}
