//! [`Opper`], the client, and its [`OpperBuilder`]: configuration, HTTP, and the two endpoints.

// The parts of the client, leaves first: bounded body reads, retries; the default client, which
// is built from the handle defined here.
pub(crate) mod body;
pub(crate) mod retry;
pub(crate) mod default;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;
use tracing::Instrument;

use crate::cache::{Answer, CallAnswer, Lookup, Store, StreamAnswer};
use crate::client::retry::parse_retry_after;
use crate::error::TransportError;
use crate::protocol;
use crate::reask::{Policy, Reasker, Step};
use crate::stream::sse::DEFAULT_MAX_EVENT_BYTES;
use crate::stream::timeouts::{NO_LIMIT, Timeouts, deadline_after};
use crate::trace::parent;
use crate::trace::{self, Kind};
use crate::{ApiError, Cache, ChunkStream, Error, Response, Result, RetryPolicy, Task};

const DEFAULT_BASE_URL: &str = "https://api.opper.ai";
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(120);
const DEFAULT_STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// A client of the Opper API. Cheap to clone: clones share one connection pool.
///
/// ```no_run
/// # fn run() -> opper::Result<()> {
/// use std::time::Duration;
///
/// let from_env = opper::Opper::from_env()?;
/// let explicit = opper::Opper::builder()
///     .api_key("op-...")
///     .request_timeout(Duration::from_secs(60))
///     .retry(opper::RetryPolicy::default().max_retries(4))
///     .header("x-team", "search")
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Opper {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    call_url: String,
    stream_url: String,
    /// `None` only for a replay-only client built without a key: it never sends a request.
    authorization: Option<HeaderValue>,
    cache: Option<Cache>,
    retry: RetryPolicy,
    request_timeout: Duration,
    stream_idle_timeout: Duration,
    max_event_bytes: usize,
    max_response_bytes: usize,
}

impl fmt::Debug for Opper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opper")
            .field("base_url", &redact_userinfo(&self.inner.base_url))
            .field("api_key", &"<redacted>")
            .field("retry", &self.inner.retry)
            .field("request_timeout", &self.inner.request_timeout)
            .field("cache", &self.inner.cache)
            .finish_non_exhaustive()
    }
}

impl Opper {
    /// A client configured from the environment: the key from `OPPER_API_KEY`, else
    /// `OPPER_HTTP_BEARER`; the base URL from `OPPER_BASE_URL`, else `https://api.opper.ai`; a
    /// [`Cache`] from `OPPER_CACHE_DIR` and `OPPER_CACHE_MODE` (see [`OpperBuilder::from_env`]).
    pub fn from_env() -> Result<Self> {
        OpperBuilder::from_env().build()
    }

    /// A builder with nothing set; [`OpperBuilder::build`] needs at least an API key (or a
    /// replay-only [`Cache`]).
    pub fn builder() -> OpperBuilder {
        OpperBuilder::default()
    }

