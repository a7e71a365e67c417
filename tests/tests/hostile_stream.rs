//! Hostile streams (issue 13, rows 1 to 3): what a server sends cannot crash the process nor
//! make it build more than it sent. Each test asserts the error and a bound: the bytes
//! allocated while the stream ran (counted by this binary's allocator), the items created, or
//! the size of the error.
//!
//! The tests take turns (one lock), so each one's allocation count is its own.

use std::alloc::System;
use std::future::Future;
use std::sync::{Mutex, PoisonError};

use opper::partial::{FREE_ITEMS, MAX_DEPTH, MAX_PATH_BYTES};
use opper::testing::{MockServer, Reply};
use opper::{Error, Opper};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

static SERIAL: Mutex<()> = Mutex::new(());

const MIB: usize = 1024 * 1024;

/// A recursive output type.
#[derive(Debug, Deserialize, JsonSchema, opper::Partial)]
struct Node {
    label: Option<String>,
    children: Vec<Node>,
}

/// One `json` chunk framed as an SSE event.
fn event(json_path: &str, delta: Value) -> String {
    format!(
        "data: {}\n\n",
        json!({"json_path": json_path, "delta": delta, "chunk_type": "json"})
    )
}

/// Runs `task` in `tokio::spawn` on a fresh multi-thread runtime (workers have the default
/// 2 MiB stack); returns its output and the bytes allocated while it ran.
fn in_spawned_task<F>(task: F) -> (F::Output, usize)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let _turn = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let region = Region::new(GLOBAL);
    let output = runtime.block_on(async { tokio::spawn(task).await.expect("the task panicked") });
    let allocated = region.change().bytes_allocated;
    drop(runtime);
    (output, allocated)
}

/// Runs `task` on a `std::thread` with a 2 MiB stack, on a current-thread runtime (the server
/// runs on that thread too).
fn on_small_thread<F>(task: impl FnOnce() -> F + Send + 'static) -> F::Output
where
    F: Future,
    F::Output: Send + 'static,
{
    let _turn = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    std::thread::Builder::new()
        .stack_size(2 * MIB)
        .spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(task())
        })
        .expect("a thread")
        .join()
        .expect("the thread panicked (or overflowed its stack)")
}

/// Serves `body` (raw SSE) to a typed stream of `T` and reads it to the end.
async fn stream<T>(body: Vec<String>) -> opper::Result<T>
where
    T: opper::Partial + serde::de::DeserializeOwned + JsonSchema + std::fmt::Debug + 'static,
{
    let server = MockServer::start().await;
    server.reply("task", Reply::raw_sse(body));
    let opper = opper_tests::client(&server.url());
    read::<T>(&opper).await
}

async fn read<T>(opper: &Opper) -> opper::Result<T>
where
    T: opper::Partial + serde::de::DeserializeOwned + JsonSchema + std::fmt::Debug + 'static,
{
    opper
        .call("task")
        .output_type::<T>()
        .stream::<T>()
        .await?
        .finish()
        .await
}

fn value_path(depth: usize) -> String {
    format!("response{}", "[0]".repeat(depth))
}

fn node_path(levels: usize) -> String {
    format!("response{}.label", ".children[0]".repeat(levels))
}

/// The depth error: an `InvalidChunk` that names the limit and stays small.
fn assert_too_deep(error: &Error) {
    assert_refused(error, &format!("{MAX_DEPTH}"));
}

/// An `InvalidChunk` whose reason contains `needle`, and that stays small.
fn assert_refused(error: &Error, needle: &str) {
    match error {
        Error::InvalidChunk { reason, data, .. } => {
            assert!(reason.contains(needle), "{reason}");
            assert!(data.len() < 600, "the event is quoted short: {data}");
        }
        other => panic!("expected InvalidChunk, got {other:?}"),
    }
    assert!(
        format!("{error:?}").len() < 2_000,
        "{} bytes of Debug",
        format!("{error:?}").len()
    );
}

fn value_depth(value: &Value) -> usize {
    let mut depth = 0;
    let mut at = value;
    while let Some(first) = at.as_array().and_then(|items| items.first()) {
        depth += 1;
        at = first;
    }
    depth
}

