//! Helpers shared by the integration tests: a raw HTTP/1.1 server on loopback whose replies are
//! scripted byte for byte, for framing, cuts and faults the built-in server does not make.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One step of a scripted reply.
#[derive(Debug, Clone)]
pub enum Step {
    /// Write these bytes.
    Write(Vec<u8>),
    /// Wait this long.
    Sleep(Duration),
    /// Wait forever (until the client goes away).
    Stall,
    /// Run these steps again and again, until the client goes away.
    Loop(Vec<Step>),
}

/// A scripted reply: steps, then the connection is closed.
#[derive(Debug, Clone, Default)]
pub struct Script(pub Vec<Step>);

impl Script {
    /// A complete response with a status, headers and a body.
    pub fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Self {
        Script::default()
            .head(status, headers, Some(body.len()))
            .write(body)
    }

    /// A JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self::response(
            status,
            &[("content-type", "application/json")],
            body.to_string().as_bytes(),
        )
    }

    /// The status line and headers; `Content-Length` when `length` is given, else the body runs
    /// until the connection closes.
    #[must_use]
    pub fn head(self, status: u16, headers: &[(&str, &str)], length: Option<usize>) -> Self {
        let mut head = format!("HTTP/1.1 {status} X\r\nconnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(length) = length {
            head.push_str(&format!("content-length: {length}\r\n"));
        }
        head.push_str("\r\n");
        self.write(head.as_bytes())
    }

    /// An SSE response head (body until close).
    #[must_use]
    pub fn sse_head(self) -> Self {
        self.head(
            200,
            &[
                ("content-type", "text/event-stream"),
                ("cache-control", "no-cache"),
            ],
            None,
        )
    }

    /// Writes bytes.
    #[must_use]
    pub fn write(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.0.push(Step::Write(bytes.as_ref().to_vec()));
        self
    }

    /// Waits.
    #[must_use]
    pub fn sleep(mut self, ms: u64) -> Self {
        self.0.push(Step::Sleep(Duration::from_millis(ms)));
        self
    }

    /// Never finishes.
    #[must_use]
    pub fn stall(mut self) -> Self {
        self.0.push(Step::Stall);
        self
    }

    /// Runs the steps of `body` again and again, until the client goes away.
    #[must_use]
    pub fn forever(mut self, body: Script) -> Self {
        self.0.push(Step::Loop(body.0));
        self
    }
}

/// A request the raw server received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `POST`.
    pub method: String,
    /// `/v2/call`.
    pub path: String,
    /// Header names in lower case, with values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Debug, Default)]
struct State {
    scripts: VecDeque<Script>,
    fallback: Option<Script>,
    received: Vec<Received>,
    closed: usize,
    written: u64,
}

/// A raw scripted HTTP server on 127.0.0.1.
#[derive(Clone, Debug)]
pub struct RawServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl RawServer {
    /// Starts a server; each connection takes the next script (or the fallback).
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State::default()));
        let accept_state = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, Arc::clone(&accept_state)));
            }
        });
        Self { addr, state }
    }

    /// The base URL to give the client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues a script for the next connection.
    pub fn push(&self, script: Script) -> &Self {
        self.state.lock().unwrap().scripts.push_back(script);
        self
    }

    /// The script used when the queue is empty.
    pub fn fallback(&self, script: Script) -> &Self {
        self.state.lock().unwrap().fallback = Some(script);
        self
    }

    /// Requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Connections that ended (by the script or by the client).
    pub fn closed(&self) -> usize {
        self.state.lock().unwrap().closed
    }

    /// Bytes written to clients so far, over every connection (what the kernel accepted: the
    /// client read at most this much).
    pub fn written(&self) -> u64 {
        self.state.lock().unwrap().written
    }
}

