//! [`Opper`], the client, and its [`OpperBuilder`]: configuration, HTTP, and the two endpoints.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tracing::Instrument;

use crate::cache::{Answer, CallAnswer, Lookup, Store, StreamAnswer};
use crate::decode::typed_response;
use crate::error::TransportError;
use crate::parent::current_parent_span;
use crate::response::RawResponse;
use crate::retry::parse_retry_after;
use crate::sse::DEFAULT_MAX_EVENT_BYTES;
use crate::trace::{self, Kind};
use crate::{Cache, ChunkStream, Error, Response, Result, RetryPolicy, Task};

const DEFAULT_BASE_URL: &str = "https://api.opper.ai";
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(120);

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
    max_event_bytes: usize,
}

impl fmt::Debug for Opper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opper")
            .field("base_url", &self.inner.base_url)
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

    /// The base URL calls go to (without `/v2/call`).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    fn body(task: &Task, input: Option<&RawValue>, parent: Option<&str>) -> Result<Vec<u8>> {
        let scoped = match parent {
            Some(_) => None,
            None => current_parent_span(),
        };
        task.encode(input, parent.or(scoped.as_deref()))
    }

    fn span(kind: Kind, task: &Task) -> tracing::Span {
        let model = task.get_model().and_then(|model| model.name());
        trace::call_span(kind, task.name(), model)
    }

    /// Looks `body` up in the client's cache, if it has one, and records `cache` on `span`.
    fn lookup<A: Answer>(
        &self,
        task: &Task,
        body: &[u8],
        span: &tracing::Span,
    ) -> Result<Option<Lookup<A>>> {
        let Some(cache) = &self.inner.cache else {
            return Ok(None);
        };
        let lookup = cache.lookup::<A>(task.name(), body);
        let hit = matches!(lookup, Ok(Lookup::Hit(_)));
        span.record("cache", if hit { "hit" } else { "miss" });
        lookup.map(Some)
    }

    /// `POST /v2/call`, retried as the policy says; the output deserialized into `T`. With a
    /// cache, a hit is decoded as the live answer was, and no request is made.
    pub(crate) async fn execute<T: DeserializeOwned>(
        &self,
        task: &Task,
        input: Option<&RawValue>,
        parent: Option<&str>,
    ) -> Result<Response<T>> {
        // Shared by every attempt without a copy.
        let body = Bytes::from(Self::body(task, input, parent)?);
        let span = Self::span(Kind::Call, task);
        let started = Instant::now();
        let result = match self.lookup::<CallAnswer>(task, &body, &span) {
            Err(error) => Err(error),
            Ok(Some(Lookup::Hit(CallAnswer(raw)))) => {
                decode_body(raw.get().as_bytes()).and_then(typed_response)
            }
            Ok(Some(Lookup::Miss(store))) => self.send_call(&span, body, store).await,
            Ok(None) => self.send_call(&span, body, None).await,
        };
        trace::record_outcome(&span, started, result.as_ref().err());
        if let Ok(response) = &result {
            trace::record_response(&span, response);
        }
        result
    }

    /// Sends a `/v2/call` (with retries) and decodes it into `T`; only then, the answer known
    /// to be a success, is its body stored. (A caller that judges outputs, such as a validator,
    /// stores only the accepted answer at this point.)
    async fn send_call<T: DeserializeOwned>(
        &self,
        span: &tracing::Span,
        body: Bytes,
        store: Option<Store<CallAnswer>>,
    ) -> Result<Response<T>> {
        let bytes = self
            .inner
            .retry
            .run(span, || self.call_once(body.clone()))
            .instrument(span.clone())
            .await?;
        let response = decode_body(&bytes).and_then(typed_response)?;
        if let Some(store) = store {
            store.call(&bytes);
        }
        Ok(response)
    }

    /// `POST /v2/call/stream`, retried until its first event arrives. With a cache, a hit
    /// replays the stored chunks (no request), and a miss is recorded, to be stored if the
    /// stream ends cleanly.
    pub(crate) async fn open_stream(
        &self,
        task: &Task,
        input: Option<&RawValue>,
        parent: Option<&str>,
    ) -> Result<ChunkStream> {
        // Shared by every attempt without a copy.
        let body = Bytes::from(Self::body(task, input, parent)?);
        let span = Self::span(Kind::Stream, task);
        let started = Instant::now();
        let result = match self.lookup::<StreamAnswer>(task, &body, &span) {
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

    /// One `/v2/call` attempt: the body of a success.
    async fn call_once(&self, body: Bytes) -> Result<Bytes> {
        let request = self
            .post(&self.inner.call_url, "application/json", body)
            .timeout(self.inner.request_timeout);
        let response = request.send().await.map_err(Error::from_reqwest)?;
        let response = check_status(response).await?;
        response.bytes().await.map_err(Error::from_reqwest)
    }

    async fn stream_once(&self, body: Bytes, span: tracing::Span) -> Result<ChunkStream> {
        let request = self.post(&self.inner.stream_url, "text/event-stream", body);
        let response = tokio::time::timeout(self.inner.request_timeout, request.send())
            .await
            .map_err(|_| {
                Error::Timeout(TransportError::timeout(
                    "no response before the request timeout",
                ))
            })?
            .map_err(Error::from_reqwest)?;
        let response = check_status(response).await?;
        let mut stream = ChunkStream::new(response, self.inner.max_event_bytes, span);
        // Wait for the first event inside the retry loop: until then, nothing reached the caller.
        tokio::time::timeout(self.inner.request_timeout, stream.prefetch())
            .await
            .map_err(|_| {
                Error::Timeout(TransportError::timeout(
                    "no event before the request timeout",
                ))
            })??;
        Ok(stream)
    }
}

/// The body of a `/v2/call` success, live or cached.
fn decode_body(bytes: &[u8]) -> Result<RawResponse> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::InvalidResponse {
            body: String::new(),
            reason: "the response body is empty".into(),
        });
    }
    serde_json::from_slice(bytes).map_err(|e| Error::InvalidResponse {
        body: crate::error::truncate(&String::from_utf8_lossy(bytes), 2000).to_owned(),
        reason: e.to_string(),
    })
}