#[test]
fn row1_a_path_of_10000_segments_is_an_error_in_a_spawned_task() {
    // The 30 KB path is refused for its length; 1,000 segments (3 KB) for their depth.
    let path = value_path(10_000);
    assert!(path.len() > 30_000);
    let body = vec![event(&path, json!("x"))];
    let (result, allocated) = in_spawned_task(stream::<Value>(body));
    assert_refused(&result.expect_err("a long path fails"), "longer than");
    assert!(allocated < 4 * MIB, "{allocated} bytes allocated");
    let body = vec![event(&value_path(1_000), json!("x"))];
    let (result, allocated) = in_spawned_task(stream::<Value>(body));
    assert_too_deep(&result.expect_err("a deep path fails"));
    // A client, a server and one HTTP exchange: about 2 MiB whatever the path.
    assert!(allocated < 4 * MIB, "{allocated} bytes allocated");
    println!("row 1 (Value, 1,000 segments): {allocated} bytes allocated");

    let body = vec![event(&node_path(300), json!("x"))];
    let (result, allocated) = in_spawned_task(stream::<Node>(body));
    assert_too_deep(&result.expect_err("a deep path fails"));
    assert!(allocated < 4 * MIB, "{allocated} bytes allocated");
}

#[test]
fn row1_the_deepest_allowed_path_works_and_one_more_fails_in_a_spawned_task() {
    let body = vec![event(&value_path(MAX_DEPTH), json!("x"))];
    let (result, _) = in_spawned_task(stream::<Value>(body));
    assert_eq!(
        value_depth(&result.expect("the deepest path works")),
        MAX_DEPTH
    );
    let body = vec![event(&value_path(MAX_DEPTH + 1), json!("x"))];
    let (result, _) = in_spawned_task(stream::<Value>(body));
    assert_too_deep(&result.expect_err("one more fails"));

    // `children[0]` is two levels, `label` one: 63 nodes reach 127 levels.
    let body = vec![event(&node_path(63), json!("leaf"))];
    let (result, _) = in_spawned_task(stream::<Node>(body));
    let mut node = &result.expect("a deep tree works");
    let mut levels = 0;
    while let Some(child) = node.children.first() {
        node = child;
        levels += 1;
    }
    assert_eq!((levels, node.label.as_deref()), (63, Some("leaf")));
    let body = vec![event(&node_path(64), json!("leaf"))];
    let (result, _) = in_spawned_task(stream::<Node>(body));
    assert_too_deep(&result.expect_err("one more level fails"));
}

#[test]
fn row1_deep_paths_and_the_deepest_allowed_on_a_2_mib_thread() {
    let (deep, deepest, tree) = on_small_thread(|| async {
        let deep = stream::<Value>(vec![event(&value_path(1_000), json!("x"))]).await;
        let deepest = stream::<Value>(vec![event(&value_path(MAX_DEPTH), json!("x"))]).await;
        let tree = stream::<Node>(vec![event(&node_path(63), json!("x"))]).await;
        // Dropped here, on the small stack, too.
        (
            deep.map(|_| ()),
            deepest.map(|v| value_depth(&v)),
            tree.is_ok(),
        )
    });
    assert_too_deep(&deep.expect_err("a deep path fails"));
    assert_eq!(deepest.expect("the deepest path works"), MAX_DEPTH);
    assert!(tree);
}

#[test]
fn row1_a_deep_delta_counts_towards_the_depth() {
    // 100 levels of path and 100 of array in the delta: 200 > 128.
    let mut delta = json!("x");
    for _ in 0..100 {
        delta = json!([delta]);
    }
    let body = vec![event(&value_path(100), delta)];
    let (result, _) = in_spawned_task(stream::<Value>(body));
    assert_too_deep(&result.expect_err("a deep delta fails"));
}

