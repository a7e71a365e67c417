//! v2 against v3 streaming, side by side in one run: the same 20,000-item output, as the
//! built-in server streams it (v2 `json_path` chunks; v3 `content` deltas of 1 to 6 characters
//! of the model's JSON text, read into the same typed updates), recorded once and then served
//! as it is over loopback, so that the client's work is what is timed. Reports each version's
//! deltas per second (goal: v3 at least 0.8 of v2's), v3's typed stream against a bare
//! `serde_json` parse of its frames from memory (goal: at least 0.6 of its throughput) and, for
//! v3, time(20,000 items) / time(2,000 items) (target: at most 11, linear).

use std::time::{Duration, Instant};

use futures::StreamExt;
use opper::testing::{MockServer, Reply};
use opper_tests::bench::median;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One item: two short strings and a number.
#[derive(Debug, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Entry {
    name: String,
    note: String,
    n: i64,
}

/// The output streamed.
#[derive(Debug, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Entries {
    items: Vec<Entry>,
}

fn output(items: usize) -> Value {
    let items: Vec<Value> = (0..items)
        .map(|i| json!({"name": format!("Person {i}"), "note": format!("writes \"docs\" #{i}"), "n": i}))
        .collect();
    json!({ "items": items })
}

/// Reads a typed stream of `task` to its end: the number of updates.
async fn typed(opper: &opper::Opper, task: &str) -> usize {
    let mut stream = opper
        .call(task)
        .output_type::<Entries>()
        .stream::<Entries>()
        .await
        .expect("stream");
    let mut updates = 0;
    while let Some(update) = stream.next().await {
        std::hint::black_box(update.expect("update"));
        updates += 1;
    }
    let entries = stream.finish().await.expect("final");
    assert!(!entries.items.is_empty());
    updates
}

/// The body of a stream of `task` on `url`, as the built-in server writes it, and how many of
/// its events carry `marker` (its deltas).
async fn recorded(url: &str, task: &str, marker: &str) -> (String, usize) {
    let body = reqwest::Client::new()
        .post(url)
        .bearer_auth("bench-key")
        .header("accept", "text/event-stream")
        .header("content-type", "application/json")
        .body(
            json!({"name": task, "input": {}, "output_schema": schemars::schema_for!(Entries)})
                .to_string(),
        )
        .send()
        .await
        .expect("raw stream")
        .text()
        .await
        .expect("body");
    let deltas = body
        .lines()
        .filter(|line| line.starts_with("data: ") && line.contains(marker))
        .count();
    (body, deltas)
}

/// Parses every `data:` line of a recorded v3 stream into a `Value`, from memory: the least
/// any reader of those frames does.
fn parse_frames(body: &str) -> Duration {
    let start = Instant::now();
    for line in body.lines() {
        if let Some(data) = line.strip_prefix("data: ") {
            std::hint::black_box(serde_json::from_str::<Value>(data).ok());
        }
    }
    start.elapsed()
}

async fn time(opper: &opper::Opper, task: &str) -> Duration {
    let start = Instant::now();
    std::hint::black_box(typed(opper, task).await);
    start.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let server = MockServer::start().await;
    server.reply("big", Reply::json(output(20_000)));
    server.reply("small", Reply::json(output(2_000)));
    let v2_url = format!("{}/v2/call/stream", server.url());
    let v3_url = |task: &str| format!("{}/v3/functions/{task}/stream", server.url());
    let (v2_big, v2_deltas) = recorded(&v2_url, "big", "json_path").await;
    let (v3_big, v3_deltas) = recorded(&v3_url("big"), "big", "\"content\"").await;
    let (v3_small, _) = recorded(&v3_url("small"), "small", "\"content\"").await;
    server.reply("v2-big", Reply::raw_sse([v2_big]));
    let v3_frames = v3_big.clone();
    server.reply("v3-big", Reply::raw_sse([v3_big]));
    server.reply("v3-small", Reply::raw_sse([v3_small]));
    let client = |api| {
        opper::Opper::builder()
            .api_key("bench-key")
            .base_url(server.url())
            .api(api)
            .build()
            .expect("client")
    };
    let (v2, v3) = (client(opper::Api::V2), client(opper::Api::V3));

    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    typed(&v2, "v2-big").await;
    typed(&v3, "v3-small").await;
    let (mut two, mut three, mut three_small) = (Vec::new(), Vec::new(), Vec::new());
    let mut bare = Vec::new();
    for _ in 0..rounds {
        two.push(time(&v2, "v2-big").await);
        three.push(time(&v3, "v3-big").await);
        three_small.push(time(&v3, "v3-small").await);
        bare.push(parse_frames(&v3_frames));
    }
    let (two, three, three_small, bare) = (
        median(&mut two),
        median(&mut three),
        median(&mut three_small),
        median(&mut bare),
    );
    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    println!("20,000 items: {v2_deltas} v2 chunks, {v3_deltas} v3 content deltas");
    println!(
        "v2 json_path chunks:   median {two:?} ({:.0} deltas/s)",
        rate(v2_deltas, two)
    );
    println!(
        "v3 JSON text deltas:   median {three:?} ({:.0} deltas/s)",
        rate(v3_deltas, three)
    );
    println!(
        "v3 / v2 deltas per second: {:.2} (goal >= 0.8)",
        rate(v3_deltas, three) / rate(v2_deltas, two)
    );
    println!("bare serde_json of the v3 frames, from memory: median {bare:?}");
    println!(
        "v3 typed / bare parse of its frames: {:.2} (goal >= 0.6)",
        bare.as_secs_f64() / three.as_secs_f64()
    );
    println!("v3, 2,000 items: median {three_small:?}");
    println!(
        "v3 time(20,000) / time(2,000): {:.2} (target <= 11)",
        three.as_secs_f64() / three_small.as_secs_f64()
    );
}