async fn check_status(response: reqwest::Response) -> Result<reqwest::Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_retry_after);
    // A body that breaks off is kept as far as it arrived.
    let body = match response.bytes().await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    };
    Err(Error::from_status(status.as_u16(), body, retry_after))
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
    retry: Option<RetryPolicy>,
    headers: Vec<(String, String)>,
    user_agent: Option<String>,
    allow_insecure_http: bool,
    max_event_bytes: Option<usize>,
    cache: Option<Cache>,
    /// A bad `OPPER_CACHE_*` variable, reported by `build`.
    cache_env_error: Option<String>,
}

impl fmt::Debug for OpperBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpperBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("read_timeout", &self.read_timeout)
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
    /// already ends in `/v2` is accepted as it is.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// How long to wait for a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long a call may take as a whole, and how long a stream may take to send its first
    /// event (default 300 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// How long a response may go without sending a byte, for calls and streams (default 120 s).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
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
        let url = reqwest::Url::parse(&base)
            .map_err(|e| Error::Config(format!("invalid base URL {base:?}: {e}")))?;
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
        let root = base.strip_suffix("/v2").unwrap_or(&base).to_owned();

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
            .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
            .read_timeout(self.read_timeout.unwrap_or(DEFAULT_READ_TIMEOUT))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Config(format!("the HTTP client could not be built: {e}")))?;
        Ok(Opper {
            inner: Arc::new(Inner {
                http,
                call_url: format!("{root}/v2/call"),
                stream_url: format!("{root}/v2/call/stream"),
                base_url: root,
                authorization,
                cache: self.cache,
                retry: self.retry.unwrap_or_default(),
                request_timeout: self.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT),
                max_event_bytes: self.max_event_bytes.unwrap_or(DEFAULT_MAX_EVENT_BYTES),
            }),
        })
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