    /// The base URL calls go to (without `/v2/call`), as configured: a `user:password@` in it
    /// is kept here (and redacted in `Debug`).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    fn span(kind: Kind, task: &Task, attempt: u32) -> tracing::Span {
        let model = task.get_model().and_then(|model| model.name());
        trace::call_span(kind, task.name(), model, attempt)
    }

    /// Whether the client's cache is replay-only: it never sends a request.
    pub(crate) fn replays_only(&self) -> bool {
        self.inner.cache.as_ref().is_some_and(Cache::is_replay_only)
    }

    /// Looks `body` up in the client's cache, if it has one, and records `cache` on `span`.
    /// In read-write mode only a first attempt looks: a re-ask is a request the caller never
    /// made. A replay-only cache is asked every time, so a re-ask there is a miss, never a
    /// request (the re-ask policy stops before one: [`Policy::replaying`]).
    async fn lookup<A: Answer + Send + 'static>(
        &self,
        task: &Task,
        body: &Bytes,
        attempt: u32,
        span: &tracing::Span,
    ) -> Result<Option<Lookup<A>>> {
        let cache = self.inner.cache.as_ref();
        let Some(cache) = cache.filter(|cache| attempt == 1 || cache.is_replay_only()) else {
            return Ok(None);
        };
        let lookup = cache.lookup::<A>(task.name(), body.clone()).await;
        let hit = matches!(lookup, Ok(Lookup::Hit(_)));
        span.record("cache", if hit { "hit" } else { "miss" });
        lookup.map(Some)
    }

    /// `POST /v2/call`, retried as the retry policy says; the output deserialized into `T` and
    /// judged by `policy`, the task asked again while it rejects the output and re-asks remain.
    pub(crate) async fn execute<T: DeserializeOwned>(
        &self,
        task: &Task,
        input: Option<&RawValue>,
        parent: Option<&str>,
        policy: &Policy<T>,
    ) -> Result<Response<T>> {
        // A replayed answer that is rejected cannot be asked again: that would be a request.
        let replaying;
        let policy = match self.replays_only() {
            true => {
                replaying = policy.clone().replaying(task.name());
                &replaying
            }
            false => policy,
        };
        // Resolved once: every re-ask has the parent of the first attempt.
        let parent = parent::resolve(parent);
        let parent = parent.as_deref();
        let original = task.get_instructions();
        let mut reasker = Reasker::new();
        let mut reask: Option<Task> = None;
        // The first attempt's cache entry: the accepted answer is stored under the request as
        // the caller made it, so a replay of that request is served whichever attempt passed.
        let mut store = None;
        loop {
            let attempt = reasker.attempt();
            let asked = reask.as_ref().unwrap_or(task);
            let CallAttempt {
                response,
                span,
                started,
                live,
                missed,
            } = self.call_attempt(asked, input, parent, attempt).await?;
            if attempt == 1 {
                store = missed;
            }
            match reasker.judge_response(policy, original, response, &span) {
                Ok(Step::Done(response)) => {
                    if let (Some(store), Some(bytes)) = (store.take(), live) {
                        store.call(bytes).await;
                    }
                    trace::record_accepted(&span, started);
                    return Ok(response);
                }
                Ok(Step::Again(instructions)) => {
                    trace::record_rejected(&span, started);
                    reask = Some(task.clone().instructions(instructions));
                }
                Err(error) => {
                    trace::record_outcome(&span, started, Some(&error));
                    return Err(error);
                }
            }
        }
    }

    /// One attempt of a call, with its retries.
    async fn call_attempt(
        &self,
        task: &Task,
        input: Option<&RawValue>,
        parent: Option<&str>,
        attempt: u32,
    ) -> Result<CallAttempt> {
        // Shared by every retry without a copy.
        let body = Bytes::from(protocol::v2::encode(task, input, parent)?);
        let span = Self::span(Kind::Call, task, attempt);
        let started = Instant::now();
        let decoded = match self.lookup::<CallAnswer>(task, &body, attempt, &span).await {
            Err(error) => Err(error),
            Ok(Some(Lookup::Hit(CallAnswer(raw)))) => {
                protocol::v2::answer(raw.get().as_bytes()).map(|response| (response, None, None))
            }
            Ok(lookup) => {
                let missed = match lookup {
                    Some(Lookup::Miss(store)) => store,
                    _ => None,
                };
                match self.send_call(&span, body).await {
                    Ok(bytes) => {
                        protocol::v2::answer(&bytes).map(|response| (response, Some(bytes), missed))
                    }
                    Err(error) => Err(error),
                }
            }
        };
        match decoded {
            Ok((response, live, missed)) => {
                trace::record_response(&span, &response);
                Ok(CallAttempt {
                    response,
                    span,
                    started,
                    live,
                    missed,
                })
            }
            Err(error) => {
                trace::record_outcome(&span, started, Some(&error));
                Err(error)
            }
        }
    }

    /// Sends a `/v2/call`, with retries: the body of the success.
    async fn send_call(&self, span: &tracing::Span, body: Bytes) -> Result<Bytes> {
        self.inner
            .retry
            .run(span, || self.call_once(body.clone()))
            .instrument(span.clone())
            .await
    }

    /// `POST /v2/call/stream`, retried until its first event arrives. With a cache, a hit
    /// replays the stored chunks (no request), and a miss is recorded, to be stored if the
    /// stream ends cleanly.
    pub(crate) async fn open_stream(
        &self,
        task: &Task,
        input: Option<&RawValue>,
        parent: Option<&str>,
        attempt: u32,
    ) -> Result<ChunkStream> {
        // Shared by every attempt without a copy.
        let body = Bytes::from(protocol::v2::encode(
            task,
            input,
            parent::resolve(parent).as_deref(),
        )?);
        let span = Self::span(Kind::Stream, task, attempt);
        let started = Instant::now();
        let result = match self
            .lookup::<StreamAnswer>(task, &body, attempt, &span)
            .await
        {
            Err(error) => Err(error),
            Ok(Some(Lookup::Hit(StreamAnswer(chunks)))) => {
                Ok(ChunkStream::replay(chunks, span.clone()))
            }
            Ok(lookup) => {
                let mut result = self
                    .inner
                    .retry
                    .run(&span, || self.stream_once(body.clone(), span.clone()))
                    .instrument(span.clone())
                    .await;
                if let (Ok(stream), Some(Lookup::Miss(Some(store)))) = (&mut result, lookup) {
                    stream.record_into(store);
                }
                result
            }
        };
        if let Err(error) = &result {
            trace::record_outcome(&span, started, Some(error));
        }
        result
    }

    fn post(&self, url: &str, accept: &'static str, body: Bytes) -> reqwest::RequestBuilder {
        let mut request = self.inner.http.post(url);
        if let Some(authorization) = &self.inner.authorization {
            request = request.header(header::AUTHORIZATION, authorization.clone());
        }
        request
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, accept)
            .body(body)
    }

    /// One `/v2/call` attempt: the body of a success, at most `max_response_bytes` of it.
    async fn call_once(&self, body: Bytes) -> Result<Bytes> {
        let request = self.post(&self.inner.call_url, "application/json", body);
        let timeout = self.inner.request_timeout;
        let deadline = deadline_after(tokio::time::Instant::now(), timeout);
        let response = tokio::time::timeout_at(deadline, request.send())
            .await
            .map_err(|_| request_timeout(timeout, "no response"))?
            .map_err(Error::from_reqwest)?;
        let mut response = self.check_status(response, deadline).await?;
        let limit = self.inner.max_response_bytes;
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(Error::ResponseTooLarge { limit });
        }
        let mut bytes = Vec::new();
        let cut = tokio::time::timeout_at(deadline, body::read(&mut response, limit, &mut bytes))
            .await
            .map_err(|_| request_timeout(timeout, "the response body was not complete"))?
            .map_err(Error::from_reqwest)?;
        if cut {
            return Err(Error::ResponseTooLarge { limit });
        }
        Ok(Bytes::from(bytes))
    }

    async fn stream_once(&self, body: Bytes, span: tracing::Span) -> Result<ChunkStream> {
        let request = self.post(&self.inner.stream_url, "text/event-stream", body);
        let started = tokio::time::Instant::now();
        let timeout = self.inner.request_timeout;
        let deadline = deadline_after(started, timeout);
        let response = tokio::time::timeout_at(deadline, request.send())
            .await
            .map_err(|_| request_timeout(timeout, "no response"))?
            .map_err(Error::from_reqwest)?;
        let response = self.check_status(response, deadline).await?;
        let timeouts = Timeouts::new(started, timeout, self.inner.stream_idle_timeout);
        let inner = &self.inner;
        let (event_limit, limit) = (inner.max_event_bytes, inner.max_response_bytes);
        let mut stream = ChunkStream::new(response, event_limit, limit, timeouts, span);
        // Wait for the first event inside the retry loop: until then, nothing reached the caller.
        // The stream's own clocks bound the wait.
        stream.prefetch().await?;
        Ok(stream)
    }

    /// The response if its status is a success; else the error it stands for, with at most
    /// [`ApiError::MAX_BODY_BYTES`] of its body read (the connection is dropped after).
    async fn check_status(
        &self,
        mut response: reqwest::Response,
        deadline: tokio::time::Instant,
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
        let limit = ApiError::MAX_BODY_BYTES.min(self.inner.max_response_bytes);
        // A body that breaks off (or stalls past the request timeout) is kept as far as it
        // arrived.
        let mut body = Vec::new();
        let read = tokio::time::timeout_at(deadline, body::read(&mut response, limit, &mut body));
        let truncated = matches!(read.await, Ok(Ok(true)));
        let body = String::from_utf8_lossy(&body).into_owned();
        Err(Error::from_api(protocol::v2::api_error(
            status.as_u16(),
            body,
            truncated,
            retry_after,
        )))
    }
}

