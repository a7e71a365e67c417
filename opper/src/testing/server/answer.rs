//! The answer step: the reply's pacing and faults, then its body in the route's version.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use hyper::StatusCode;
use serde_json::Value;

use super::read::Read;
use super::respond::{Stop, plain};
use super::route::{Endpoint, Route};
use super::state::{Shared, lock};
use crate::testing::reply::{Body, Reply, StreamFault};
use crate::testing::rng::Rng;
use crate::testing::schema::{Generator, hash_str, uuid_like, words};
use crate::testing::wire::{Answer, Exchange, Output, Protocol};
use crate::testing::{openresponses, spans, v2, v3};

/// The spans endpoints answer from their own store.
pub(crate) fn spans(shared: &Shared, method: &str, path: &str, read: &Read) -> Answer {
    let seed = shared.seed.load(Ordering::Relaxed);
    let mut store = lock(&shared.spans);
    match spans::answer(&mut store, seed, method, path, read.body.as_ref()) {
        (status, Some(body)) => Answer::json(status, &body),
        (status, None) => Answer::Json(status, Bytes::new()),
    }
}

/// The answer to a task's request with `reply`: after its delay, unless it stalls or drops
/// the connection.
pub(crate) async fn answer(
    shared: &Shared,
    route: &Route,
    endpoint: Endpoint,
    read: &Read,
    name: &str,
    reply: &Reply,
) -> Result<Answer, Stop> {
    let wire = route.wire;
    let request_number = shared.counter.fetch_add(1, Ordering::Relaxed);
    let seed = shared.seed.load(Ordering::Relaxed);
    let mut rng = Rng::new(seed ^ request_number.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let fresh_id = uuid_like(rng.next_u64(), rng.next_u64());
    let span_id = reply.span_id.clone().unwrap_or_else(|| fresh_id.clone());
    let execution_ms = rng.below(400).saturating_add(40);
    pace(reply, endpoint).await?;

    let task_seed = seed ^ hash_str(name);
    let body = read.body.as_ref();
    if endpoint == Endpoint::Agent
        && let Some(pieces) = openresponses::answer(&reply.body, body, task_seed)
    {
        return Ok(Answer::Stream(pieces));
    }
    let exchange = Exchange {
        name,
        request: body,
        request_len: read.raw_body.len(),
        fresh_id: &fresh_id,
        span_id: &span_id,
        execution_ms,
        task_seed,
        reply,
    };
    let output = match &reply.body {
        Body::Json(value) => Output::Json(value.clone()),
        Body::Text(text) => Output::Text(text.clone()),
        Body::Generated => generated(body, name, task_seed)
            .map_err(|message| Stop::from(plain(wire.too_much(&message))))?,
        Body::Status {
            status,
            body,
            content_type,
            error,
        } => {
            return Ok(status_answer(
                wire,
                *status,
                body.as_ref(),
                content_type.as_deref(),
                error.as_ref(),
            ));
        }
        Body::Pending { id, kind } => return Ok(pending(&exchange, id, kind)),
        Body::Events(events) => {
            return Ok(Answer::Stream(
                events.iter().map(|event| wire.event(event)).collect(),
            ));
        }
        Body::Raw(pieces) => return Ok(Answer::Stream(pieces.clone())),
    };
    Ok(wire.answer(output, &exchange, endpoint.streams()))
}

/// Waits out the reply's delay; never ends for a stall, stops for a dropped connection (on
/// a call, a stream's stall or drop fault is one too).
async fn pace(reply: &Reply, endpoint: Endpoint) -> Result<(), Stop> {
    if let Some(delay) = reply.delay {
        tokio::time::sleep(delay).await;
    }
    if reply.stall
        || (endpoint == Endpoint::Call && matches!(reply.fault, Some(StreamFault::Stall(_))))
    {
        std::future::pending::<()>().await;
    }
    if reply.drop_connection
        || (endpoint == Endpoint::Call && matches!(reply.fault, Some(StreamFault::Drop(_))))
    {
        return Err(Stop::Drop);
    }
    Ok(())
}

/// A scripted status: its body as it is, else an error in the version's shape (the status's
/// own words unless scripted), else nothing.
fn status_answer(
    wire: &dyn Protocol,
    status: u16,
    body: Option<&Bytes>,
    content_type: Option<&str>,
    error: Option<&(String, String)>,
) -> Answer {
    if let Some(raw) = body {
        let content_type = content_type.unwrap_or("application/json");
        return Answer::Typed(status, raw.clone(), content_type.to_owned());
    }
    if status < 400 && error.is_none() {
        return Answer::Json(status, Bytes::new());
    }
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let (error_type, message) = match error {
        Some((error_type, message)) => (error_type.as_str(), message.as_str()),
        None => (v2::error_type_for(status), reason),
    };
    Answer::json(
        status,
        &wire.error(status, error_type, message, Value::Null),
    )
}

/// A 202 with a pending operation (v3's PendingResponse).
fn pending(exchange: &Exchange<'_>, id: &str, kind: &str) -> Answer {
    let meta = v3::pending_meta(
        &v3::MetaInput {
            name: exchange.name,
            request: exchange.request,
            request_len: exchange.request_len,
            output_len: 0,
            trace_uuid: exchange.fresh_id.to_owned(),
            execution_ms: exchange.execution_ms,
        },
        id,
        kind,
        exchange.reply,
    );
    Answer::Json(202, Bytes::from(v3::response(&Value::Null, &meta)))
}

/// A generated output: a value within the request's `output_schema`, else a sentence of text.
/// A schema that asks for more than the generator makes is the error's message.
fn generated(request: Option<&Value>, name: &str, task_seed: u64) -> Result<Output, String> {
    let schema = request
        .and_then(|b| b.get("output_schema"))
        .filter(|s| !s.is_null());
    match schema {
        Some(schema) => Generator::new()
            .seed(task_seed)
            .generate_within_limits(schema)
            .map(Output::Json)
            .map_err(|(_, why)| {
                format!("The schema asks for more than the built-in server generates: {why}")
            }),
        None => {
            let mut rng = Rng::new(task_seed);
            Ok(Output::Text(format!(
                "This is a mock reply for {name}: {}.",
                words(&mut rng, 8)
            )))
        }
    }
}