#[test]
fn row2_a_4_mib_id_is_kept_once_not_per_event() {
    let id = "i".repeat(4 * MIB);
    let mut body = vec![format!("id: {id}\n")];
    body.extend(
        (0..2_000).map(|_| "data: {\"delta\": \"x\", \"chunk_type\": \"text\"}\n\n".into()),
    );
    let sent: usize = body.iter().map(String::len).sum();
    let (result, allocated) = in_spawned_task(async move {
        let server = MockServer::start().await;
        server.reply("task", Reply::raw_sse(body));
        let opper = opper_tests::client(&server.url());
        opper.call("task").stream::<String>().await?.finish().await
    });
    assert_eq!(result.expect("the stream works").len(), 2_000);
    // Before: each of the 2,000 events held a copy of the id (8 GB). Now: the line buffer as
    // it grows, the id once, and the HTTP buffers (16 MB in debug, 31 MB in release).
    assert!(
        allocated < 64 * MIB,
        "{allocated} bytes allocated for {sent} sent"
    );
    println!("row 2 (4 MiB id + 2,000 events, {sent} bytes): {allocated} bytes allocated");
}

#[test]
fn row2_an_id_over_the_event_limit_is_refused() {
    let mut body = vec!["data: {\"delta\": \"ok\", \"chunk_type\": \"text\"}\n\n".to_owned()];
    body.push(format!("id: {}\n", "i".repeat(4 * MIB)));
    body.extend(
        (0..2_000).map(|_| "data: {\"delta\": \"x\", \"chunk_type\": \"text\"}\n\n".into()),
    );
    let (result, allocated) = in_spawned_task(async move {
        let server = MockServer::start().await;
        server.reply("task", Reply::raw_sse(body));
        let opper = opper_tests::builder(&server.url())
            .max_event_bytes(MIB)
            .build()
            .expect("a client");
        opper.call("task").stream::<String>().await?.finish().await
    });
    let error = result.expect_err("the id is over the limit");
    assert!(
        matches!(&error, Error::EventTooLarge { limit, partial } if *limit == MIB && partial == "ok"),
        "{error:?}"
    );
    assert!(allocated < 32 * MIB, "{allocated} bytes allocated");
}

/// Row 3's attack: `chunks` events, each jumping 4,096 items past the previous one.
fn jumps(chunks: usize, path: impl Fn(usize) -> String) -> Vec<String> {
    (0..chunks).map(|k| event(&path(k), json!("x"))).collect()
}

fn assert_too_many_items(error: &Error) {
    match error {
        Error::InvalidChunk { reason, .. } => {
            assert!(reason.contains("array items"), "{reason}");
        }
        other => panic!("expected InvalidChunk, got {other:?}"),
    }
}

/// The items of the arrays in `value`, counted to any depth.
fn items_in(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.len() + items.iter().map(items_in).sum::<usize>(),
        Value::Object(map) => map.values().map(items_in).sum(),
        _ => 0,
    }
}

