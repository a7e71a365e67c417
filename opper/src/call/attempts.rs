//! The attempts of a call or a stream: each is looked up in the cache, else sent (with its
//! retries); a call's output is judged and asked again while the task's policy rejects it. A
//! stream's re-asks are driven by the typed stream, which opens each attempt here.

use std::time::Instant;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::cache::{Answer, CallAnswer, Lookup, Store, StreamAnswer};
use crate::client::Opper;
use crate::error::Result;
use crate::protocol::Endpoint;
use crate::reask::output::OutputText;
use crate::reask::{Policy, Reasker, Step};
use crate::response::Response;
use crate::stream::chunks::ChunkStream;
use crate::task::Task;
use crate::trace::parent;
use crate::trace::{self, Kind};

fn span(client: &Opper, kind: Kind, task: &Task, attempt: u32) -> tracing::Span {
    let model = task.get_model().and_then(|model| model.get_name());
    trace::call_span(client.api().label(), kind, task.get_name(), model, attempt)
}

/// Looks `body` up in the client's cache, if it has one, and records `cache` on `span`.
/// In read-write mode only a first attempt looks: a re-ask is a request the caller never
/// made. A replay-only cache is asked every time, so a re-ask there is a miss, never a
/// request (the re-ask policy stops before one: [`Policy::replaying`]).
async fn lookup<A: Answer + Send + 'static>(
    client: &Opper,
    task: &Task,
    body: &Bytes,
    attempt: u32,
    span: &tracing::Span,
) -> Result<Option<Lookup<A>>> {
    let cache = client.cache();
    let Some(cache) = cache.filter(|cache| attempt == 1 || cache.is_replay_only()) else {
        return Ok(None);
    };
    let lookup = cache
        .lookup::<A>(client.api(), task.get_name(), body.clone())
        .await;
    let hit = matches!(lookup, Ok(Lookup::Hit(_)));
    span.record("cache", if hit { "hit" } else { "miss" });
    lookup.map(Some)
}

/// A call (v2 `POST /v2/call`, v3 `POST /v3/functions/{name}/call`), retried as the retry
/// policy says; the output deserialized into `T` and
/// judged by `policy`, the task asked again while it rejects the output and re-asks remain.
pub(crate) async fn execute<T: DeserializeOwned>(
    client: &Opper,
    task: &Task,
    input: Option<&RawValue>,
    parent: Option<&str>,
    policy: &Policy<T>,
) -> Result<Response<T>> {
    // A replayed answer that is rejected cannot be asked again: that would be a request.
    let replaying;
    let policy = match client.replays_only() {
        true => {
            replaying = policy.clone().replaying(task.get_name());
            &replaying
        }
        false => policy,
    };
    // Resolved once: every re-ask has the parent of the first attempt.
    let parent = parent::resolve(parent);
    let parent = parent.as_deref();
    let original = task.get_instructions();
    let mut reasker = Reasker::new();
    let mut reask: Option<Task> = None;
    // The first attempt's cache entry: the accepted answer is stored under the request as
    // the caller made it, so a replay of that request is served whichever attempt passed.
    let mut store = None;
    loop {
        let attempt = reasker.attempt();
        let asked = reask.as_ref().unwrap_or(task);
        let CallAttempt {
            response,
            span,
            started,
            live,
            missed,
        } = call_attempt(client, asked, input, parent, attempt).await?;
        if attempt == 1 {
            store = missed;
        }
        match reasker.judge_response(policy, original, response, &span) {
            Ok(Step::Done(response)) => {
                if let (Some(store), Some(bytes)) = (store.take(), live) {
                    store.call(bytes).await;
                }
                trace::record_accepted(&span, started);
                return Ok(response);
            }
            Ok(Step::Again(instructions)) => {
                trace::record_rejected(&span, started);
                reask = Some(task.clone().instructions(instructions));
            }
            Err(error) => {
                trace::record_outcome(&span, started, Some(&error));
                return Err(error);
            }
        }
    }
}

/// One attempt of a call, with its retries.
async fn call_attempt(
    client: &Opper,
    task: &Task,
    input: Option<&RawValue>,
    parent: Option<&str>,
    attempt: u32,
) -> Result<CallAttempt> {
    // Shared by every retry without a copy.
    let api = client.api();
    let body = Bytes::from(api.wire().encode(task, input, parent)?);
    let span = span(client, Kind::Call, task, attempt);
    let started = Instant::now();
    let decoded = match lookup::<CallAnswer>(client, task, &body, attempt, &span).await {
        Err(error) => Err(error),
        Ok(Some(Lookup::Hit(CallAnswer(raw)))) => api
            .wire()
            .answer(Bytes::from(String::from(Box::<str>::from(raw))))
            .map(|mut response| {
                response.cache_hit = true;
                (response, None, None)
            }),
        Ok(lookup) => {
            let missed = match lookup {
                Some(Lookup::Miss(store)) => store,
                _ => None,
            };
            let path = api.wire().path(Endpoint::Call, task.get_name());
            match client.transport().call(&span, &path, body).await {
                Ok(bytes) => api
                    .wire()
                    .answer(bytes.clone())
                    .map(|response| (response, Some(bytes), missed)),
                Err(error) => Err(error),
            }
        }
    };
    match decoded {
        Ok((response, live, missed)) => {
            trace::record_response(&span, &response);
            Ok(CallAttempt {
                response,
                span,
                started,
                live,
                missed,
            })
        }
        Err(error) => {
            trace::record_outcome(&span, started, Some(&error));
            Err(error)
        }
    }
}

/// A stream (v2 `POST /v2/call/stream`, v3 `POST /v3/functions/{name}/stream`), retried until
/// its first event arrives. With a cache, a hit
/// replays the stored chunks (no request), and a miss is recorded, to be stored if the
/// stream ends cleanly.
pub(crate) async fn open_stream(
    client: &Opper,
    task: &Task,
    input: Option<&RawValue>,
    parent: Option<&str>,
    attempt: u32,
) -> Result<ChunkStream> {
    // Shared by every attempt without a copy.
    let api = client.api();
    let body = Bytes::from(
        api.wire()
            .encode(task, input, parent::resolve(parent).as_deref())?,
    );
    let span = span(client, Kind::Stream, task, attempt);
    let started = Instant::now();
    let result = match lookup::<StreamAnswer>(client, task, &body, attempt, &span).await {
        Err(error) => Err(error),
        Ok(Some(Lookup::Hit(answer))) => Ok(ChunkStream::replay(api, answer, span.clone())),
        Ok(lookup) => {
            let path = api.wire().path(Endpoint::Stream, task.get_name());
            let mut result = client.transport().stream(&span, &path, body).await;
            if let (Ok(stream), Some(Lookup::Miss(Some(store)))) = (&mut result, lookup) {
                stream.record_into(store);
            }
            result
        }
    };
    if let Err(error) = &result {
        trace::record_outcome(&span, started, Some(error));
    }
    result
}

/// One attempt of a call: the answer with its output as JSON, its span (the outcome left to the
/// caller, who judges the output) and when it started; the body as it came when it was sent (not
/// served from the cache), and the cache entry it missed, for the accepted answer.
struct CallAttempt {
    response: Response<OutputText>,
    span: tracing::Span,
    started: Instant,
    live: Option<Bytes>,
    missed: Option<Store<CallAnswer>>,
}
