//! The response cache, side by side in one run, on a current-thread and on a multi-thread
//! runtime (the server, the cached client and the live one in the same runtime):
//! - a typed call answered from the cache against the same call over loopback (ratio);
//! - a 100,000-chunk typed stream replayed from the cache against the same stream over
//!   loopback (throughput of each).
//!
//! `ROUNDS` (calls, default 2000) and `STREAM_ROUNDS` (streams, default 5) set the samples.

use std::time::{Duration, Instant};

use futures::StreamExt;
use opper::testing::{MockServer, Reply};
use opper::{Cache, Opper};
use opper_tests::TempDir;
use opper_tests::bench::{Report, median, report_sse, side_by_side};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Sum {
    sum: i64,
    explanation: String,
}

async fn call(opper: &Opper) {
    let reply = opper
        .call("add_numbers")
        .instructions("Calculate the sum of two numbers")
        .output_type::<Sum>()
        .model("openai/gpt-4o-mini")
        .input(&json!({"x": 4, "y": 5}))
        .send::<Sum>()
        .await
        .expect("call");
    std::hint::black_box(reply);
}

/// Reads the whole stream; returns how long it took to open and how many updates it had.
async fn stream(opper: &Opper) -> (Duration, usize) {
    let start = Instant::now();
    let mut stream = opper
        .call("big")
        .output_type::<Report>()
        .stream::<Report>()
        .await
        .expect("stream");
    let opened = start.elapsed();
    let mut updates = 0;
    while let Some(update) = stream.next().await {
        std::hint::black_box(&update.expect("update").partial);
        updates += 1;
    }
    let report = stream.finish().await.expect("final");
    assert!(!report.items.is_empty());
    (opened, updates)
}

fn client(server: &MockServer, cache: Option<Cache>) -> Opper {
    let builder = server.client_builder();
    match cache {
        Some(cache) => builder.cache(cache),
        None => builder,
    }
    .build()
    .expect("client")
}

/// What one runtime measured.
struct Figures {
    hit: Duration,
    sent: Duration,
    replayed: Duration,
    streamed: Duration,
    opened: Duration,
    updates: usize,
    entry_bytes: u64,
}

impl Figures {
    fn ratio(&self) -> f64 {
        self.hit.as_secs_f64() / self.sent.as_secs_f64()
    }

    fn rate(&self, time: Duration) -> f64 {
        self.updates as f64 / time.as_secs_f64() / 1e6
    }

    fn throughput(&self) -> f64 {
        self.streamed.as_secs_f64() / self.replayed.as_secs_f64()
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(default)
}

async fn measure() -> Figures {
    let dir = TempDir::new("cache-bench");
    let server = MockServer::start().await;
    server.reply(
        "add_numbers",
        Reply::json(json!({"sum": 9, "explanation": "four plus five is nine"})),
    );
    server.reply("big", Reply::raw_sse([report_sse(100_000)]));
    let live = client(&server, None);
    // Record once, then replay only: every timed cached call is a hit.
    call(&client(&server, Some(Cache::dir(dir.path())))).await;
    stream(&client(&server, Some(Cache::dir(dir.path())))).await;
    let cached = client(&server, Some(Cache::dir(dir.path()).replay_only()));
    let recorded = server.request_count();

    let rounds = env("ROUNDS", 2000);
    let (hit, sent) = side_by_side(200, rounds, || call(&cached), || call(&live)).await;

    let stream_rounds = env("STREAM_ROUNDS", 5);
    let (mut replayed, mut streamed, mut opened) = (Vec::new(), Vec::new(), Vec::new());
    let mut updates = 0;
    for _ in 0..stream_rounds {
        let (time, (open, n)) = timed(stream(&cached)).await;
        replayed.push(time);
        opened.push(open);
        updates = n;
        streamed.push(timed(stream(&live)).await.0);
    }
    assert_eq!(
        server.request_count() - recorded,
        200 + rounds + stream_rounds,
        "a cached call reached the server"
    );
    Figures {
        hit,
        sent,
        replayed: median(&mut replayed),
        streamed: median(&mut streamed),
        opened: median(&mut opened),
        updates,
        entry_bytes: entry_bytes(&dir),
    }
}

fn main() {
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(measure());
    let multi = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(measure());
    let both = [("current-thread", &current), ("multi-thread", &multi)];
    println!("{:<48}{:>16}{:>16}", "", both[0].0, both[1].0);
    let row = |label: &str, cell: &dyn Fn(&Figures) -> String| {
        println!("{label:<48}{:>16}{:>16}", cell(&current), cell(&multi));
    };
    row("typed call from the cache (median)", &|f| {
        format!("{:.1?}", f.hit)
    });
    row("typed call over loopback (median)", &|f| {
        format!("{:.1?}", f.sent)
    });
    row("ratio cached / live", &|f| format!("{:.3}", f.ratio()));
    let updates = current.updates;
    row(
        &format!("{updates}-update stream replayed (median)"),
        &|f| format!("{:.1?}", f.replayed),
    );
    row("  M updates/s", &|f| format!("{:.2}", f.rate(f.replayed)));
    row(
        &format!(
            "  of which opening ({:.1} MB entry)",
            current.entry_bytes as f64 / 1e6
        ),
        &|f| format!("{:.1?}", f.opened),
    );
    row(
        &format!("{updates}-update stream over loopback (median)"),
        &|f| format!("{:.1?}", f.streamed),
    );
    row("  M updates/s", &|f| format!("{:.2}", f.rate(f.streamed)));
    row("throughput replayed / live", &|f| {
        format!("{:.2}", f.throughput())
    });
}

/// The size of the largest entry in `dir` (the stream's).
fn entry_bytes(dir: &TempDir) -> u64 {
    dir.files()
        .iter()
        .filter_map(|name| std::fs::metadata(dir.path().join(name)).ok())
        .map(|meta| meta.len())
        .max()
        .unwrap_or(0)
}

async fn timed<T>(future: impl std::future::Future<Output = T>) -> (Duration, T) {
    let start = Instant::now();
    let out = future.await;
    (start.elapsed(), out)
}
