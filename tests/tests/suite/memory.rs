//! Memory: what decoding an answer holds at its peak, measured by this binary's allocator,
//! side by side with bare `serde_json` decoding the same bytes into the same type. The rule,
//! for calls and streams on both versions: the peak is at most twice `serde_json`'s plus the
//! bytes themselves (a stream may hold its partial and its final output, not more); a `202`
//! holds its body and what it keeps.
//!
//! Run with `--nocapture` to see the figures. The allocator (the suite's `PEAK`) sees the whole
//! process: each test runs in a process of its own (`opper_tests::run_alone`), beside the
//! suite's other tests. The server's replies are `Bytes` the test keeps a handle on, so nothing
//! the server sends is freed while the client is measured.

use bytes::Bytes;
use futures::StreamExt;
use opper::testing::{MockServer, Reply};
use opper::{Api, Error, Opper, RetryPolicy};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::PEAK;

/// Whether this is the process of its own the test `name` runs in: if not, runs it there (and
/// shows what it printed).
fn alone(name: &str) -> bool {
    let path = format!("memory::{name}");
    if opper_tests::is_alone(&path) {
        return true;
    }
    print!("{}", opper_tests::run_alone(&path));
    false
}

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Item {
    n: u32,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Items {
    items: Vec<Item>,
}

/// How many items the outputs hold: about 2.4 MB of JSON.
const ITEMS: usize = 300_000;

/// The peak heap growth while `f` runs, over what was in use when it started.
fn peak_of<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = PEAK.current_usage();
    PEAK.reset_peak_usage();
    let output = f();
    (output, PEAK.peak_usage().saturating_sub(base))
}