async fn serve(mut socket: TcpStream, state: Arc<Mutex<State>>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or("").split(' ');
    let method = request_line.next().unwrap_or("").to_owned();
    let path = request_line.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let script = {
        let mut state = state.lock().unwrap();
        state.received.push(Received {
            method,
            path,
            headers,
            body,
            at: Instant::now(),
        });
        state
            .scripts
            .pop_front()
            .or_else(|| state.fallback.clone())
            .unwrap_or_default()
    };
    run(&mut socket, &script.0, &state).await;
    let _ = socket.shutdown().await;
    state.lock().unwrap().closed += 1;
}

/// Runs `steps` on `socket`; `false` once the client has gone away.
async fn run(socket: &mut TcpStream, steps: &[Step], state: &Mutex<State>) -> bool {
    for step in steps {
        match step {
            Step::Write(bytes) => {
                if socket.write_all(bytes).await.is_err() || socket.flush().await.is_err() {
                    return false;
                }
                state.lock().unwrap().written += bytes.len() as u64;
            }
            Step::Sleep(wait) => tokio::time::sleep(*wait).await,
            Step::Stall => {
                // Until the client closes its side.
                let _ = socket.read(&mut [0u8; 4096]).await;
                return false;
            }
            Step::Loop(body) => {
                while Box::pin(run(socket, body, state)).await {}
                return false;
            }
        }
    }
    true
}

/// The API key the tests use; every secret-hygiene test looks for it.
pub const KEY: &str = "test-key-0123456789";

/// A client builder for `url` with [`KEY`] and short retry waits (20 ms, then 30 ms).
pub fn builder(url: &str) -> opper::OpperBuilder {
    opper::Opper::builder()
        .api_key(KEY)
        .base_url(url)
        .retry(opper::RetryPolicy::default().initial_delay(Duration::from_millis(20)))
}

/// [`builder`], built.
pub fn client(url: &str) -> opper::Opper {
    builder(url).build().expect("a client")
}

/// A client of the built-in server with two retries, 10 ms apart at first.
pub fn retrying(server: &opper::testing::MockServer) -> opper::Opper {
    builder(&server.url())
        .retry(
            opper::RetryPolicy::default()
                .max_retries(2)
                .initial_delay(Duration::from_millis(10)),
        )
        .build()
        .expect("a client")
}

/// Opens a text stream of `task` and reads it to the end, expecting an error.
pub async fn text_stream_error(opper: &opper::Opper, task: &str) -> opper::Error {
    match opper.call(task).stream::<String>().await {
        Ok(stream) => stream.finish().await.expect_err("the stream should fail"),
        Err(error) => panic!("the stream did not open: {error}"),
    }
}

/// The output type of DESIGN.md's `extract_team` task.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema, opper::Partial)]
pub struct Team {
    /// Everyone the text mentions.
    pub people: Vec<Person>,
    /// One sentence about the team.
    pub summary: String,
}

/// A person in a [`Team`].
#[derive(Debug, serde::Deserialize, schemars::JsonSchema, opper::Partial)]
pub struct Person {
    /// Full name as written in the text
    pub name: String,
    /// What they do.
    pub role: String,
}

/// Opens a typed stream of `task` (with `T`'s output schema) and reads it to the end,
/// expecting an error.
pub async fn typed_stream_error<T>(opper: &opper::Opper, task: &str) -> opper::Error
where
    T: opper::Partial
        + serde::de::DeserializeOwned
        + schemars::JsonSchema
        + std::fmt::Debug
        + 'static,
{
    match opper.call(task).output_type::<T>().stream::<T>().await {
        Ok(stream) => stream.finish().await.expect_err("the stream should fail"),
        Err(error) => panic!("the stream did not open: {error}"),
    }
}

/// Side-by-side timing for the bench binaries: samples of two contenders interleaved in one run,
/// so both see the same machine state.
/// What a `fmt` tracing subscriber wrote, for assertions on logs and spans.
#[derive(Debug, Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Captures, on this thread until the guard drops, every event and every span's close (with
/// its fields) at `TRACE`, without colours.
pub fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

/// A property-test runner of `cases` cases, or of `PROPTEST_CASES` when it is set.
pub fn proptest_runner(cases: u32) -> proptest::test_runner::TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(cases);
    proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases,
        ..proptest::test_runner::Config::default()
    })
}