/// One attempt of a call: the answer with its output as JSON, its span (the outcome left to the
/// caller, who judges the output) and when it started; the body as it came when it was sent (not
/// served from the cache), and the cache entry it missed, for the accepted answer.
struct CallAttempt {
    response: Response<Value>,
    span: tracing::Span,
    started: Instant,
    live: Option<Bytes>,
    missed: Option<Store<CallAnswer>>,
}

/// The request timeout passed: `what` had not happened.
fn request_timeout(timeout: Duration, what: &str) -> Error {
    Error::Timeout(TransportError::timeout(format!(
        "{what} before the request timeout ({timeout:?})"
    )))
}

/// Builds an [`Opper`] client.
///
/// Nothing is read from the environment unless you start from [`OpperBuilder::from_env`].
#[derive(Clone, Default)]
#[must_use]
pub struct OpperBuilder {
    api_key: Option<String>,
    base_url: Option<String>,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    stream_idle_timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    headers: Vec<(String, String)>,
    user_agent: Option<String>,
    allow_insecure_http: bool,
    max_event_bytes: Option<usize>,
    max_response_bytes: Option<usize>,
    cache: Option<Cache>,
    /// A bad `OPPER_CACHE_*` variable, reported by `build`.
    cache_env_error: Option<String>,
}

