//! An Opper-compatible server on 127.0.0.1, for tests and offline runs.
//!
//! [`MockServer`] speaks the Opper API over real HTTP and Server-Sent Events, with the service's
//! headers, bodies, error shapes and SSE framing, so any Opper client (this crate's, or the
//! official Python and TypeScript ones) can be pointed at [`MockServer::url`]:
//! - v2: `POST /v2/call` and `POST /v2/call/stream` (also `/call` and `/call/stream`);
//! - v3: `POST /v3/functions/{name}/call` and `.../stream` (the name one percent-encoded path
//!   segment, `my%2Ffn` for `my/fn`), and `POST /v3/call`, `/v3/call/stream` with `name` in
//!   the body. Answers are `{"data", "meta"}` (`meta` with usage, cost and a `trace_uuid`),
//!   errors `{"error": {"code", "message", "details"}}`, and a stream is the output's JSON text
//!   in small `content` deltas cut at awkward places (inside strings, escapes and numbers), then
//!   `done`, `event: complete` and `[DONE]`;
//! - spans, as traces send them: `POST /v3/spans` (answered `{"data": {"id", "trace_id",
//!   "name", ...}}` with UUIDs), `PATCH /v3/spans/{id}` (`204`; an unknown id is a `404` in
//!   v3's error shape) and `GET /v3/spans/{id}`; the spans are kept for tests
//!   ([`MockServer::spans`]). A [`fault`](MockServer::fault) answers a spans request as it
//!   answers a call, so span creation can be made to fail, stall or answer a bad body.
//!
//! The same scripts answer both versions, each in its own shape.
//!
//! - With nothing scripted, a request with an `output_schema` gets a value generated from that
//!   schema ([`Generator`]), deterministic per task name; without one, a short text.
//! - [`Reply`] scripts an answer: a JSON output, a text, any status and body, raw SSE, with
//!   faults (delays, `Retry-After`, an error chunk or a dropped connection after some events,
//!   a stall).
//! - Every request is recorded ([`RecordedRequest`]) for assertions, the last 1,000 kept.
//! - v2 streams are chunked like the service chunks them ([`chunks_for`]): first
//!   `{"span_id": "..."}` alone, then strings in word-sized pieces, numbers and booleans whole,
//!   `json_path` with the `response.` prefix.
//!
//! [`Backend`] chooses between the real API and this server from the environment, so an
//! example or a demo runs anywhere, offline included.
//!
//! Enabled by the crate feature `testing`.
//!
//! # Example
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use opper::testing::{MockServer, Reply};
//! use serde_json::{json, Value};
//!
//! let server = MockServer::start().await;
//! server.reply("add_numbers", Reply::json(json!({"sum": 9})));
//!
//! let response = reqwest::Client::new()
//!     .post(format!("{}/v2/call", server.url()))
//!     .bearer_auth("any key")
//!     .header("content-type", "application/json")
//!     .body(r#"{"name": "add_numbers", "input": {"x": 4, "y": 5}}"#)
//!     .send()
//!     .await
//!     .unwrap();
//! let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
//! assert_eq!(body["json_payload"], json!({"sum": 9}));
//! assert_eq!(server.requests_for("add_numbers").len(), 1);
//! # }
//! ```
//!
//! The server runs on the Tokio runtime that started it and stops when its [`MockServer`] is
//! dropped (or [`shutdown`](MockServer::shutdown)), so start one per test.
//!
//! # Limits
//! Whatever a request sends, the server's work and memory per request stay small, and it goes
//! on answering the next one:
//! - a body longer than 4 MiB ([`max_body_bytes`](MockServer::max_body_bytes)) is `413`, read no
//!   further; one that has not all arrived 10 s after its headers
//!   ([`body_timeout`](MockServer::body_timeout)) is `408`; both close the connection. Headers
//!   must arrive within 30 s;
//! - a `422` for a bad body quotes at most 1 KiB of it (a v3 `400` quotes none);
//! - generated values have caps (10,000 items per array, 100,000 characters per string, 1 MiB
//!   in all, schemas followed 128 levels deep); a schema asking for more is a `422` (v3: `400`)
//!   that names the cap (see [`Generator`'s limits](Generator#limits));
//! - the last 1,000 requests are recorded, with at most 32 MiB of bodies
//!   ([`record_last`](MockServer::record_last)).