pub mod bench {
    use std::future::Future;
    use std::time::{Duration, Instant};

    /// The median of some durations.
    pub fn median(samples: &mut [Duration]) -> Duration {
        samples.sort();
        samples[samples.len() / 2]
    }

    /// Runs `a` and `b` alternately `rounds` times (after `warmup` rounds of each) and returns
    /// the median time of each.
    pub async fn side_by_side<A, AF, B, BF>(
        warmup: usize,
        rounds: usize,
        mut a: A,
        mut b: B,
    ) -> (Duration, Duration)
    where
        A: FnMut() -> AF,
        AF: Future<Output = ()>,
        B: FnMut() -> BF,
        BF: Future<Output = ()>,
    {
        for _ in 0..warmup {
            a().await;
            b().await;
        }
        let (mut times_a, mut times_b) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
        for round in 0..rounds {
            // Alternate which goes first, so neither always runs on a warmer cache.
            if round % 2 == 0 {
                let start = Instant::now();
                a().await;
                times_a.push(start.elapsed());
                let start = Instant::now();
                b().await;
                times_b.push(start.elapsed());
            } else {
                let start = Instant::now();
                b().await;
                times_b.push(start.elapsed());
                let start = Instant::now();
                a().await;
                times_a.push(start.elapsed());
            }
        }
        (median(&mut times_a), median(&mut times_b))
    }

    /// An item of a [`Report`].
    #[derive(Debug, serde::Deserialize, schemars::JsonSchema, opper::Partial)]
    pub struct Item {
        /// Eight words.
        pub title: String,
        /// A score.
        pub score: f64,
        /// A flag.
        pub done: bool,
    }

    /// The output the stream benches stream.
    #[derive(Debug, serde::Deserialize, schemars::JsonSchema, opper::Partial)]
    pub struct Report {
        /// One sentence.
        pub summary: String,
        /// Many items.
        pub items: Vec<Item>,
    }

    /// An SSE body of a [`Report`] in about `chunks` events: each item gets 8 title pieces, a
    /// score and a flag.
    pub fn report_sse(chunks: usize) -> String {
        use serde_json::json;
        let mut out = String::from("data: {\"span_id\": \"bench\"}\n\n");
        let mut written = 0;
        let mut item = 0;
        while written < chunks {
            for piece in 0..8 {
                let event = json!({"delta": format!("word{piece} "), "json_path": format!("response.items[{item}].title"), "chunk_type": "json"});
                out.push_str(&format!("data: {event}\n\n"));
            }
            let score = json!({"delta": 0.5 + item as f64, "json_path": format!("response.items[{item}].score"), "chunk_type": "json"});
            let done = json!({"delta": item % 2 == 0, "json_path": format!("response.items[{item}].done"), "chunk_type": "json"});
            out.push_str(&format!("data: {score}\n\ndata: {done}\n\n"));
            written += 10;
            item += 1;
        }
        out.push_str("data: {\"delta\": \"all done\", \"json_path\": \"response.summary\", \"chunk_type\": \"json\"}\n\n");
        out
    }

    /// The process's peak resident memory in KiB (Linux; 0 elsewhere).
    pub fn peak_rss_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find(|line| line.starts_with("VmHWM:"))
                    .and_then(|line| line.split_whitespace().nth(1))
                    .and_then(|kib| kib.parse().ok())
            })
            .unwrap_or(0)
    }
}

/// A directory of its own under the system's temporary directory, removed (with what is in it)
/// when dropped: for cache tests and benches.
#[derive(Debug)]
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    /// A fresh, not yet created directory whose name starts with `opper-<label>-`.
    pub fn new(label: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        Self(std::env::temp_dir().join(format!(
            "opper-{label}-{}-{n}-{nanos:08x}",
            std::process::id()
        )))
    }

    /// Its path.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// The names of the files in it, sorted (none when it does not exist).
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok())
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
