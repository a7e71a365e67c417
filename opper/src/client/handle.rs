//! [`Opper`]: the handle a call goes through, cheap to clone, on the client's base URL, cache
//! and HTTP transport.

use std::fmt;
use std::sync::Arc;

use crate::cache::Cache;
use crate::client::transport::Transport;
use crate::client::url::redact_userinfo;

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
    base_url: String,
    cache: Option<Cache>,
    transport: Transport,
}

impl fmt::Debug for Opper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opper")
            .field("base_url", &redact_userinfo(&self.inner.base_url))
            .field("api", &self.inner.transport.api)
            .field("api_key", &"<redacted>")
            .field("retry", &self.inner.transport.retry)
            .field("request_timeout", &self.inner.transport.request_timeout)
            .field("cache", &self.inner.cache)
            .finish_non_exhaustive()
    }
}

impl Opper {
    /// A handle on what [`OpperBuilder::build`](crate::OpperBuilder::build) checked.
    pub(crate) fn new(base_url: String, cache: Option<Cache>, transport: Transport) -> Self {
        Opper {
            inner: Arc::new(Inner {
                base_url,
                cache,
                transport,
            }),
        }
    }

    /// The base URL calls go to (without `/v2/call`), as configured: a `user:password@` in it
    /// is kept here (and redacted in `Debug`).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The version of the Opper API this client speaks.
    pub fn api(&self) -> crate::api::Api {
        self.inner.transport.api
    }

    /// The client's cache, if it has one.
    pub(crate) fn cache(&self) -> Option<&Cache> {
        self.inner.cache.as_ref()
    }

    /// Whether the client's cache is replay-only: it never sends a request.
    pub(crate) fn replays_only(&self) -> bool {
        self.inner.cache.as_ref().is_some_and(Cache::is_replay_only)
    }

    /// The HTTP transport.
    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }
}
