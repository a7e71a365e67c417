//! Streaming cost, side by side in one run:
//! - consuming 10,000 vs 100,000 chunks through a typed `opper::Stream` (target ratio <= 11);
//! - the typed stream's throughput against reading the same `data:` lines with bare `reqwest`
//!   and `serde_json` (target: at least half of it).

use std::time::{Duration, Instant};

use futures::StreamExt;
use opper::testing::{MockServer, Reply};
use opper_tests::bench::{Report, median, report_sse};

async fn typed(opper: &opper::Opper, task: &str) -> usize {
    let mut stream = opper
        .call(task)
        .output_type::<Report>()
        .stream::<Report>()
        .await
        .expect("stream");
    let mut updates = 0;
    while let Some(update) = stream.next().await {
        std::hint::black_box(&update.expect("update").partial);
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

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let server = MockServer::start().await;
    server.reply("small", Reply::raw_sse([report_sse(10_000)]));
    server.reply("big", Reply::raw_sse([report_sse(100_000)]));
    let opper = opper::Opper::builder()
        .api_key("bench-key")
        .base_url(server.url())
        .build()
        .expect("client");
    let http = reqwest::Client::new();
    let url = format!("{}/v2/call/stream", server.url());

    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    typed(&opper, "small").await;
    bare(&http, &url).await;
    let mut small = Vec::new();
    let mut big = Vec::new();
    let mut raw = Vec::new();
    for _ in 0..rounds {
        small.push(time(1, || typed(&opper, "small")).await);
        big.push(time(1, || typed(&opper, "big")).await);
        raw.push(time(1, || bare(&http, &url)).await);
    }
    let (small, big, raw) = (median(&mut small), median(&mut big), median(&mut raw));
    println!("typed stream, 10,000 chunks:  median {small:?}");
    println!("typed stream, 100,000 chunks: median {big:?}");
    println!(
        "ratio 100k / 10k: {:.2} (target <= 11)",
        big.as_secs_f64() / small.as_secs_f64()
    );
    println!("bare reqwest + serde_json, 100,000 data lines: median {raw:?}");
    println!(
        "typed throughput / bare throughput: {:.2} (target >= 0.5)",
        raw.as_secs_f64() / big.as_secs_f64()
    );
}
