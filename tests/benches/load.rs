//! 1,000 concurrent calls, then 1,000 concurrent streams, through one client against the
//! built-in server on this machine; prints wall time and peak memory.

use std::time::Instant;

use futures::future::join_all;
use opper::testing::{MockServer, Reply};
use opper_tests::bench::peak_rss_kib;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize, JsonSchema, opper::Partial)]
#[allow(dead_code)]
struct Echo {
    id: u64,
    words: Vec<String>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let server = MockServer::start().await;
    server.reply_all(Reply::json(
        json!({"id": 7, "words": ["some words to stream in pieces", "and more"]}),
    ));
    let opper = server.client();
    let base = peak_rss_kib();
    for (label, streaming) in [("calls", false), ("streams", true)] {
        let started = Instant::now();
        let jobs = (0..1000).map(|i| {
            let opper = opper.clone();
            tokio::spawn(async move {
                let call = opper.call(format!("t{i}")).output_type::<Echo>();
                if streaming {
                    call.stream::<Echo>()
                        .await
                        .expect("stream")
                        .finish()
                        .await
                        .expect("final")
                        .id
                } else {
                    call.send::<Echo>().await.expect("call").output.id
                }
            })
        });
        let ids: Vec<u64> = join_all(jobs)
            .await
            .into_iter()
            .map(|r| r.expect("task"))
            .collect();
        assert!(ids.iter().all(|id| *id == 7));
        println!("1,000 concurrent {label}: wall {:?}", started.elapsed());
    }
    println!("peak RSS: {} KiB (at start: {base} KiB)", peak_rss_kib());
}
