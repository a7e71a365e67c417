//! Streaming cost, side by side in one run:
//! - consuming 10,000 vs 100,000 chunks through a typed `opper::Stream` (target ratio <= 11);
//! - the typed stream over loopback (honest partials on, a consumer that reads every update's
//!   partial) against a bare `serde_json::from_str::<Value>` of the same `data:` lines from
//!   memory (target: at least half its throughput), and against bare `reqwest` + `serde_json`
//!   over the same loopback HTTP;
//! - token-sized chunks, as real streams send them: 20,000 entries of 7 chunks each (about 90
//!   bytes an event, 140,000 chunks), served by the built-in server on a multi-thread runtime
//!   and consumed dropping each update, against `serde_json::from_str::<Value>` of the same
//!   `data:` lines from memory (target: at least 0.5 of its throughput, goal 0.6).

use std::time::{Duration, Instant};

use futures::StreamExt;
use opper::testing::{MockServer, Reply};
use opper_tests::bench::{Catalog, Report, median, report_sse, side_by_side, token_sse};

async fn typed(opper: &opper::Opper, task: &str) -> usize {
    let mut stream = opper
        .call(task)
        .output_type::<Report>()
        .stream::<Report>()
        .await
        .expect("stream");
    let mut updates = 0;
    while let Some(update) = stream.next().await {
        // Touch the partial, as a UI rendering it would.
        let update = update.expect("update");
        let items = update.partial.items.as_deref().unwrap_or_default();
        let last = items
            .last()
            .and_then(|item| item.title.as_deref())
            .map_or(0, str::len);
        std::hint::black_box((items.len(), last));
        updates += 1;
    }
    let report = stream.finish().await.expect("final");
    assert!(!report.items.is_empty());
    updates
}

async fn bare(http: &reqwest::Client, url: &str) -> usize {
    let text = http
        .post(url)
        .bearer_auth("bench-key")
        .header("accept", "text/event-stream")
        .body("{\"name\": \"big\"}")
        .send()
        .await
        .expect("bare")
        .text()
        .await
        .expect("text");
    let mut parsed = 0;
    for line in text.lines() {
        if let Some(data) = line.strip_prefix("data: ") {
            let value: serde_json::Value = serde_json::from_str(data).expect("json");
            std::hint::black_box(value);
            parsed += 1;
        }
    }
    parsed
}

/// Parses every `data:` line of `body` as JSON, from memory.
fn from_memory(body: &str) -> usize {
    let mut parsed = 0;
    for line in body.lines() {
        if let Some(data) = line.strip_prefix("data: ") {
            let value: serde_json::Value = serde_json::from_str(data).expect("json");
            std::hint::black_box(value);
            parsed += 1;
        }
    }
    parsed
}

async fn time<F: std::future::Future<Output = usize>>(
    rounds: usize,
    mut f: impl FnMut() -> F,
) -> Duration {
    let mut samples = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        std::hint::black_box(f().await);
        samples.push(start.elapsed());
    }
    median(&mut samples)
}

/// Consumes a typed stream of token-sized chunks, dropping each update.
async fn tokens(opper: &opper::Opper) -> usize {
    let mut stream = opper
        .call("tokens")
        .output_type::<Catalog>()
        .stream::<Catalog>()
        .await
        .expect("stream");
    let mut updates = 0;
    while let Some(update) = stream.next().await {
        drop(update.expect("update"));
        updates += 1;
    }
    let catalog = stream.finish().await.expect("final");
    assert!(!catalog.items.is_empty());
    updates
}

fn rounds() -> usize {
    std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7)
}

/// `ONLY=tokens` runs the token-sized part alone (for profiling), `ONLY=report` the rest.
fn main() {
    let only = std::env::var("ONLY").unwrap_or_default();
    if only != "tokens" {
        report_part();
    }
    if only != "report" {
        let multi = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        multi.block_on(token_sized());
    }
}

fn report_part() {
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    current.block_on(report());
}

/// The token-sized stream against the bare parse from memory, side by side.
async fn token_sized() {
    let items = std::env::var("ITEMS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20_000);
    let body = token_sse(items);
    let server = MockServer::start().await;
    server.reply("tokens", Reply::raw_sse([body.clone()]));
    let opper = opper::Opper::builder()
        .api_key("bench-key")
        .base_url(server.url())
        .build()
        .expect("client");
    let (typed, memory) = side_by_side(
        1,
        rounds(),
        || async {
            std::hint::black_box(tokens(&opper).await);
        },
        || async {
            std::hint::black_box(from_memory(&body));
        },
    )
    .await;
    let events = body.matches("data: ").count();
    let mb = body.len() as f64 / 1e6;
    let rate = |d: Duration| mb / d.as_secs_f64();
    println!(
        "token-sized chunks: {items} entries, {events} events of {:.0} bytes, {mb:.1} MB",
        body.len() as f64 / events as f64
    );
    println!(
        "typed stream (multi-thread), dropping updates: median {typed:?} ({:.0} MB/s)",
        rate(typed)
    );
    println!(
        "bare serde_json, from memory:                 median {memory:?} ({:.0} MB/s)",
        rate(memory)
    );
    println!(
        "token-sized typed / bare parse from memory: {:.2} (target >= 0.5, goal 0.6)",
        memory.as_secs_f64() / typed.as_secs_f64()
    );
}

/// The `Report` stream: 10k vs 100k chunks, against the bare parses.
async fn report() {
    let server = MockServer::start().await;
    let big_body = report_sse(100_000);
    server.reply("small", Reply::raw_sse([report_sse(10_000)]));
    server.reply("big", Reply::raw_sse([big_body.clone()]));
    let opper = opper::Opper::builder()
        .api_key("bench-key")
        .base_url(server.url())
        .build()
        .expect("client");
    let http = reqwest::Client::new();
    let url = format!("{}/v2/call/stream", server.url());

    let rounds = rounds();
    typed(&opper, "small").await;
    bare(&http, &url).await;
    let mut small = Vec::new();
    let mut big = Vec::new();
    let mut raw = Vec::new();
    let mut memory = Vec::new();
    for _ in 0..rounds {
        small.push(time(1, || typed(&opper, "small")).await);
        big.push(time(1, || typed(&opper, "big")).await);
        raw.push(time(1, || bare(&http, &url)).await);
        memory.push(time(1, || std::future::ready(from_memory(&big_body))).await);
    }
    let (small, big, raw, memory) = (
        median(&mut small),
        median(&mut big),
        median(&mut raw),
        median(&mut memory),
    );
    let mb = big_body.len() as f64 / 1e6;
    let rate = |d: Duration| mb / d.as_secs_f64();
    println!("body of 100,000 chunks: {mb:.1} MB");
    println!(
        "typed stream over loopback:      median {big:?} ({:.0} MB/s)",
        rate(big)
    );
    println!(
        "bare serde_json, from memory:    median {memory:?} ({:.0} MB/s)",
        rate(memory)
    );
    println!(
        "bare reqwest + serde_json, HTTP: median {raw:?} ({:.0} MB/s)",
        rate(raw)
    );
    println!(
        "typed / bare parse from memory: {:.2} (target >= 0.5)",
        memory.as_secs_f64() / big.as_secs_f64()
    );
    println!("typed stream, 10,000 chunks:  median {small:?}");
    println!("typed stream, 100,000 chunks: median {big:?}");
    println!(
        "ratio 100k / 10k: {:.2} (target <= 11)",
        big.as_secs_f64() / small.as_secs_f64()
    );
    println!(
        "typed / bare reqwest + serde_json: {:.2}",
        raw.as_secs_f64() / big.as_secs_f64()
    );
}
