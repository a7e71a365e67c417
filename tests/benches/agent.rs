//! An agent's run against the same exchange written by hand, side by side in one run over
//! loopback: 3 turns that each call 4 tools (each sleeping 50 ms), then an answer, the model's
//! events 5 ms apart. The agent starts each tool when its arguments are complete, while the
//! model still streams, and runs a turn's tools together; the hand-written loop (bare
//! `reqwest`) reads each turn's stream to its end, then calls the tools one after the other.
//! Also: the crate's time per turn without tool time (tools that return at once, events not
//! delayed).

use std::time::Duration;

use opper::testing::{MockServer, Turn};
use opper::{Agent, Tool};
use opper_tests::bench::side_by_side;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

const TURNS: usize = 3;
const TOOLS: usize = 4;
const TOOL_TIME: Duration = Duration::from_millis(50);
const EVENT_GAP: Duration = Duration::from_millis(5);

#[derive(Deserialize, JsonSchema)]
struct Args {
    n: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Answer {
    total: i64,
}

fn script(server: &MockServer, queue: &str, gap: Option<Duration>) {
    for turn in 0..TURNS {
        let calls = (0..TOOLS).fold(Turn::new(), |t, i| {
            t.call_with_id(format!("c{turn}_{i}"), "work", format!(r#"{{"n":{i}}}"#))
        });
        let reply = calls.into_reply();
        server.enqueue(
            queue,
            gap.map_or(reply.clone(), |gap| reply.chunk_delay(gap)),
        );
    }
    server.enqueue(queue, Turn::answer(r#"{"total": 6}"#).into_reply());
}

fn tool(time: Duration) -> Tool {
    Tool::new("work", "Work a while.", move |args: Args| async move {
        if !time.is_zero() {
            tokio::time::sleep(time).await;
        }
        args.n
    })
}

/// The same exchange by hand: each turn's stream read whole, then its tools one by one.
async fn by_hand(http: &reqwest::Client, url: &str) {
    let mut input = vec![json!({"type": "message", "role": "user", "content": "go"})];
    loop {
        let body = json!({"input": input, "instructions": "", "tools": [{"type": "function",
            "name": "work", "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}}}],
            "max_output_tokens": 16000, "stream": true});
        let text = http
            .post(format!("{url}/v3/compat/openresponses"))
            .header("x-opper-name", "manual")
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut calls = Vec::new();
        for line in text.lines() {
            let Some(data) = line.strip_prefix("data: ") else {
                continue;
            };
            let event: Value = serde_json::from_str(data).unwrap();
            if event["type"] == "response.output_item.done"
                && event["item"]["type"] == "function_call"
            {
                calls.push(event["item"].clone());
            }
        }
        if calls.is_empty() {
            return;
        }
        let mut outputs = Vec::new();
        for call in &calls {
            let args: Args = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
            tokio::time::sleep(TOOL_TIME).await;
            input.push(
                json!({"type": "function_call", "call_id": call["call_id"], "name": "work",
                "arguments": call["arguments"]}),
            );
            outputs.push(
                json!({"type": "function_call_output", "call_id": call["call_id"],
                "output": args.n.to_string()}),
            );
        }
        input.extend(outputs);
    }
}

#[tokio::main]
async fn main() {
    let server = MockServer::start().await;
    let opper = server.client();
    let http = reqwest::Client::new();
    let url = server.url();
    let agent = Agent::new("agent").tool(tool(TOOL_TIME));
    let (ours, theirs) = side_by_side(
        1,
        7,
        || async {
            script(&server, "agent", Some(EVENT_GAP));
            let run = agent.run::<Answer>(&opper, "go").await.unwrap();
            assert_eq!((run.tool_calls.len(), run.output.total), (TURNS * TOOLS, 6));
        },
        || async {
            script(&server, "manual", Some(EVENT_GAP));
            by_hand(&http, &url).await;
        },
    )
    .await;
    println!(
        "agent run, {TURNS} turns x {TOOLS} tools of {TOOL_TIME:?}, events {EVENT_GAP:?} apart: \
         agent {ours:?}, by hand (sequential tools) {theirs:?}, agent / by hand = {:.2}",
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
    let quick = Agent::new("quick").tool(tool(Duration::ZERO));
    let (turns, _) = side_by_side(
        3,
        21,
        || async {
            script(&server, "quick", None);
            quick.run::<Answer>(&opper, "go").await.unwrap();
        },
        || async {},
    )
    .await;
    println!(
        "without tool time: {:?} per turn ({} turns of one run, on loopback, server included)",
        turns / u32::try_from(TURNS + 1).unwrap(),
        TURNS + 1
    );
}