#[test]
fn row3_index_jumps_are_bounded_per_stream() {
    type Shape = (&'static str, fn(usize) -> String);
    let shapes: [Shape; 2] = [
        ("flat", |k| format!("response[{}]", (k + 1) * 4_096)),
        ("nested", |k| format!("response[{k}][4096]")),
    ];
    for (shape, path) in shapes {
        let body = jumps(4_000, path);
        let sent: usize = body.iter().map(String::len).sum();
        let (result, allocated) = in_spawned_task(stream::<Value>(body));
        let error = result.expect_err("the jumps are refused");
        assert_too_many_items(&error);
        // The stream stopped at the second chunk: what it kept is what two chunks paid for.
        let items = items_in(error.partial().expect("the partial is kept"));
        assert!(items <= FREE_ITEMS + 64, "{shape}: {items} items created");
        let debug = format!("{error:?}").len();
        assert!(debug < 64 * 1024, "{shape}: {debug} bytes of Debug");
        assert!(allocated < 8 * MIB, "{shape}: {allocated} bytes allocated");
        println!(
            "row 3 ({shape}, {sent} bytes sent): {items} items, Debug {debug} bytes, \
             {allocated} bytes allocated"
        );
    }
}

#[test]
fn row3_a_typed_vec_is_bounded_the_same_way() {
    let body = jumps(4_000, |k| format!("response[{}].name", (k + 1) * 4_096));
    let (result, allocated) = in_spawned_task(stream::<Vec<opper_tests::Person>>(body));
    let error = result.expect_err("the jumps are refused");
    assert_too_many_items(&error);
    let items = error
        .partial()
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    assert!(items <= FREE_ITEMS + 64, "{items} items created");
    assert!(format!("{error:?}").len() < 128 * 1024);
    assert!(allocated < 16 * MIB, "{allocated} bytes allocated");
}

#[test]
fn row3_honest_streams_are_not_limited() {
    // 20,000 items, one chunk each, after a first jump over 4,000 items the service skipped.
    let mut body = vec![event("response[4000]", json!("first"))];
    body.extend((4_001..24_000).map(|i| event(&format!("response[{i}]"), json!("x"))));
    let (result, _) = in_spawned_task(stream::<Vec<Value>>(body));
    let items = result.expect("an honest stream works");
    assert_eq!(items.len(), 24_000);
    assert_eq!(items[4_000], "first");
    assert!(items[..4_000].iter().all(Value::is_null));
}

#[test]
fn the_fuzz_seeds_for_deep_paths_and_huge_ids_run_on_a_2_mib_thread() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus");
    let read = |target: &str, seed: &str| {
        std::fs::read(format!("{root}/{target}/{seed}")).expect("a seed file")
    };
    let seeds = [
        ("json_path", "seed-deep-path"),
        ("json_path", "seed-deepest-allowed"),
        ("reassembler", "seed-deep-path"),
        ("reassembler", "seed-deep-delta"),
        ("reassembler", "seed-index-jumps"),
        ("sse_decoder", "seed-deep-path"),
        ("sse_decoder", "seed-huge-id"),
        ("sse_decoder", "seed-small-id-many-events"),
        ("json_text", "seed-deep"),
        ("json_text", "seed-fenced-doc"),
    ]
    .map(|(target, seed)| (target, read(target, seed)));
    on_small_thread(move || async move {
        for (target, data) in &seeds {
            match *target {
                "json_path" => opper::__fuzz::json_path(std::str::from_utf8(data).expect("text")),
                "reassembler" => opper::__fuzz::assemble(data),
                "json_text" => opper::__fuzz::json_text(data),
                _ => opper::__fuzz::sse(data),
            }
        }
    });
}

#[test]
fn row1_a_path_over_the_length_limit_is_an_error() {
    let path = format!("response.{}", "k".repeat(MAX_PATH_BYTES));
    let (result, _) = in_spawned_task(stream::<Value>(vec![event(&path, json!("x"))]));
    match result.expect_err("a long path fails") {
        Error::InvalidChunk { reason, .. } => {
            assert!(reason.contains("longer than 4096 bytes"), "{reason}");
            assert!(reason.len() < 600, "{reason}");
        }
        other => panic!("expected InvalidChunk, got {other:?}"),
    }
}

#[test]
fn row1_alternating_deep_paths_cost_in_proportion_to_what_was_sent() {
    // Two paths of 127 levels that part at the first: each chunk completes 127 levels of the
    // other, and `Update::completed` lists them all.
    let deep = |first: &str| format!("response.{first}{}", "[0]".repeat(MAX_DEPTH - 1));
    let body: Vec<String> = (0..400)
        .map(|i| event(&deep(if i % 2 == 0 { "a" } else { "b" }), json!("x")))
        .collect();
    let sent: usize = body.iter().map(String::len).sum();
    let (counts, allocated) = in_spawned_task(async move {
        let server = MockServer::start().await;
        server.reply("task", Reply::raw_sse(body));
        let opper = opper_tests::client(&server.url());
        let mut stream = opper
            .call("task")
            .output_type::<Value>()
            .stream::<Value>()
            .await
            .expect("a stream");
        let mut completed = Vec::new();
        while let Some(update) = futures::StreamExt::next(&mut stream).await {
            completed.push(update.expect("an update").completed.len());
        }
        completed
    });
    assert_eq!(counts.len(), 400);
    assert!(
        counts[1..].iter().all(|&n| n == MAX_DEPTH),
        "{:?}",
        &counts[..3]
    );
    // Each update's `completed` is at most MAX_DEPTH paths of at most MAX_PATH_BYTES.
    assert!(
        allocated < 4 * MIB + 400 * MAX_DEPTH * 400,
        "{allocated} bytes allocated for {sent} sent"
    );
    println!("alternating deep paths ({sent} bytes sent): {allocated} bytes allocated");
}
