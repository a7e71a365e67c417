//! Helpers of the bench binaries in `benches/`: side-by-side timing (samples of two contenders
//! interleaved in one run, so both see the same machine state), the streamed [`Report`] and its
//! SSE body, and the process's peak memory.

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

/// An entry of a [`Catalog`].
#[derive(Debug, serde::Deserialize, schemars::JsonSchema, opper::Partial)]
pub struct Entry {
    /// A name of a few words.
    pub name: String,
    /// A short note.
    pub note: String,
    /// A number.
    pub n: i64,
}

/// The output of the token-sized stream bench.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema, opper::Partial)]
pub struct Catalog {
    /// Many entries.
    pub items: Vec<Entry>,
}

/// An SSE body of a [`Catalog`] of `items` entries sent as token-sized deltas, as a real stream
/// sends them: each entry in 7 chunks (its `name` in 3 pieces, its `note` in 3, its `n` whole),
/// framed as the service frames them (about 90 bytes an event), after a span event.
pub fn token_sse(items: usize) -> String {
    use opper::testing::StreamingChunk;
    const NAME: [&str; 3] = ["Gra", "ce Ho", "pper"];
    const NOTE: [&str; 3] = ["wrote ", "the first", " compiler"];
    let mut out = StreamingChunk::span("bench").to_sse();
    for item in 0..items {
        for piece in NAME {
            out.push_str(
                &StreamingChunk::json(format!("response.items[{item}].name"), piece).to_sse(),
            );
        }
        for piece in NOTE {
            out.push_str(
                &StreamingChunk::json(format!("response.items[{item}].note"), piece).to_sse(),
            );
        }
        out.push_str(&StreamingChunk::json(format!("response.items[{item}].n"), item).to_sse());
    }
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
