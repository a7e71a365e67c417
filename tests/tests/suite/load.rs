//! Load: 1,000 concurrent calls and 1,000 concurrent streams through one client against the
//! built-in server; every one must succeed with the right typed output.

use futures::future::join_all;
use opper::testing::{MockServer, Reply};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize, JsonSchema, opper::Partial, PartialEq)]
struct Echo {
    id: u64,
    words: Vec<String>,
}

fn expected(id: u64) -> serde_json::Value {
    json!({"id": id, "words": [format!("task number {id}"), "and some more words to stream"]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_and_streams_through_one_client() {
    let server = MockServer::start().await;
    for id in 0..1000u64 {
        server.reply(format!("task-{id}"), Reply::json(expected(id)));
    }
    let opper = server.client();

    let calls = (0..1000u64).map(|id| {
        let opper = opper.clone();
        tokio::spawn(async move {
            let reply = opper
                .call(format!("task-{id}"))
                .output_type::<Echo>()
                .send::<Echo>()
                .await;
            (id, reply)
        })
    });
    for joined in join_all(calls).await {
        let (id, reply) = joined.expect("task");
        let reply = reply.unwrap_or_else(|e| panic!("call {id}: {e}"));
        assert_eq!(reply.output.id, id);
        assert_eq!(reply.output.words[0], format!("task number {id}"));
    }

    let streams = (0..1000u64).map(|id| {
        let opper = opper.clone();
        tokio::spawn(async move {
            let stream = opper
                .call(format!("task-{id}"))
                .output_type::<Echo>()
                .stream::<Echo>()
                .await;
            match stream {
                Ok(stream) => (id, stream.finish().await),
                Err(e) => (id, Err(e)),
            }
        })
    });
    for joined in join_all(streams).await {
        let (id, echo) = joined.expect("task");
        let echo = echo.unwrap_or_else(|e| panic!("stream {id}: {e}"));
        assert_eq!(
            serde_json::to_value(&echo.words).unwrap(),
            expected(id)["words"]
        );
        assert_eq!(echo.id, id);
    }
    assert_eq!(server.request_count(), 2000);
}