// Leaves first: the small RNG, the chunker that cuts answers into stream chunks, what the
// server records, the scripted replies, the output generator, then the server.
pub(crate) mod rng;
pub(crate) mod chunker;
mod record;
mod reply;
mod schema;
// What an API version gives the server, the v2 and v3 wires, the spans endpoints and the
// agent's, below the server that routes to them.
mod wire;
mod v2;
mod v3;
mod spans;
mod openresponses;
// The HTTP side, a pipeline: read, route, authorize, validate, answer, respond.
mod server;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::net::{TcpSocket, ToSocketAddrs};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use crate::protocol::v2::chunk::{ChunkType, StreamingChunk};
pub use crate::testing::chunker::{ChunkOptions, chunks_for};
pub use openresponses::Turn;
pub use record::RecordedRequest;
pub use reply::Reply;
pub use schema::{Generator, generate};
pub use spans::RecordedSpan;

use crate::client::Opper;
use crate::client::OpperBuilder;
use crate::error::Result;
use server::{Shared, lock};

/// An Opper-compatible HTTP server on a local port; see the [module docs](self).
///
/// # Which reply answers a request
/// For a request to a call or stream endpoint of either version with a valid bearer (when one
/// is required), the first of these that exists answers:
/// 1. the front of the [`fault`](Self::fault) queue (any task, even a body that does not
///    validate);
/// 2. for a body that does not validate: on v2 (not JSON, or no string `name`) a 422
///    `RequestValidationError`; on v3 (not a JSON object, no `input`, a schema that is not an
///    object, or on `/v3/call` no string `name`) a 400 `bad_request`;
/// 3. the front of the task's [`enqueue`](Self::enqueue) queue;
/// 4. the task's sticky [`reply`](Self::reply);
/// 5. the sticky [`reply_all`](Self::reply_all);
/// 6. a generated reply ([`Reply::generated`]).
///
/// Queued replies answer [`Reply::times`] requests (default 1) and are then gone; sticky
/// replies answer every request until replaced. So "the next 2 requests answer 503, then
/// normal" is `server.fault(Reply::status(503).times(2))`.
///
/// Unknown paths get 404 `NotFoundError`, other methods 405, a missing or wrong key (when
/// [`require_api_key`](Self::require_api_key) was called) 401 `UnauthorizedError` (under
/// `/v3/`: `not_found`, `method_not_allowed`, `unauthorized` in v3's shape); none of these
/// consume a queued reply.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use opper::testing::{MockServer, Reply};
///
/// let server = MockServer::start().await;
/// server
///     .require_api_key("test-key")
///     .fault(Reply::status(503).retry_after(0).times(2))
///     .enqueue("summarize", Reply::text("first"))
///     .reply("summarize", Reply::text("every later one"));
/// # }
/// ```
#[derive(Debug)]
pub struct MockServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    accept: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Starts a server on `127.0.0.1` on a free port.
    ///
    /// # Panics
    /// If no local port can be bound; use [`bind`](Self::bind) to handle that error.
    pub async fn start() -> MockServer {
        match Self::bind("127.0.0.1:0").await {
            Ok(server) => server,
            Err(error) => panic!("opper::testing::MockServer: cannot bind 127.0.0.1:0: {error}"),
        }
    }

    /// Starts a server on `addr` (port 0 picks a free port).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = opper::testing::MockServer::bind("127.0.0.1:0").await?;
    /// assert!(server.url().starts_with("http://127.0.0.1:"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<MockServer> {
        let mut last_error = None;
        for addr in tokio::net::lookup_host(addr).await? {
            match listen(addr) {
                Ok(listener) => return Ok(Self::serve(listener)),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error
            .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind")))
    }

    fn serve(listener: tokio::net::TcpListener) -> MockServer {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let shared = Arc::new(Shared::default());
        let (stop, mut stopped) = watch::channel(false);
        let loop_shared = shared.clone();
        let accept = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = server::stopped(&mut stopped) => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            loop_shared.accepted.fetch_add(1, Ordering::SeqCst);
                            let shared = loop_shared.clone();
                            let stopped = stopped.clone();
                            tokio::spawn(server::serve_connection(shared, stream, stopped));
                        }
                        // Out of file descriptors or a similar passing trouble: wait and go on.
                        Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                    },
                }
            }
        });
        MockServer {
            shared,
            addr,
            stop,
            accept: Some(accept),
        }
    }

    /// The base URL, such as `http://127.0.0.1:41234`, to which clients add `/v2/call` or
    /// `/v3/functions/{name}/call`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requires `Authorization: Bearer <key>` on the call and stream endpoints of both versions;
    /// other requests get 401 with `{"type": "UnauthorizedError", ...}` (v3:
    /// `{"error": {"code": "unauthorized", ...}}`). Without it, any key (or none) is accepted.
    pub fn require_api_key(&self, key: impl Into<String>) -> &Self {
        lock(&self.shared.script).api_key = Some(key.into());
        self
    }

    /// Answers every request for `task` with `reply` (sticky: it never runs out, and replaces
    /// the previous sticky reply of `task`). Queued replies ([`enqueue`](Self::enqueue),
    /// [`fault`](Self::fault)) go first.
    pub fn reply(&self, task: impl Into<String>, reply: Reply) -> &Self {
        lock(&self.shared.script).sticky.insert(task.into(), reply);
        self
    }

    /// Answers every request of a task without its own reply with `reply` (sticky).
    pub fn reply_all(&self, reply: Reply) -> &Self {
        lock(&self.shared.script).default_reply = Some(reply);
        self
    }

    /// Queues `reply` for the next [`reply.times(n)`](Reply::times) requests of `task`
    /// (default 1), after the replies already queued for it, ahead of its sticky reply.
    pub fn enqueue(&self, task: impl Into<String>, reply: Reply) -> &Self {
        let times = reply.times;
        if times > 0 {
            lock(&self.shared.script)
                .queues
                .entry(task.into())
                .or_default()
                .push_back((reply, times));
        }
        self
    }

    /// Queues `reply` for the next [`reply.times(n)`](Reply::times) requests (default 1) of
    /// any task, ahead of everything scripted per task: for retry tests that count attempts.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use opper::testing::{MockServer, Reply};
    ///
    /// let server = MockServer::start().await;
    /// server
    ///     .fault(Reply::status(503).times(2))
    ///     .fault(Reply::generated().drop_after(2));
    /// # }
    /// ```
    pub fn fault(&self, reply: Reply) -> &Self {
        let times = reply.times;
        if times > 0 {
            lock(&self.shared.script).faults.push_back((reply, times));
        }
        self
    }

    /// Sets the seed of generated outputs and span ids (default 0). Generated outputs depend
    /// on the seed, the task name and the schema only, not on the order of requests.
    pub fn seed(&self, seed: u64) -> &Self {
        self.shared.seed.store(seed, Ordering::Relaxed);
        self
    }

    /// Forgets every scripted reply and fault (the API key requirement stays).
    pub fn reset_replies(&self) -> &Self {
        let mut script = lock(&self.shared.script);
        script.sticky.clear();
        script.default_reply = None;
        script.queues.clear();
        script.faults.clear();
        drop(script);
        self
    }

    /// Forgets the recorded requests, and starts [`request_count`](Self::request_count) again
    /// from 0.
    pub fn clear_requests(&self) -> &Self {
        lock(&self.shared.requests).clear();
        self
    }

    /// Keeps only the last `count` requests for [`requests`](Self::requests) and
    /// [`requests_for`](Self::requests_for) (default 1,000; 0 records none), and of those at
    /// most 32 MiB of bodies: older requests are forgotten first, so a long-running server's
    /// memory stays bounded. [`request_count`](Self::request_count) counts every request.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = opper::testing::MockServer::start().await;
    /// server.record_last(0); // a load test: count requests, keep none
    /// # }
    /// ```
    pub fn record_last(&self, count: usize) -> &Self {
        lock(&self.shared.requests).set_limit(count);
        self
    }

    /// Answers `413 PayloadTooLargeError` to a request whose body is longer than `bytes`
    /// (default 4 MiB), having read no more of it than that (none, when its `Content-Length`
    /// says so), and closes its connection.
    pub fn max_body_bytes(&self, bytes: usize) -> &Self {
        self.shared.max_body_bytes.store(bytes, Ordering::Relaxed);
        self
    }

    /// Answers `408 RequestTimeoutError` to a request whose body has not all arrived `timeout`
    /// after its headers (default 10 s), and closes its connection. The headers themselves must
    /// arrive within 30 s.
    pub fn body_timeout(&self, timeout: Duration) -> &Self {
        *lock(&self.shared.body_timeout) = timeout;
        self
    }

    /// The recorded requests (see [`record_last`](Self::record_last)), in order of arrival.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).iter().cloned().collect()
    }

    /// The recorded requests of `task` (see [`RecordedRequest::task`]: the body's `name`, or
    /// the decoded name in a `/v3/functions/{name}/...` path). A span's requests
    /// (`/v3/spans`) are never a task's, whatever the span's name.
    pub fn requests_for(&self, task: &str) -> Vec<RecordedRequest> {
        lock(&self.shared.requests)
            .iter()
            .filter(|request| request.task() == Some(task))
            .cloned()
            .collect()
    }

    /// The spans created on the server (`POST /v3/spans`), with what their `PATCH`es set, as
    /// trees: the roots are the spans without a parent (or whose parent is no longer kept),
    /// each with its [`children`](RecordedSpan::children). The most recent 10,000 spans are
    /// kept, with at most 32 MiB of received bodies.
    pub fn spans(&self) -> Vec<RecordedSpan> {
        lock(&self.shared.spans).tree()
    }

    /// How many requests were received so far (since the last
    /// [`clear_requests`](Self::clear_requests)), recorded or not.
    pub fn request_count(&self) -> usize {
        lock(&self.shared.requests).received
    }

    /// Waits up to `timeout` until at least `count` requests were received; returns whether
    /// they were.
    pub async fn wait_for_requests(&self, count: usize, timeout: Duration) -> bool {
        wait_until(timeout, || self.request_count() >= count).await
    }

    /// How many TCP connections were accepted so far.
    pub fn accepted_connections(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// How many TCP connections have closed so far (by either side).
    pub fn closed_connections(&self) -> usize {
        self.shared.closed.load(Ordering::SeqCst)
    }

    /// How many TCP connections are open now.
    pub fn open_connections(&self) -> usize {
        self.accepted_connections()
            .saturating_sub(self.closed_connections())
    }

    /// Waits up to `timeout` until at least `count` connections have closed; returns whether
    /// they have. For tests that a client closes the connection when a stream is dropped.
    pub async fn wait_for_closed_connections(&self, count: usize, timeout: Duration) -> bool {
        wait_until(timeout, || self.closed_connections() >= count).await
    }

    /// A client of this crate pointed at this server: its key is the one
    /// [`require_api_key`](Self::require_api_key) set (else `"mock-api-key"`), and it retries
    /// as [`RetryPolicy::default`](crate::RetryPolicy::default) does, deciding as it does, but
    /// sleeps 1/50 of each wait, so retry tests run fast: about 10 ms before the first retry,
    /// 15 ms before the second, and 20 ms for a `Retry-After: 1` (a `Retry-After` longer than
    /// the policy's 30 s `max_delay` still returns the error). [`client_builder`](Self::client_builder)
    /// gives the builder, to change more (a policy set there with
    /// [`retry`](crate::OpperBuilder::retry) waits its full waits).
    ///
    /// # Panics
    /// Never in practice: the configuration is always valid.
    pub fn client(&self) -> crate::client::handle::Opper {
        match self.client_builder().build() {
            Ok(client) => client,
            Err(error) => panic!("opper::testing::MockServer::client: {error}"),
        }
    }

    /// The builder behind [`client`](Self::client), to adjust before building.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> opper::Result<()> {
    /// let server = opper::testing::MockServer::start().await;
    /// let client = server.client_builder().retry(opper::RetryPolicy::none()).build()?;
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_builder(&self) -> crate::client::builder::OpperBuilder {
        let key = lock(&self.shared.script)
            .api_key
            .clone()
            .unwrap_or_else(|| "mock-api-key".to_owned());
        crate::client::handle::Opper::builder()
            .api_key(key)
            .base_url(self.url())
            .retry(crate::client::retry::RetryPolicy::default().time_scale(1.0 / 50.0))
    }

    /// Stops accepting connections, closes the open ones and waits for the accept loop to end.
    /// Dropping the server does the same without waiting.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(accept) = self.accept.take() {
            let _ = accept.await;
        }
    }
}