/// The output's JSON, and the peak of bare `serde_json` reading it into `Items`.
fn output_and_baseline() -> (String, Items, usize) {
    let items = Items {
        items: (0..ITEMS).map(|i| Item { n: (i % 10) as u32 }).collect(),
    };
    let json = serde_json::to_string(&items).unwrap();
    let (read, baseline) = peak_of(|| serde_json::from_slice::<Items>(json.as_bytes()).unwrap());
    assert_eq!(read, items);
    (json, items, baseline)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Checks the rule and prints the figures: whether it holds.
#[must_use]
fn check(shape: &str, peak: usize, baseline: usize, bytes: usize) -> bool {
    let allowed = 2 * baseline + bytes;
    println!(
        "{shape}: peak {:.2} MB; serde_json alone {:.2} MB, bytes {:.2} MB, allowed {:.2} MB; \
         peak / serde_json = {:.2}",
        peak as f64 / 1e6,
        baseline as f64 / 1e6,
        bytes as f64 / 1e6,
        allowed as f64 / 1e6,
        peak as f64 / baseline as f64
    );
    peak <= allowed
}

fn client(server: &MockServer, api: Api) -> Opper {
    server
        .client_builder()
        .api(api)
        .retry(RetryPolicy::none())
        .build()
        .expect("a client")
}

#[test]
fn a_large_call_answer_is_read_straight_into_its_type() {
    if !alone("a_large_call_answer_is_read_straight_into_its_type") {
        return;
    }
    let (json, items, baseline) = output_and_baseline();
    let runtime = runtime();
    let server = runtime.block_on(MockServer::start());
    let bodies = [
        (
            Api::V3,
            format!(r#"{{"data": {json}, "meta": {{"function_name": "f"}}}}"#),
        ),
        (
            Api::V2,
            format!(r#"{{"span_id": "s", "json_payload": {json}}}"#),
        ),
    ];
    let mut over = Vec::new();
    for (api, body) in bodies {
        let body = Bytes::from(body);
        let task = format!("call-{api}");
        server.reply(&task, Reply::status(200).body(body.clone()));
        let opper = client(&server, api);
        let (reply, peak) =
            peak_of(|| runtime.block_on(opper.call(&task).output_type::<Items>().send::<Items>()));
        assert_eq!(reply.unwrap().output, items);
        if !check(&format!("{api} call"), peak, baseline, body.len()) {
            over.push(api);
        }
    }
    assert!(over.is_empty(), "over the rule: {over:?}");
}

#[test]
fn a_large_stream_holds_its_partial_and_its_final_output() {
    if !alone("a_large_stream_holds_its_partial_and_its_final_output") {
        return;
    }
    let (json, items, baseline) = output_and_baseline();
    let runtime = runtime();
    let server = runtime.block_on(MockServer::start());
    let complete = Bytes::from(format!(
        "event: complete\ndata: {}\n\n",
        json!({"data": serde_json::from_str::<serde_json::Value>(&json).unwrap(), "meta": {"function_name": "f"}})
    ));
    let done = Bytes::from_static(b"data: [DONE]\n\n");
    // The text in deltas of 4 KiB, then `complete`; `complete` alone; v2 chunks, one per item.
    let mut text: Vec<Bytes> = json
        .as_bytes()
        .chunks(4096)
        .map(|piece| {
            let delta = std::str::from_utf8(piece).unwrap();
            Bytes::from(format!(
                "data: {}\n\n",
                json!({"type": "content", "delta": delta})
            ))
        })
        .collect();
    text.extend([complete.clone(), done.clone()]);
    let alone = vec![complete.clone(), done.clone()];
    // (A thousand chunks a piece: the server's list of pieces is allocated while it serves.)
    let chunk = |(i, item): (usize, &Item)| {
        format!(
            "data: {}\n\n",
            json!({"json_path": format!("response.items[{i}].n"), "delta": item.n, "chunk_type": "json"})
        )
    };
    let all: Vec<(usize, &Item)> = items.items.iter().enumerate().collect();
    let mut chunks: Vec<Bytes> = all
        .chunks(1000)
        .map(|piece| Bytes::from(piece.iter().copied().map(chunk).collect::<String>()))
        .collect();
    chunks.insert(0, Bytes::from_static(b"data: {\"span_id\": \"s\"}\n\n"));
    let shapes = [
        ("v3 stream, text then complete", Api::V3, text),
        ("v3 stream, complete alone", Api::V3, alone),
        ("v2 stream, a chunk per item", Api::V2, chunks),
    ];
    let mut over = Vec::new();
    for (shape, api, pieces) in shapes {
        let task = shape.replace([' ', ','], "-");
        server.reply(&task, Reply::raw_sse(pieces.clone()));
        let opper = client(&server, api);
        let (output, peak) = peak_of(|| {
            runtime.block_on(async {
                let mut stream = opper
                    .call(&task)
                    .output_type::<Items>()
                    .stream::<Items>()
                    .await?;
                while let Some(update) = stream.next().await {
                    update?;
                }
                stream.finish().await
            })
        });
        assert_eq!(output.unwrap(), items, "{shape}");
        if !check(shape, peak, baseline, json.len()) {
            over.push(shape);
        }
    }
    assert!(over.is_empty(), "over the rule: {over:?}");
}

#[test]
fn a_202_skips_the_operations_it_does_not_keep() {
    if !alone("a_202_skips_the_operations_it_does_not_keep") {
        return;
    }
    let runtime = runtime();
    let server = runtime.block_on(MockServer::start());
    let count = 200_000;
    let mut body =
        String::from(r#"{"data": null, "meta": {"status": "pending", "pending_operations": ["#);
    for i in 0..count {
        body.push_str(if i == 0 { "{}" } else { ",{}" });
    }
    body.push_str("]}}");
    let body = Bytes::from(body);
    for (task, stream) in [("pending-call", false), ("pending-stream", true)] {
        server.reply(task, Reply::status(202).body(body.clone()));
        let opper = client(&server, Api::V3);
        let (error, peak) = peak_of(|| {
            runtime.block_on(async {
                match stream {
                    false => opper.call(task).send::<String>().await.map(|_| ()),
                    true => opper.call(task).stream::<String>().await.map(|_| ()),
                }
            })
        });
        let Err(Error::Pending { operations }) = error else {
            panic!("{error:?}")
        };
        assert_eq!(operations.len(), opper::PendingOperation::MAX_KEPT);
        // Its body (read by doubling a buffer: at most twice its size while it grows) and the
        // operations it keeps.
        let allowed = 3 * body.len() + 64 * 1024;
        println!(
            "202 on a {}: {count} operations, body {:.2} MB, peak {:.2} MB, allowed {:.2} MB",
            if stream { "stream" } else { "call" },
            body.len() as f64 / 1e6,
            peak as f64 / 1e6,
            allowed as f64 / 1e6
        );
        assert!(peak <= allowed, "peak {peak} > {allowed}");
    }
}
