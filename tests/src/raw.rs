//! A raw HTTP/1.1 server on loopback whose replies are scripted byte for byte, for framing,
//! cuts and faults the built-in `opper::testing::MockServer` does not make: a [`Script`] of
//! writes, waits and stalls per connection, and the [`Received`] requests to assert on.

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