/// Where a program runs: the real Opper API when the environment has a key, else the
/// built-in [`MockServer`], so an example, a demo or a smoke test runs anywhere, offline
/// included, with no change.
///
/// [`from_env`](Self::from_env) chooses: with `OPPER_API_KEY` (or `OPPER_HTTP_BEARER`) set
/// (not empty), the real API, configured from the environment as [`Opper::from_env`] is;
/// otherwise it starts the built-in server, makes its client the default client of
/// `#[opper::function]`s ([`Opper::set_default`]), and says so in one line on standard error.
/// Offline, the server answers with outputs generated from each task's schema, unless you
/// script replies on [`server`](Self::server).
///
/// Keep the value alive while you call: the server stops when it is dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> opper::Result<()> {
/// # if std::env::var_os("OPPER_API_KEY").or(std::env::var_os("OPPER_HTTP_BEARER")).is_some() { return Ok(()); }
/// # #[derive(Debug, serde::Deserialize, schemars::JsonSchema)] struct Sum { sum: i64 }
/// /// Calculate the sum of two numbers
/// #[opper::function(model = "openai/gpt-4o-mini")]
/// async fn add(x: i64, y: i64) -> opper::Result<Sum>;
///
/// let backend = opper::testing::Backend::from_env().await;
/// if let Some(server) = backend.server() {
///     // Offline: what the service would answer.
///     server.reply("add", opper::testing::Reply::json(serde_json::json!({"sum": 9})));
/// }
/// let sum = add(4, 5).await?; // the default client: the real API, or the built-in server
/// let opper = backend.client()?; // for the `_with` calls
/// let again = add_with(&opper, 4, 5).await?;
/// # assert_eq!((sum.sum, again.sum), (9, 9));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Backend {
    /// The built-in server, when offline.
    server: Option<MockServer>,
}

