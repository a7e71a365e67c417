//! API v3 as a [`RawServer`](crate::RawServer) writes it, byte for byte: a v3 [`client`], an
//! [`answer`] `{data, meta}`, the frames of a stream ([`content`], [`complete`], [`DONE`]) and a
//! whole [`stream`] of a text; and [`read`], every update of a typed stream and how it ended.

use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::Script;

/// A v3 client of `url`, without retries.
pub fn client(url: &str) -> opper::Opper {
    crate::builder(url)
        .api(opper::Api::V3)
        .retry(opper::RetryPolicy::none())
        .build()
        .expect("a client")
}

/// V3.md's `add_numbers` call, as the official client makes it (`x` 4, `y` 5, schemas,
/// instructions, model, parent span).
pub fn add_numbers(opper: &opper::Opper) -> opper::CallBuilder<'_> {
    opper
        .call("add_numbers")
        .input(&json!({"x": 4, "y": 5}))
        .input_schema(json!({
            "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
            "required": ["x", "y"], "type": "object"
        }))
        .output_schema(json!({
            "properties": {"sum": {"type": "integer"}}, "required": ["sum"], "type": "object"
        }))
        .instructions("Calculate the sum of two numbers")
        .model("openai/gpt-4o-mini")
        .parent_span_id("123e4567-e89b-12d3-a456-426614174000")
}

/// The `meta` of an answer, as the service sends it.
pub fn meta() -> Value {
    json!({
        "function_name": "add_numbers", "script_cached": true, "execution_ms": 12,
        "llm_calls": 1, "tts_calls": 0, "image_gen_calls": 0
    })
}

/// A call's answer `{data, meta}`.
pub fn answer(data: Value) -> Script {
    Script::json(200, &json!({"data": data, "meta": meta()}))
}

/// A `content` frame carrying `delta`.
pub fn content(delta: &str) -> String {
    format!("data: {}\n\n", json!({"type": "content", "delta": delta}))
}

/// The `complete` event with `data` and [`meta`].
pub fn complete(data: &Value) -> String {
    format!(
        "event: complete\ndata: {}\n\n",
        json!({"data": data, "meta": meta()})
    )
}

/// The frame that ends a stream.
pub const DONE: &str = "data: [DONE]\n\n";

/// A stream of `text`, one character per `content` delta, then `complete` with `data`, then
/// [`DONE`].
pub fn stream(text: &str, data: &Value) -> Script {
    let mut script = Script::default().sse_head();
    for c in text.chars() {
        script = script.write(content(&c.to_string()));
    }
    script.write(complete(data)).write(DONE)
}

/// A typed stream of `add`, with [`Sum`](crate::Sum)'s output schema.
pub async fn sum_stream(opper: &opper::Opper) -> opper::Stream<crate::Sum> {
    sum_stream_of(opper).await.expect("a stream")
}

/// [`sum_stream`], or the error it opened with.
pub async fn sum_stream_of(opper: &opper::Opper) -> opper::Result<opper::Stream<crate::Sum>> {
    opper
        .call("add")
        .output_type::<crate::Sum>()
        .stream::<crate::Sum>()
        .await
}

/// Every update of a stream (its json_path, delta and partial as JSON), then how it ended.
pub async fn read<T: opper::Partial + DeserializeOwned + 'static>(
    mut stream: opper::Stream<T>,
) -> (Vec<(String, Value, Value)>, opper::Result<T>) {
    let mut updates = Vec::new();
    while let Some(update) = stream.next().await {
        match update {
            Ok(update) => updates.push((
                update.json_path.clone(),
                update.delta.clone(),
                serde_json::to_value(&*update.partial).expect("a partial as JSON"),
            )),
            Err(error) => return (updates, Err(error)),
        }
    }
    (updates, stream.finish().await)
}