impl fmt::Debug for OpperBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpperBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url.as_deref().map(redact_userinfo))
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .field("cache", &self.cache)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl OpperBuilder {
    /// A builder holding what the environment sets: `OPPER_API_KEY` (else
    /// `OPPER_HTTP_BEARER`), `OPPER_BASE_URL`, and a [`Cache`]: `OPPER_CACHE_DIR` turns it on
    /// (read-write), `OPPER_CACHE_MODE=replay` makes it replay-only (then no API key is needed),
    /// `OPPER_CACHE_MODE=off` ignores the directory. Empty variables count as unset; another
    /// mode, or `replay` without a directory, makes [`build`](Self::build) fail.
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.trim().is_empty())
        };
        let (cache, cache_env_error) = match Cache::from_env_values(
            var("OPPER_CACHE_DIR").as_deref(),
            var("OPPER_CACHE_MODE").as_deref(),
        ) {
            Ok(cache) => (cache, None),
            Err(error) => (None, Some(error.to_string())),
        };
        Self {
            api_key: var("OPPER_API_KEY").or_else(|| var("OPPER_HTTP_BEARER")),
            base_url: var("OPPER_BASE_URL"),
            cache,
            cache_env_error,
            ..Self::default()
        }
    }

    /// Answers calls from a [`Cache`] of earlier answers, and stores new ones in it unless it
    /// is replay-only. Replaces what the environment set.
    ///
    /// ```
    /// # fn run() -> opper::Result<()> {
    /// let opper = opper::Opper::builder()
    ///     .api_key("op-...")
    ///     .cache(opper::Cache::dir("target/opper-cache")) // hits served from disk, misses stored
    ///     .build()?;
    /// let replay = opper::Opper::builder()
    ///     .cache(opper::Cache::dir("tests/cassettes").replay_only()) // a miss is an error; no key
    ///     .build()?;
    /// # Ok(()) }
    /// # run().unwrap();
    /// ```
    pub fn cache(mut self, cache: Cache) -> Self {
        self.cache = Some(cache);
        self.cache_env_error = None;
        self
    }

    /// The API key, sent as `Authorization: Bearer <key>`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The base URL (default `https://api.opper.ai`); `/v2/call` is added to it, and a base that
    /// already ends in `/v2` is accepted as it is. A base with a query or a fragment (`?`, `#`) is
    /// refused by [`build`](Self::build).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// How long to wait for a connection (default 10 s).
    ///
    /// Every timeout of the builder takes any `Duration`: one of about 30 years or more
    /// (`Duration::MAX` among them) means no limit.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long one attempt of a call may take as a whole, from the request until the end of
    /// the response body, or of the stream (default 300 s; raise it for long streams). Past
    /// it, a call fails with [`Error::Timeout`] and a stream ends with
    /// [`Error::Incomplete`] (its [`is_timeout`](Error::is_timeout) is true), keeping what had
    /// arrived; the message says which timeout fired. Not retried: the service may still be
    /// working.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// How long a response may go without sending a byte, for calls and streams (default 120 s).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// How long a stream may go without a data event (default 120 s), counted from the response
    /// and then from each event that carries a chunk. Comments and empty events (keep-alives)
    /// do not count, so a server that sends only those still times out. The stream then ends
    /// as for the [request timeout](Self::request_timeout).
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.stream_idle_timeout = Some(timeout);
        self
    }

    /// The retry policy (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// A header sent with every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The `User-Agent` (default `opper-rust/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Allows sending the API key over plain `http://` to a host other than loopback. Off by
    /// default: only `https://` and `http://` on 127.0.0.0/8, `::1` or `localhost` are accepted.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The largest stream event accepted, in bytes (default 16 MiB).
    pub fn max_event_bytes(mut self, limit: usize) -> Self {
        self.max_event_bytes = Some(limit);
        self
    }

    /// The largest `/v2/call` response body accepted, in bytes (default 64 MiB). The body is
    /// read as it arrives and never kept past the limit: a longer one (or a `Content-Length`
    /// over it) fails with [`Error::ResponseTooLarge`], not retried. A stream is bounded the
    /// same way, over all the body bytes it receives, and its recording for a cache holds no
    /// more than the limit (a stream too large to record is not stored). Error bodies are read only
    /// up to [`ApiError::MAX_BODY_BYTES`] (8 KiB), or this limit if it is lower.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// Builds the client. It needs an API key, unless its cache is replay-only (it never
    /// sends a request then).
    pub fn build(self) -> Result<Opper> {
        if let Some(error) = self.cache_env_error {
            return Err(Error::Config(error));
        }
        let replay_only = self.cache.as_ref().is_some_and(Cache::is_replay_only);
        let authorization = match self.api_key.filter(|key| !key.trim().is_empty()) {
            Some(key) => {
                let mut authorization = HeaderValue::try_from(format!("Bearer {}", key.trim()))
                    .map_err(|_| {
                        Error::Config(
                            "the API key contains characters not allowed in a header".into(),
                        )
                    })?;
                authorization.set_sensitive(true);
                Some(authorization)
            }
            None if replay_only => None,
            None => return Err(Error::MissingApiKey),
        };

        let base = self.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base = base.trim().trim_end_matches('/').to_owned();
        let url = reqwest::Url::parse(&base).map_err(|e| {
            let base = redact_userinfo(&base);
            Error::Config(format!("invalid base URL {base:?}: {e}"))
        })?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_insecure_http || is_loopback(&url) => {}
            "http" => {
                return Err(Error::Config(format!(
                    "refusing to send the API key over plain http to {}; use https, or allow_insecure_http(true)",
                    url.host_str().unwrap_or("")
                )));
            }
            scheme => return Err(Error::Config(format!("unsupported URL scheme {scheme:?}"))),
        }
        // The endpoints' paths are appended to the base: a query or a fragment would end up
        // before them (`/?a=1/v2/call`).
        if url.query().is_some() || url.fragment().is_some() {
            let base = redact_userinfo(&base);
            return Err(Error::Config(format!(
                "the base URL {base:?} has a query or a fragment; give the scheme, host and path only"
            )));
        }
        let root = base
            .strip_suffix(protocol::v2::PREFIX)
            .unwrap_or(&base)
            .to_owned();

        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| Error::Config(format!("invalid header name {name:?}")))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|_| Error::Config(format!("invalid value for header {name}")))?;
            headers.append(name, value);
        }
        let user_agent = self
            .user_agent
            .unwrap_or_else(|| concat!("opper-rust/", env!("CARGO_PKG_VERSION")).to_owned());
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .default_headers(headers)
            // reqwest adds these to an `Instant` unchecked: a larger one (`Duration::MAX`)
            // is cut to about 30 years, no limit in practice.
            .connect_timeout(
                self.connect_timeout
                    .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
                    .min(NO_LIMIT),
            )
            .read_timeout(
                self.read_timeout
                    .unwrap_or(DEFAULT_READ_TIMEOUT)
                    .min(NO_LIMIT),
            )
            // The API never redirects; a redirect is an error, and nothing goes to its target.
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Config(format!("the HTTP client could not be built: {e}")))?;
        Ok(Opper {
            inner: Arc::new(Inner {
                http,
                call_url: format!("{root}{}", protocol::v2::CALL),
                stream_url: format!("{root}{}", protocol::v2::STREAM),
                base_url: root,
                authorization,
                cache: self.cache,
                retry: self.retry.unwrap_or_default(),
                request_timeout: self.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT),
                stream_idle_timeout: self
                    .stream_idle_timeout
                    .unwrap_or(DEFAULT_STREAM_IDLE_TIMEOUT),
                max_event_bytes: self.max_event_bytes.unwrap_or(DEFAULT_MAX_EVENT_BYTES),
                max_response_bytes: self
                    .max_response_bytes
                    .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
            }),
        })
    }
}