impl Backend {
    /// The real API when `OPPER_API_KEY` (or `OPPER_HTTP_BEARER`) is set and not empty;
    /// otherwise starts the built-in server, makes its client the default client, and prints
    /// one line saying so (on standard error, with the server's address).
    ///
    /// # Panics
    /// Offline, if no local port can be bound (as [`MockServer::start`]).
    pub async fn from_env() -> Backend {
        let has_key = ["OPPER_API_KEY", "OPPER_HTTP_BEARER"]
            .iter()
            .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()));
        if has_key {
            return Backend { server: None };
        }
        let server = MockServer::start().await;
        server.client().set_default();
        eprintln!(
            "OPPER_API_KEY is not set: running offline on the built-in server at {}.",
            server.url()
        );
        Backend {
            server: Some(server),
        }
    }

    /// The built-in server when offline (to script replies or read the recorded requests);
    /// `None` on the real API.
    pub fn server(&self) -> Option<&MockServer> {
        self.server.as_ref()
    }

    /// Whether this runs on the built-in server.
    pub fn is_offline(&self) -> bool {
        self.server.is_some()
    }

    /// A client for this backend: [`Opper::from_env`] on the real API, the server's
    /// [`client`](MockServer::client) offline.
    pub fn client(&self) -> Result<Opper> {
        match &self.server {
            None => Opper::from_env(),
            Some(server) => Ok(server.client()),
        }
    }

    /// The builder behind [`client`](Self::client), to change more before building (an API
    /// version, timeouts, headers): [`OpperBuilder::from_env`] on the real API, the server's
    /// [`client_builder`](MockServer::client_builder) offline.
    pub fn builder(&self) -> OpperBuilder {
        match &self.server {
            None => OpperBuilder::from_env(),
            Some(server) => server.client_builder(),
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    // No deadline when it is past the clock's range (`Duration::MAX`): wait for good.
    let deadline = tokio::time::Instant::now().checked_add(timeout);
    loop {
        if done() {
            return true;
        }
        if deadline.is_some_and(|deadline| tokio::time::Instant::now() >= deadline) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn listen(addr: SocketAddr) -> io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    // A deep backlog: load tests open a thousand connections at once.
    socket.listen(4096)
}
