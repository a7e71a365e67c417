//! A typed call through `opper` against the built-in server, side by side with the same POST
//! made with bare `reqwest` + `serde_json`. Prints the medians and their ratio (target <= 1.10).

use opper::testing::{MockServer, Reply};
use opper_tests::bench::side_by_side;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Sum {
    sum: i64,
    explanation: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let server = MockServer::start().await;
    let output = json!({"sum": 9, "explanation": "four plus five is nine"});
    server.reply("add_numbers", Reply::json(output));
    let opper = opper::Opper::builder()
        .api_key("bench-key")
        .base_url(server.url())
        .build()
        .expect("client");
    let input_schema = json!({"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}}});
    let task = opper::Task::new("add_numbers")
        .instructions("Calculate the sum of two numbers")
        .input_schema(input_schema.clone())
        .output_type::<Sum>()
        .model("openai/gpt-4o-mini");
    let input = json!({"x": 4, "y": 5});

    let bare = reqwest::Client::new();
    let url = format!("{}/v2/call", server.url());
    let body = serde_json::to_vec(&json!({
        "name": "add_numbers",
        "instructions": "Calculate the sum of two numbers",
        "input_schema": input_schema,
        "output_schema": task.get_output_schema(),
        "input": input,
        "model": "openai/gpt-4o-mini",
    }))
    .expect("body");

    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2000);
    let (typed, raw) = side_by_side(
        200,
        rounds,
        || async {
            let reply = opper
                .task(&task)
                .input(&input)
                .send::<Sum>()
                .await
                .expect("typed call");
            std::hint::black_box(reply);
        },
        || async {
            let response = bare
                .post(&url)
                .bearer_auth("bench-key")
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .body(body.clone())
                .send()
                .await
                .expect("bare call");
            let bytes = response.bytes().await.expect("body");
            let value: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
            let sum: Sum = serde_json::from_value(value["json_payload"].clone()).expect("typed");
            std::hint::black_box(sum);
        },
    )
    .await;
    println!("typed call (opper):        median {typed:?}");
    println!("bare reqwest + serde_json: median {raw:?}");
    println!(
        "ratio opper / bare: {:.3} (target <= 1.10)",
        typed.as_secs_f64() / raw.as_secs_f64()
    );
}
