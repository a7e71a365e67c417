//! Hostile streams: paths too deep or too long, a huge SSE `id`, array indices that jump far
//! ahead, streams longer than the response limit or too large to record, a huge rejected output
//! and server text that forges lines. What a server sends cannot crash the process nor make it
//! build more than it sent. Each test asserts the error and a bound: the bytes
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

/// Every test of this file runs alone, from its first allocation to its last: the counting
/// allocator sees the whole process, so a test building its input on another thread while one
/// measures would be counted in the measurement.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

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

/// The heap bytes `value` holds: what dropping it frees.
fn held_by<V>(value: V) -> usize {
    freed_by_dropping(value)
}

/// What dropping `value` frees; in a test's turn.
fn freed_by_dropping<V>(value: V) -> usize {
    let region = Region::new(GLOBAL);
    drop(value);
    region.change().bytes_deallocated
}

/// Runs `task` on a `std::thread` with a 2 MiB stack, on a current-thread runtime (the server
/// runs on that thread too).
fn on_small_thread<F>(task: impl FnOnce() -> F + Send + 'static) -> F::Output
where
    F: Future,
    F::Output: Send + 'static,
{
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
fn a_path_of_10000_segments_is_an_error_in_a_spawned_task() {
    let _turn = serial();
    // A 30 KB path is refused for its length; 1,000 segments (3 KB) for their depth.
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
    println!("a path of 1,000 segments (Value): {allocated} bytes allocated");

    let body = vec![event(&node_path(300), json!("x"))];
    let (result, allocated) = in_spawned_task(stream::<Node>(body));
    assert_too_deep(&result.expect_err("a deep path fails"));
    assert!(allocated < 4 * MIB, "{allocated} bytes allocated");
}

#[test]
fn the_deepest_allowed_path_works_and_one_more_fails_in_a_spawned_task() {
    let _turn = serial();
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
fn deep_paths_and_the_deepest_allowed_run_on_a_2_mib_thread() {
    let _turn = serial();
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
fn a_deep_delta_counts_towards_the_path_depth() {
    let _turn = serial();
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
fn a_4_mib_sse_id_is_kept_once_not_per_event() {
    let _turn = serial();
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
    println!("a 4 MiB id + 2,000 events ({sent} bytes): {allocated} bytes allocated");
}

#[test]
fn an_sse_id_over_the_event_limit_is_refused() {
    let _turn = serial();
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

/// The index-jump attack: `chunks` events, each jumping 4,096 items past the previous one.
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
fn array_index_jumps_are_bounded_per_stream() {
    let _turn = serial();
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
            "index jumps ({shape}, {sent} bytes sent): {items} items, Debug {debug} bytes, \
             {allocated} bytes allocated"
        );
    }
}

#[test]
fn index_jumps_into_a_typed_vec_are_bounded_the_same_way() {
    let _turn = serial();
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
fn honest_streams_of_many_items_are_not_limited() {
    let _turn = serial();
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
    let _turn = serial();
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
fn a_path_over_the_length_limit_is_an_error() {
    let _turn = serial();
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
fn alternating_deep_paths_cost_in_proportion_to_what_was_sent() {
    let _turn = serial();
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

/// A struct with one string field.
#[derive(Debug, Deserialize, JsonSchema, opper::Partial)]
struct Text {
    text: String,
}

/// A stream is bounded like a call, over all the body bytes it receives: 32 MiB
/// of string deltas against a limit of 1 MiB end with `ResponseTooLarge`, having built little.
#[test]
fn a_stream_longer_than_the_response_limit_is_refused() {
    let _turn = serial();
    // One piece of 64 KiB, sent 512 times (shared, so that building the body allocates little).
    let piece = bytes::Bytes::from(event("response.text", json!("x".repeat(64 * 1024))));
    let sent = 512 * piece.len();
    let (result, allocated) = in_spawned_task(async move {
        let body = vec![piece; 512];
        let server = MockServer::start().await;
        server.reply("task", Reply::raw_sse(body));
        let opper = opper_tests::builder(&server.url())
            .max_response_bytes(MIB)
            .build()
            .expect("a client");
        read::<Text>(&opper).await.map(|text| text.text.len())
    });
    let error = result.expect_err("the stream is over the limit");
    assert!(
        matches!(error, Error::ResponseTooLarge { limit } if limit == MIB),
        "{error:?}"
    );
    assert!(
        allocated < 16 * MIB,
        "{allocated} bytes allocated for {sent} sent"
    );
    println!("a stream of {sent} bytes against a 1 MiB limit: {allocated} bytes allocated");
}

/// The recording a cache keeps of a stream holds no more than the response limit: 40 000
/// chunks of a span id alone (an empty chunk carries nothing and is not recorded), each in an
/// event named with 16 control characters (1.9 MB of body, under the 2 MiB limit), would be
/// recorded as 5.5 MB (a name is kept as JSON text, each of those characters written
/// `\u0001`); the stream goes on, and nothing is stored. Measured: what the
/// stream holds when its last chunk arrives (what dropping it then frees).
#[test]
fn a_stream_too_large_to_record_is_not_cached() {
    let _turn = serial();
    // Pieces of 1,000 events: each piece is decoded as its chunks are read.
    let named = format!(
        "event: {}\ndata: {{\"span_id\":\"s\"}}\n\n",
        "\u{1}".repeat(16)
    );
    let mut body = vec![named.repeat(1_000); 40];
    body.push(event("response.text", json!("done")));
    let sent: usize = body.iter().map(String::len).sum();
    let dir = opper_tests::TempDir::new("stream-recording");
    let cache_dir = dir.path().to_owned();
    let ((text, held), _) = in_spawned_task(async move {
        let server = MockServer::start().await;
        server.reply("task", Reply::raw_sse(body));
        let opper = opper_tests::builder(&server.url())
            .max_response_bytes(2 * MIB)
            .cache(opper::Cache::dir(cache_dir))
            .build()
            .expect("a client");
        let open = || opper.call("task").output_type::<Text>().stream::<Text>();
        let text = open().await.expect("a stream").finish().await;
        let mut stream = open().await.expect("a stream");
        let update = futures::StreamExt::next(&mut stream).await;
        assert!(update.is_some_and(|update| update.is_ok()));
        (text.map(|text| text.text), freed_by_dropping(stream))
    });
    assert_eq!(text.expect("the stream is within the limit"), "done");
    assert_eq!(dir.files(), Vec::<String>::new(), "nothing is cached");
    // The recording was given up at 2 MiB; what is left is the decoder's and the body's
    // buffers. Recording every event, it would hold 5.5 MB.
    assert!(
        held < 4 * MIB,
        "the stream holds {held} bytes for {sent} sent"
    );
    println!(
        "40 000 span-id chunks in named events, cache on, 2 MiB limit: the stream holds {held} bytes at the last chunk"
    );
}

/// The text of a task's rejection: always rejected, with a reason quoting server text.
fn always_rejected(text: &Text) -> Result<(), String> {
    Err(format!(
        "rejected\nFORGED: {}",
        opper_tests_prefix(&text.text)
    ))
}

fn opper_tests_prefix(text: &str) -> &str {
    text.get(..text.len().min(32)).unwrap_or("")
}

/// A re-ask quotes only the first 16 KiB of a rejected 8 MiB output, and
/// `Error::Rejected` keeps bounded copies; the JSON is never built whole (the allocations stay
/// near the output's own size, not a multiple of it).
#[test]
fn a_huge_rejected_output_is_quoted_and_kept_bounded() {
    let _turn = serial();
    let ((error, requests), allocated) = in_spawned_task(async move {
        let server = MockServer::start().await;
        server.max_body_bytes(64 * MIB);
        server.reply("task", Reply::json(json!({ "text": "y".repeat(8 * MIB) })));
        let opper = opper_tests::client(&server.url());
        let error = opper
            .call("task")
            .output_type::<Text>()
            .validate(always_rejected)
            .reasks(1)
            .send::<Text>()
            .await
            .expect_err("always rejected");
        let requests: Vec<usize> = server
            .requests_for("task")
            .iter()
            .map(|request| {
                request
                    .body
                    .as_ref()
                    .map_or(0, |body| body.to_string().len())
            })
            .collect();
        let reask = server
            .requests_for("task")
            .get(1)
            .and_then(|request| request.body.clone())
            .and_then(|body| body["instructions"].as_str().map(str::to_owned))
            .unwrap_or_default();
        (error, (requests, reask))
    });
    let (sizes, reask) = requests;
    assert_eq!(sizes.len(), 2, "{sizes:?}");
    assert!(
        sizes[1] < 32 * 1024,
        "the re-ask request is {} bytes",
        sizes[1]
    );
    assert!(
        reask.contains("[cut: only the start of the answer is quoted]"),
        "{}",
        &reask[..reask.len().min(300)]
    );
    let Error::Rejected { attempts } = &error else {
        panic!("expected Error::Rejected, got {error:?}")
    };
    assert_eq!(attempts.len(), 2);
    for attempt in attempts {
        assert!(attempt.cut);
        let kept = attempt.output.as_str().map_or(usize::MAX, str::len);
        assert!(kept <= opper::Rejection::MAX_OUTPUT_BYTES, "{kept}");
        assert!(
            attempt
                .output
                .as_str()
                .unwrap_or("")
                .starts_with("{\"text\":\"yyy")
        );
    }
    // What the error keeps: two bounded rejections, not two 8 MiB outputs.
    let kept = held_by(error);
    let bound = 2 * (opper::Rejection::MAX_OUTPUT_BYTES + opper::Rejection::MAX_REASON_BYTES);
    assert!(kept < bound + 64 * 1024, "the error keeps {kept} bytes");
    println!(
        "two rejected 8 MiB outputs: re-ask request of {} bytes, error keeps {kept} bytes, \
         {allocated} bytes allocated in all",
        sizes[1]
    );
}

/// Server text reaching `Display` and the logs is cut and escaped: an 8 MB
/// `error_message` full of newlines, an API error whose message forges a line, and a
/// rejection reason quoting the output.
#[test]
fn server_text_is_cut_and_escaped_in_messages_and_logs() {
    let _turn = serial();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (logs, _guard) = opper_tests::capture_logs();
    let forged = "\nFORGED line\r\u{1b}[31m\u{2028}\u{85}".repeat(8 * MIB / 32);
    let error_event = format!(
        "data: {}\n\n",
        json!({"chunk_type": "error", "error_type": "Bad\nFORGED type", "error_message": forged})
    );
    let (stream_error, api_error, rejected) = runtime.block_on(async move {
        let server = MockServer::start().await;
        server.reply("task", Reply::raw_sse([error_event]));
        server.reply(
            "api",
            Reply::api_error(400, "Bad\nFORGED", "one\nFORGED two\u{1b}[0m"),
        );
        server.reply(
            "rejected",
            Reply::json(json!({"text": "\nFORGED\u{2029}out"})),
        );
        let opper = opper_tests::client(&server.url());
        let stream_error = read::<Text>(&opper).await.expect_err("an error chunk");
        let api_error = opper.call("api").send::<Value>().await.expect_err("a 400");
        let rejected = opper
            .call("rejected")
            .output_type::<Text>()
            .validate(always_rejected)
            .send::<Text>()
            .await
            .expect_err("rejected");
        (stream_error, api_error, rejected)
    });
    let Error::StreamChunk { error_message, .. } = &stream_error else {
        panic!("expected StreamChunk, got {stream_error:?}")
    };
    let kept = error_message.as_deref().map_or(0, str::len);
    assert!(kept <= opper::ApiError::MAX_BODY_BYTES, "{kept} bytes kept");
    let control = |c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}';
    for error in [&stream_error, &api_error, &rejected] {
        // The message and its sources (a status's server text is its `ApiError`'s).
        let shown = opper_tests::chain(error);
        assert!(!shown.contains(control), "{shown:?}");
        assert!(
            shown.len() < 4 * opper::ApiError::MAX_BODY_BYTES,
            "{} bytes",
            shown.len()
        );
        assert!(shown.contains("FORGED"), "{shown:?}");
    }
    let logs = logs.text();
    assert!(
        logs.contains("FORGED"),
        "the server text is logged, escaped"
    );
    for line in logs.lines() {
        assert!(
            !line.trim_start().starts_with("FORGED"),
            "a forged log line: {line:?}"
        );
        assert!(!line.contains(control), "{line:?}");
        assert!(
            line.len() < 8 * opper::ApiError::MAX_BODY_BYTES,
            "a log line of {} bytes",
            line.len()
        );
    }
}