/// A URL with its userinfo (`user:password@`), if any, replaced by `<redacted>`, for `Debug`
/// and errors. Works on text that does not parse as a URL too.
fn redact_userinfo(url: &str) -> std::borrow::Cow<'_, str> {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    match authority.rsplit_once('@') {
        Some((_, host)) => {
            let after = rest.get(authority.len()..).unwrap_or_default();
            let scheme = scheme
                .map(|scheme| format!("{scheme}://"))
                .unwrap_or_default();
            format!("{scheme}<redacted>@{host}{after}").into()
        }
        None => url.into(),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_with_and_without_v2() {
        for base in [
            "https://example.com",
            "https://example.com/",
            "https://example.com/v2",
            "https://example.com/v2/",
        ] {
            let client = Opper::builder()
                .api_key("k")
                .base_url(base)
                .build()
                .unwrap();
            assert_eq!(client.inner.call_url, "https://example.com/v2/call");
            assert_eq!(
                client.inner.stream_url,
                "https://example.com/v2/call/stream"
            );
        }
    }

    #[test]
    fn a_base_url_with_a_query_or_fragment_is_refused() {
        for base in [
            "https://example.com/?a=1",
            "https://example.com?a=1",
            "https://example.com/v2?",
            "https://example.com/#top",
            "https://user:pass@example.com/?k=v",
        ] {
            let built = OpperBuilder {
                base_url: Some(base.into()),
                ..Opper::builder().api_key("k")
            }
            .build();
            let Err(Error::Config(message)) = built else {
                panic!("{base}: {built:?}")
            };
            assert!(message.contains("query or a fragment"), "{message}");
            assert!(!message.contains("pass"), "{message}");
        }
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        let remote = Opper::builder()
            .api_key("k")
            .base_url("http://example.com")
            .build();
        assert!(matches!(remote, Err(Error::Config(_))));
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            assert!(
                Opper::builder()
                    .api_key("k")
                    .base_url(local)
                    .build()
                    .is_ok(),
                "{local}"
            );
        }
        let opted_in = Opper::builder()
            .api_key("k")
            .base_url("http://example.com")
            .allow_insecure_http(true)
            .build();
        assert!(opted_in.is_ok());
    }

    #[test]
    fn a_missing_key_is_an_error() {
        assert!(matches!(
            Opper::builder().build(),
            Err(Error::MissingApiKey)
        ));
        assert!(matches!(
            Opper::builder().api_key("  ").build(),
            Err(Error::MissingApiKey)
        ));
    }

    #[test]
    fn userinfo_is_redacted() {
        assert_eq!(
            redact_userinfo("http://user:pass@127.0.0.1:1/v2"),
            "http://<redacted>@127.0.0.1:1/v2"
        );
        assert_eq!(
            redact_userinfo("https://a@b@host?x=@"),
            "https://<redacted>@host?x=@"
        );
        assert_eq!(redact_userinfo("https://host/p@th"), "https://host/p@th");
        assert_eq!(redact_userinfo("not a url: x@y"), "<redacted>@y");
    }

    #[test]
    fn only_a_replay_only_cache_needs_no_key() {
        let replay = Opper::builder()
            .cache(Cache::dir("cassettes").replay_only())
            .build()
            .unwrap();
        assert!(replay.inner.authorization.is_none());
        assert!(matches!(
            Opper::builder().cache(Cache::dir("cassettes")).build(),
            Err(Error::MissingApiKey)
        ));
        let builder = OpperBuilder {
            cache_env_error: Some("OPPER_CACHE_MODE is \"x\"".into()),
            ..Opper::builder().api_key("k")
        };
        assert!(matches!(builder.clone().build(), Err(Error::Config(_))));
        // An explicit cache replaces what the environment asked for.
        assert!(builder.cache(Cache::dir("c")).build().is_ok());
    }

    #[test]
    fn the_key_is_never_in_debug() {
        let builder = Opper::builder().api_key("sekrit-key-123");
        assert!(!format!("{builder:?}").contains("sekrit"));
        let client = builder.build().unwrap();
        assert!(!format!("{client:?}").contains("sekrit"));
    }
}
