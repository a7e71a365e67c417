//! [`OpperBuilder`]: the client's configuration, checked when it is built (the key, the base
//! URL and what may be sent to it, headers, timeouts, limits, the cache).

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::cache::Cache;
use crate::client::handle::Opper;
use crate::client::retry::RetryPolicy;
use crate::client::transport::Transport;
use crate::client::url::{is_loopback, redact_userinfo};
use crate::error::Error;
use crate::error::Result;
use crate::protocol::Api;
use crate::stream::sse::DEFAULT_MAX_EVENT_BYTES;
use crate::stream::timeouts::NO_LIMIT;

const DEFAULT_BASE_URL: &str = "https://api.opper.ai";
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(120);
const DEFAULT_STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

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
    api: Option<Api>,
    /// A bad `OPPER_API_VERSION`, reported by `build`.
    api_env_error: Option<String>,
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
            .field("api", &self.api)
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

/// What an environment variable's [`Error::Config`] says, kept to be reported by `build` (as
/// its own, once: not wrapped in another).
fn config_message(error: Error) -> String {
    match error {
        Error::Config { message, .. } => message,
        other => other.to_string(),
    }
}

impl OpperBuilder {
    /// A builder holding what the environment sets: `OPPER_API_KEY` (else
    /// `OPPER_HTTP_BEARER`), `OPPER_BASE_URL`, and a [`Cache`]: `OPPER_CACHE_DIR` turns it on
    /// (read-write), `OPPER_CACHE_MODE=replay` makes it replay-only (then no API key is needed),
    /// `OPPER_CACHE_MODE=off` ignores the directory; the [`Api`] version from
    /// `OPPER_API_VERSION` (`v2` or `v3`, default v2). Empty variables count as unset; another
    /// mode or version, or `replay` without a directory, makes [`build`](Self::build) fail.
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
            Err(error) => (None, Some(config_message(error))),
        };
        let (api, api_env_error) = match var("OPPER_API_VERSION").map(|v| v.parse::<Api>()) {
            None => (None, None),
            Some(Ok(api)) => (Some(api), None),
            Some(Err(error)) => (None, Some(config_message(error))),
        };
        Self {
            api_key: var("OPPER_API_KEY").or_else(|| var("OPPER_HTTP_BEARER")),
            base_url: var("OPPER_BASE_URL"),
            cache,
            cache_env_error,
            api,
            api_env_error,
            ..Self::default()
        }
    }

    /// The version of the Opper API to speak (default [`Api::V2`]). Replaces what
    /// `OPPER_API_VERSION` set.
    ///
    /// ```
    /// # fn run() -> opper::Result<()> {
    /// let opper = opper::Opper::builder().api_key("op-...").api(opper::Api::V3).build()?;
    /// # Ok(()) }
    /// # run().unwrap();
    /// ```
    pub fn api(mut self, api: Api) -> Self {
        self.api = Some(api);
        self.api_env_error = None;
        self
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

    /// The base URL (default `https://api.opper.ai`); `/v2/call` (v3:
    /// `/v3/functions/{name}/call`) is added to it, and a base that already ends in the
    /// version's prefix (`/v2`, `/v3`) is accepted as it is. A base with a query or a fragment (`?`, `#`) is
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

    /// The largest call response body accepted, in bytes (default 64 MiB). The body is
    /// read as it arrives and never kept past the limit: a longer one (or a `Content-Length`
    /// over it) fails with [`Error::ResponseTooLarge`], not retried. A stream is bounded the
    /// same way, over all the body bytes it receives, and its recording for a cache holds no
    /// more than the limit (a stream too large to record is not stored). Error bodies are read only
    /// up to [`ApiError::MAX_BODY_BYTES`](crate::ApiError::MAX_BODY_BYTES) (8 KiB), or this limit if it is lower.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// Builds the client. It needs an API key, unless its cache is replay-only (it never
    /// sends a request then).
    pub fn build(self) -> Result<Opper> {
        if let Some(error) = self.api_env_error {
            return Err(Error::config(error));
        }
        if let Some(error) = self.cache_env_error {
            return Err(Error::config(error));
        }
        let api = self.api.unwrap_or_default();
        let replay_only = self.cache.as_ref().is_some_and(Cache::is_replay_only);
        let authorization = match self.api_key.filter(|key| !key.trim().is_empty()) {
            Some(key) => {
                let mut authorization = HeaderValue::try_from(format!("Bearer {}", key.trim()))
                    .map_err(|_| {
                        Error::config("the API key contains characters not allowed in a header")
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
            Error::config_caused(format!("invalid base URL {base:?}"), e)
        })?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_insecure_http || is_loopback(&url) => {}
            "http" => {
                return Err(Error::config(format!(
                    "refusing to send the API key over plain http to {}; use https, or allow_insecure_http(true)",
                    url.host_str().unwrap_or("")
                )));
            }
            scheme => return Err(Error::config(format!("unsupported URL scheme {scheme:?}"))),
        }
        // The endpoints' paths are appended to the base: a query or a fragment would end up
        // before them (`/?a=1/v2/call`).
        if url.query().is_some() || url.fragment().is_some() {
            let base = redact_userinfo(&base);
            return Err(Error::config(format!(
                "the base URL {base:?} has a query or a fragment; give the scheme, host and path only"
            )));
        }
        // A base that ends in a version's prefix names the API's root: the client's version
        // is added back (so `OPPER_BASE_URL=.../v2` still works with `OPPER_API_VERSION=v3`).
        let root = [Api::V2, Api::V3]
            .into_iter()
            .find_map(|version| base.strip_suffix(version.wire().prefix()))
            .unwrap_or(&base)
            .to_owned();

        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| Error::config(format!("invalid header name {name:?}")))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|_| Error::config(format!("invalid value for header {name}")))?;
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
            .map_err(|e| Error::config_caused("the HTTP client could not be built", e))?;
        let transport = Transport {
            http,
            root: root.clone(),
            api,
            authorization,
            retry: self.retry.unwrap_or_default(),
            request_timeout: self.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT),
            stream_idle_timeout: self
                .stream_idle_timeout
                .unwrap_or(DEFAULT_STREAM_IDLE_TIMEOUT),
            max_event_bytes: self.max_event_bytes.unwrap_or(DEFAULT_MAX_EVENT_BYTES),
            max_response_bytes: self
                .max_response_bytes
                .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
        };
        Ok(Opper::new(root, self.cache, transport))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Endpoint;

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
            let transport = client.transport();
            let url = |endpoint| transport.url(&transport.api.wire().path(endpoint, "t"));
            assert_eq!(url(Endpoint::Call), "https://example.com/v2/call");
            assert_eq!(url(Endpoint::Stream), "https://example.com/v2/call/stream");
        }
        for base in [
            "https://example.com",
            "https://example.com/v3/",
            "https://example.com/v2",
        ] {
            let client = Opper::builder()
                .api_key("k")
                .api(Api::V3)
                .base_url(base)
                .build()
                .unwrap();
            let transport = client.transport();
            let url = |endpoint| transport.url(&transport.api.wire().path(endpoint, "a/b"));
            assert_eq!(
                url(Endpoint::Call),
                "https://example.com/v3/functions/a%2Fb/call"
            );
            assert_eq!(
                url(Endpoint::Stream),
                "https://example.com/v3/functions/a%2Fb/stream"
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
            let Err(Error::Config { message, .. }) = built else {
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
        assert!(matches!(remote, Err(Error::Config { .. })));
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
        assert!(replay.transport().authorization.is_none());
        assert!(matches!(
            Opper::builder().cache(Cache::dir("cassettes")).build(),
            Err(Error::MissingApiKey)
        ));
        let builder = OpperBuilder {
            cache_env_error: Some("OPPER_CACHE_MODE is \"x\"".into()),
            ..Opper::builder().api_key("k")
        };
        assert!(matches!(builder.clone().build(), Err(Error::Config { .. })));
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
