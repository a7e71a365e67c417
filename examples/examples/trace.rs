//! Traces: a block of calls shows as one trace in Opper, nested under a span, on v2 and v3
//! clients alike; and the same spans as `tracing` spans, printed here by a `tracing-subscriber`
//! fmt layer (an OpenTelemetry exporter would take them the same way: see the crate docs).
//! Offline on the built-in server when `OPPER_API_KEY` is unset, where the span tree Opper
//! would show is printed at the end.
//!
//! ```sh
//! cargo run --example trace
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tracing_subscriber::fmt::format::FmtSpan;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct City {
    name: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct DayPlan {
    morning: String,
    afternoon: String,
}

/// Pick the city the text is about.
#[opper::function(model = "openai/gpt-4o-mini")]
async fn pick_city(text: String) -> opper::Result<City>;

/// Plan a day out in the city.
#[opper::function(model = "openai/gpt-4o-mini")]
async fn plan_day(city: String) -> opper::Result<DayPlan>;

#[derive(Debug, Serialize)]
struct TripRequest {
    user: String,
    text: String,
}

#[tokio::main]
async fn main() -> opper::Result<()> {
    // Every call, stream and trace is a `tracing` span; print each one as it closes, with its
    // fields (`gen_ai.*`, `span_id`, `latency_ms`, ...).
    tracing_subscriber::fmt()
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        .init();

    let backend = opper::testing::Backend::from_env().await;
    let opper = backend.client()?;
    let request = TripRequest {
        user: "u_123".into(),
        text: "A weekend in Lisbon, please.".into(),
    };

    // One trace, "plan-trip", with both calls and a nested trace under it.
    let plan = opper::Trace::new("plan-trip")
        .input(&request)
        .tags([("user", request.user.as_str())])
        .meta(serde_json::json!({"release": "1.4"}))
        .client(&opper)
        .run(async {
            let city = pick_city(request.text.clone()).await?;
            let here = opper::current_span().expect("inside the trace");
            println!("in span {} of trace {}", here.id(), here.trace_id());
            // The shorthand, with the default client: a span under "plan-trip".
            opper::trace("plan-day", plan_day(city.name)).await
        })
        .await?;
    println!("{plan:#?}");

    if let Some(server) = backend.server() {
        for root in server.spans() {
            print_tree(&root, 0);
        }
    }
    Ok(())
}

/// A span and the spans under it, indented.
fn print_tree(span: &opper::testing::RecordedSpan, depth: usize) {
    println!(
        "{:indent$}{} (ended: {}, input: {:?})",
        "",
        span.name,
        span.end_time.is_some(),
        span.input,
        indent = depth * 2
    );
    for child in &span.children {
        print_tree(child, depth + 1);
    }
}
