//! The HTTP transport: a request to one endpoint, its status judged and its body read within
//! the client's limits and clocks, retried as the retry policy says.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{self, HeaderValue};
use tracing::Instrument;

use crate::client::retry::RetryPolicy;
use crate::client::retry::parse_retry_after;
use crate::error::ApiError;
use crate::error::Error;
use crate::error::Result;
use crate::error::TransportError;
use crate::protocol::Api;
use crate::stream::chunks::ChunkStream;
use crate::stream::timeouts::{Timeouts, deadline_after};

/// What a request needs: the HTTP client, the endpoints' URLs, the key, the retry policy, and
/// the limits and clocks of an answer.
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    /// The base URL without the version's prefix: an endpoint's path is appended to it.
    pub(crate) root: String,
    /// The API version the requests speak.
    pub(crate) api: Api,
    /// `None` only for a replay-only client built without a key: it never sends a request.
    pub(crate) authorization: Option<HeaderValue>,
    pub(crate) retry: RetryPolicy,
    pub(crate) request_timeout: Duration,
    pub(crate) stream_idle_timeout: Duration,
    pub(crate) max_event_bytes: usize,
    pub(crate) max_response_bytes: usize,
}

impl Transport {
    /// The URL of an endpoint's `path` (from `Wire::path`).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.root)
    }

    /// Sends a call to `path`, with retries: the body of the success.
    pub(crate) async fn call(
        &self,
        span: &tracing::Span,
        path: &str,
        body: Bytes,
    ) -> Result<Bytes> {
        let url = self.url(path);
        self.retry
            .run(span, || self.call_once(&url, body.clone()))
            .instrument(span.clone())
            .await
    }

    /// Opens a stream, retried until its first event arrives (until then, nothing reached the
    /// caller).
    pub(crate) async fn stream(
        &self,
        span: &tracing::Span,
        path: &str,
        body: Bytes,
    ) -> Result<ChunkStream> {
        let url = self.url(path);
        self.retry
            .run(span, || self.stream_once(&url, body.clone(), span.clone()))
            .instrument(span.clone())
            .await
    }

    /// Opens a stream at `path` with `headers` besides the usual ones, retried until its
    /// status is a success: the response, its body not yet read, and when its request started
    /// (for the stream's clocks). An error status's body is read as v3's (the agent's
    /// endpoint is v3's whatever the client's version).
    pub(crate) async fn open(
        &self,
        span: &tracing::Span,
        path: &str,
        body: Bytes,
        headers: &[(&'static str, HeaderValue)],
    ) -> Result<(reqwest::Response, tokio::time::Instant)> {
        let url = self.url(path);
        let once = || async {
            let mut request = self.post(&url, "text/event-stream", body.clone());
            for (name, value) in headers {
                request = request.header(*name, value.clone());
            }
            let started = tokio::time::Instant::now();
            let (response, _) = self.send_checked(request, started, Api::V3).await?;
            Ok((response, started))
        };
        self.retry.run(span, once).instrument(span.clone()).await
    }

    fn post(&self, url: &str, accept: &'static str, body: Bytes) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, url, accept, body)
    }

    /// A request with the key, the JSON content type and `accept`.
    fn request(
        &self,
        method: reqwest::Method,
        url: &str,
        accept: &'static str,
        body: Bytes,
    ) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method, url);
        if let Some(authorization) = &self.authorization {
            request = request.header(header::AUTHORIZATION, authorization.clone());
        }
        request
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, accept)
            .body(body)
    }

    /// One call attempt: the body of a success, at most `max_response_bytes` of it.
    async fn call_once(&self, url: &str, body: Bytes) -> Result<Bytes> {
        let request = self.post(url, "application/json", body);
        let (status, bytes) = self.send_once(request, self.api).await?;
        if let Some(error) = self.api.wire().not_an_answer(status, &bytes) {
            return Err(error);
        }
        Ok(bytes)
    }

    /// Sends `method` with a JSON `body` to `path` once, without retries, within the request
    /// timeout: the status and body of a success (an error status's body read as `api`'s).
    pub(crate) async fn send_json_once(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Bytes,
        api: Api,
    ) -> Result<(u16, Bytes)> {
        let request = self.request(method, &self.url(path), "application/json", body);
        self.send_once(request, api).await
    }

    /// Sends `request` once: the status and body of a success, at most `max_response_bytes`
    /// of it, all within the request timeout.
    async fn send_once(&self, request: reqwest::RequestBuilder, api: Api) -> Result<(u16, Bytes)> {
        let started = tokio::time::Instant::now();
        let (response, deadline) = self.send_checked(request, started, api).await?;
        let status = response.status().as_u16();
        let bytes = self.read_body(response, deadline).await?;
        Ok((status, Bytes::from(bytes)))
    }

    /// A success's whole body, at most `max_response_bytes` of it, before `deadline`.
    async fn read_body(
        &self,
        mut response: reqwest::Response,
        deadline: tokio::time::Instant,
    ) -> Result<Vec<u8>> {
        let limit = self.max_response_bytes;
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(Error::ResponseTooLarge { limit });
        }
        let mut bytes = Vec::new();
        let timeout = self.request_timeout;
        let cut = tokio::time::timeout_at(deadline, read(&mut response, limit, &mut bytes))
            .await
            .map_err(|_| request_timeout(timeout, "the response body was not complete"))?
            .map_err(Error::from_reqwest)?;
        if cut {
            return Err(Error::ResponseTooLarge { limit });
        }
        Ok(bytes)
    }

    async fn stream_once(
        &self,
        url: &str,
        body: Bytes,
        span: tracing::Span,
    ) -> Result<ChunkStream> {
        let request = self.post(url, "text/event-stream", body);
        let started = tokio::time::Instant::now();
        let (response, deadline) = self.send_checked(request, started, self.api).await?;
        // A success that is not a stream (v3's 202: the work is not done) is the error it
        // stands for, as on a call.
        let status = response.status().as_u16();
        if self.api.wire().answers_later(status) {
            let bytes = self.read_body(response, deadline).await?;
            return Err(self
                .api
                .wire()
                .not_an_answer(status, &bytes)
                .unwrap_or_else(|| Error::Transport(TransportError::closed("no stream"))));
        }
        let timeouts = Timeouts::new(started, self.request_timeout, self.stream_idle_timeout);
        let (event_limit, limit) = (self.max_event_bytes, self.max_response_bytes);
        let mut stream = ChunkStream::new(self.api, response, event_limit, limit, timeouts, span);
        // Wait for the first event inside the retry loop: until then, nothing reached the caller.
        // The stream's own clocks bound the wait.
        stream.prefetch().await?;
        Ok(stream)
    }

    /// Sends `request` and waits for its status, within the request timeout from `started`:
    /// the response of a success (its body not read yet) and the deadline its body is read by;
    /// else the error the status stands for (see [`check_status`](Self::check_status)).
    async fn send_checked(
        &self,
        request: reqwest::RequestBuilder,
        started: tokio::time::Instant,
        api: Api,
    ) -> Result<(reqwest::Response, tokio::time::Instant)> {
        let timeout = self.request_timeout;
        let deadline = deadline_after(started, timeout);
        let response = tokio::time::timeout_at(deadline, request.send())
            .await
            .map_err(|_| request_timeout(timeout, "no response"))?
            .map_err(Error::from_reqwest)?;
        let response = self.check_status(response, deadline, api).await?;
        Ok((response, deadline))
    }

    /// The response if its status is a success; else the error it stands for (its body read
    /// as `api`'s), with at most
    /// [`ApiError::MAX_BODY_BYTES`](crate::ApiError::MAX_BODY_BYTES) of its body read (the connection is dropped after).
    async fn check_status(
        &self,
        mut response: reqwest::Response,
        deadline: tokio::time::Instant,
        api: Api,
    ) -> Result<reqwest::Response> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status.is_redirection() {
            let location = response
                .headers()
                .get(header::LOCATION)
                .map(|value| String::from_utf8_lossy(value.as_bytes()))
                .map(|location| crate::error::truncate(&location, 2000).to_owned());
            return Err(Error::Redirect {
                status: status.as_u16(),
                location,
            });
        }
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_retry_after);
        let limit = ApiError::MAX_BODY_BYTES.min(self.max_response_bytes);
        // A body that breaks off (or stalls past the request timeout) is kept as far as it
        // arrived.
        let mut body = Vec::new();
        let read = tokio::time::timeout_at(deadline, read(&mut response, limit, &mut body));
        let truncated = matches!(read.await, Ok(Ok(true)));
        let body = String::from_utf8_lossy(&body).into_owned();
        Err(Error::from_api(api.wire().api_error(
            status.as_u16(),
            body,
            truncated,
            retry_after,
        )))
    }
}

/// The request timeout passed: `what` had not happened.
fn request_timeout(timeout: Duration, what: &str) -> Error {
    Error::Timeout(TransportError::timeout(format!(
        "{what} before the request timeout ({timeout:?})"
    )))
}

/// Appends `response`'s body to `into`, chunk by chunk, until the body ends (`Ok(false)`) or
/// `into` holds `limit` bytes and more was coming (`Ok(true)`: the rest is never read, and
/// dropping the response drops the connection). Never holds more than `limit` bytes; what
/// arrived stays in `into` when reading fails or is abandoned (a timeout dropping the future).
async fn read(
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
