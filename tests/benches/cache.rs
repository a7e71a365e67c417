//! The response cache, side by side in one run:
//! - a typed call answered from the cache against the same call over loopback (ratio);
//! - a 100,000-chunk typed stream replayed from the cache against the same stream over
//!   loopback (throughput of each).

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

#[tokio::main(flavor = "current_thread")]
async fn main() {
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

    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2000);
    let (hit, sent) = side_by_side(200, rounds, || call(&cached), || call(&live)).await;
    println!("typed call from the cache:  median {hit:?}");
    println!("typed call over loopback:   median {sent:?}");
    println!(
        "ratio cached / live: {:.3}",
        hit.as_secs_f64() / sent.as_secs_f64()
    );

    let stream_rounds = std::env::var("STREAM_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let (mut replayed, mut streamed, mut opened) = (Vec::new(), Vec::new(), Vec::new());
    let mut updates = 0;
    for _ in 0..stream_rounds {
        let (time, (open, n)) = timed(stream(&cached)).await;
        replayed.push(time);
        opened.push(open);
        updates = n;
        streamed.push(timed(stream(&live)).await.0);
    }
    let (replayed, streamed) = (median(&mut replayed), median(&mut streamed));
    let opened = median(&mut opened);
    let rate = |time: Duration| updates as f64 / time.as_secs_f64() / 1e6;
    println!(
        "{updates}-update stream replayed from the cache: median {replayed:?} ({:.2} M updates/s)",
        rate(replayed)
    );
    println!(
        "  of which opening (reading and checking the {:.1} MB entry): {opened:?}",
        entry_bytes(&dir) as f64 / 1e6
    );
    println!(
        "{updates}-update stream over loopback:           median {streamed:?} ({:.2} M updates/s)",
        rate(streamed)
    );
    println!(
        "throughput replayed / live: {:.2}",
        streamed.as_secs_f64() / replayed.as_secs_f64()
    );
    assert_eq!(
        server.request_count() - recorded,
        200 + rounds + stream_rounds,
        "a cached call reached the server"
    );
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
