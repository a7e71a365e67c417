//! The HTTP side of the mock server: routing, auth, validation, replies, streaming.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::header::{CACHE_CONTROL, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::openresponses;
use super::record::{RecordedRequest, Recording};
use super::reply::{Body, Reply, StreamFault};
use super::schema::{Generator, hash_str, uuid_like, words};
use super::{spans, v3};
use crate::StreamingChunk;
use crate::testing::chunker::{chunks_for, python_json};
use crate::testing::rng::Rng;

/// Scripted behaviour, behind one lock.
#[derive(Debug, Default)]
pub(crate) struct Script {
    pub(crate) api_key: Option<String>,
    pub(crate) sticky: HashMap<String, Reply>,
    pub(crate) default_reply: Option<Reply>,
    pub(crate) queues: HashMap<String, VecDeque<(Reply, usize)>>,
    pub(crate) faults: VecDeque<(Reply, usize)>,
}

/// The longest request body the server reads by default.
pub(crate) const DEFAULT_MAX_BODY_BYTES: usize = 4 << 20;
/// How long a request body may take to arrive by default.
pub(crate) const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a bad body a 422 quotes.
const QUOTE_LIMIT: usize = 1024;

/// State shared by the server handle, the accept loop and every connection.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) script: Mutex<Script>,
    pub(crate) requests: Mutex<Recording>,
    pub(crate) seed: AtomicU64,
    pub(crate) counter: AtomicU64,
    pub(crate) accepted: AtomicUsize,
    pub(crate) closed: AtomicUsize,
    pub(crate) max_body_bytes: AtomicUsize,
    pub(crate) body_timeout: Mutex<Duration>,
    pub(crate) spans: Mutex<spans::Store>,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            script: Mutex::default(),
            requests: Mutex::default(),
            seed: AtomicU64::new(0),
            counter: AtomicU64::new(0),
            accepted: AtomicUsize::new(0),
            closed: AtomicUsize::new(0),
            max_body_bytes: AtomicUsize::new(DEFAULT_MAX_BODY_BYTES),
            body_timeout: Mutex::new(DEFAULT_BODY_TIMEOUT),
            spans: Mutex::default(),
        }
    }
}

/// Locks a mutex, ignoring poisoning (a panicking test must not break the server for others).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn pop(queue: &mut VecDeque<(Reply, usize)>) -> Option<Reply> {
    let (reply, remaining) = queue.front_mut()?;
    let reply = reply.clone();
    // Queued only when more than 0, and popped at 0: never below 1 here.
    *remaining = remaining.saturating_sub(1);
    if *remaining == 0 {
        queue.pop_front();
    }
    Some(reply)
}

/// The service asked to close the connection without answering.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped on purpose by the mock server")
    }
}

impl std::error::Error for DropConnection {}

/// Marks the request as abandoned by the client when dropped before the response is complete.
#[derive(Debug)]
pub(crate) struct Guard {
    flag: Arc<AtomicBool>,
    done: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.done {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
}

/// The response body: all at once, or a stream fed by a producer task.
#[derive(Debug)]
pub(crate) enum MockBody {
    Full(Option<Bytes>),
    Stream {
        rx: mpsc::Receiver<Result<Bytes, io::Error>>,
        guard: Guard,
    },
}

impl HttpBody for MockBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            MockBody::Full(data) => Poll::Ready(data.take().map(|data| Ok(Frame::data(data)))),
            MockBody::Stream { rx, guard } => match rx.poll_recv(cx) {
                Poll::Ready(Some(Ok(data))) => Poll::Ready(Some(Ok(Frame::data(data)))),
                Poll::Ready(Some(Err(error))) => {
                    guard.done = true;
                    Poll::Ready(Some(Err(error)))
                }
                Poll::Ready(None) => {
                    guard.done = true;
                    Poll::Ready(None)
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, MockBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(Some(data)) => SizeHint::with_exact(data.len() as u64),
            MockBody::Full(None) => SizeHint::with_exact(0),
            MockBody::Stream { .. } => SizeHint::default(),
        }
    }
}

fn json_response(status: u16, body: &Value) -> Response<MockBody> {
    bytes_response(status, Bytes::from(body.to_string()), "application/json")
}

fn bytes_response(status: u16, body: Bytes, content_type: &str) -> Response<MockBody> {
    let mut response = Response::new(MockBody::Full(Some(body)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

/// The API's error body: `{"type": ..., "message": ..., "detail": ...}`.
pub(crate) fn api_error(error_type: &str, message: &str, detail: Value) -> Value {
    json!({"type": error_type, "message": message, "detail": detail})
}

fn error_type_for(status: u16) -> &'static str {
    match status {
        400 => "BadRequestError",
        401 => "UnauthorizedError",
        403 => "ForbiddenError",
        404 => "NotFoundError",
        405 => "MethodNotAllowedError",
        408 => "RequestTimeoutError",
        409 => "ConflictError",
        413 => "PayloadTooLargeError",
        422 => "RequestValidationError",
        429 => "TooManyRequestsError",
        500 => "InternalServerError",
        502 => "BadGatewayError",
        503 => "ServiceUnavailableError",
        504 => "GatewayTimeoutError",
        _ => "Error",
    }
}

/// A 422 in FastAPI's shape; `input` is what it quotes (see [`quote`]).
fn validation_error(loc: Value, msg: &str, kind: &str, input: Value) -> Response<MockBody> {
    json_response(
        422,
        &api_error(
            "RequestValidationError",
            "Request validation failed",
            json!({"loc": loc, "msg": msg, "type": kind, "input": input}),
        ),
    )
}

/// `input` as a 422 quotes it: whole when its JSON is at most `QUOTE_LIMIT` bytes, else the
/// start of its JSON (or text) as a string that says how long the whole was.
fn quote(input: &Value) -> Value {
    let text = match input {
        Value::String(text) if text.len() <= QUOTE_LIMIT => return input.clone(),
        Value::String(text) => Cow::Borrowed(text.as_str()),
        other => {
            let json = other.to_string();
            if json.len() <= QUOTE_LIMIT {
                return input.clone();
            }
            Cow::Owned(json)
        }
    };
    // The last character boundary at or before the limit (0 is one).
    let end = (0..=QUOTE_LIMIT)
        .rev()
        .find(|&end| text.is_char_boundary(end))
        .unwrap_or(0);
    cut(text.get(..end).unwrap_or(""), text.len())
}

/// A body that is not JSON as a 422 quotes it: its text, at most `QUOTE_LIMIT` bytes of it.
fn quote_bytes(raw: &[u8]) -> Value {
    let Some((start, _)) = raw
        .split_at_checked(QUOTE_LIMIT)
        .filter(|(_, rest)| !rest.is_empty())
    else {
        return Value::String(String::from_utf8_lossy(raw).into_owned());
    };
    let start = String::from_utf8_lossy(start);
    // A character cut in two at the end is left out rather than shown as U+FFFD.
    cut(
        start.trim_end_matches(char::REPLACEMENT_CHARACTER),
        raw.len(),
    )
}

fn cut(start: &str, total: usize) -> Value {
    Value::String(format!("{start}... ({total} bytes in all)"))
}

/// Why a request body was not read.
enum BodyError {
    /// The client went away or broke the framing.
    Gone,
    /// Longer than the limit (by its `Content-Length` or as it arrived).
    TooLarge,
    /// Not all there within the body timeout.
    TimedOut,
}

/// Reads a request body of at most `limit` bytes within `timeout`, never more of it than that.
async fn read_body(
    parts: &hyper::http::request::Parts,
    mut incoming: Incoming,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, BodyError> {
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let capacity = declared.map_or(0, |len| usize::try_from(len).unwrap_or(0));
    let read = async move {
        let mut body = Vec::with_capacity(capacity);
        while let Some(frame) = incoming.frame().await {
            let frame = frame.map_err(|_| BodyError::Gone)?;
            if let Ok(data) = frame.into_data() {
                if body.len().saturating_add(data.len()) > limit {
                    return Err(BodyError::TooLarge);
                }
                body.extend_from_slice(&data);
            }
        }
        Ok(Bytes::from(body))
    };
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or(Err(BodyError::TimedOut))
}

/// The request as recorded: headers lowercased in arrival order, the body parsed when JSON.
fn record_of(
    parts: &hyper::http::request::Parts,
    route: &Route,
    body: Option<Value>,
    raw_body: Bytes,
    disconnected: Arc<AtomicBool>,
) -> RecordedRequest {
    RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        raw_body,
        path_name: route.name.clone(),
        disconnected,
    }
}

/// An error answer after which the connection closes (its body was not read).
fn closing(mut response: Response<MockBody>) -> Response<MockBody> {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Call,
    Stream,
    /// `/v3/spans[/{id}]` (`spans`): `POST`, `PATCH`, `GET`.
    Spans,
}

/// The API version whose shapes answer a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    V2,
    V3,
}

/// Where a request goes: its version, its endpoint (`None`: no such route) and, on v3's
/// `/v3/functions/{name}/...`, the task's name.
#[derive(Debug)]
struct Route {
    api: Api,
    endpoint: Option<Endpoint>,
    name: Option<String>,
}

fn route(path: &str) -> Route {
    let v2 = |endpoint| Route {
        api: Api::V2,
        endpoint: Some(endpoint),
        name: None,
    };
    match path {
        "/v2/call" | "/call" => v2(Endpoint::Call),
        "/v2/call/stream" | "/call/stream" => v2(Endpoint::Stream),
        openresponses::PATH => Route {
            api: Api::V3,
            endpoint: Some(Endpoint::Stream),
            name: None,
        },
        path if spans::is_spans(path) => Route {
            api: Api::V3,
            endpoint: Some(Endpoint::Spans),
            name: None,
        },
        _ => match v3::route(path) {
            Some(found) => Route {
                api: Api::V3,
                endpoint: Some(if found.stream {
                    Endpoint::Stream
                } else {
                    Endpoint::Call
                }),
                name: found.name,
            },
            None => Route {
                api: if v3::is_v3(path) { Api::V3 } else { Api::V2 },
                endpoint: None,
                name: None,
            },
        },
    }
}

/// An error answer in the version's shape: v2's `{"type", "message", "detail"}` with
/// `error_type`, v3's `{"error": {"code", "message", "details"}}` with the status's code.
fn error_response(
    api: Api,
    status: u16,
    error_type: &str,
    message: &str,
    detail: Value,
) -> Response<MockBody> {
    let body = match api {
        Api::V2 => api_error(error_type, message, detail),
        Api::V3 => v3::error(v3::code_for(status), message, detail),
    };
    json_response(status, &body)
}

/// Handles one request. The guard marks the request abandoned if this future is dropped (the
/// connection closed) before it answers.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<MockBody>, DropConnection> {
    let (parts, incoming) = request.into_parts();
    let route = route(parts.uri.path());
    let api = route.api;
    let limit = shared.max_body_bytes.load(Ordering::Relaxed);
    let timeout = *lock(&shared.body_timeout);
    let raw_body = match read_body(&parts, incoming, limit, timeout).await {
        Ok(raw_body) => raw_body,
        // A body that cannot be read means the client went away; nothing to answer.
        Err(BodyError::Gone) => return Err(DropConnection),
        Err(error) => {
            let record = record_of(&parts, &route, None, Bytes::new(), Arc::default());
            lock(&shared.requests).push(record);
            let response = match error {
                BodyError::TooLarge => error_response(
                    api,
                    413,
                    "PayloadTooLargeError",
                    "Request body too large",
                    json!(format!("The body is longer than {limit} bytes")),
                ),
                _ => error_response(
                    api,
                    408,
                    "RequestTimeoutError",
                    "Request timeout",
                    json!(format!(
                        "The body did not arrive within {} ms",
                        timeout.as_millis()
                    )),
                ),
            };
            return Ok(closing(response));
        }
    };
    let body: Option<Value> = serde_json::from_slice(&raw_body).ok();
    let flag = Arc::new(AtomicBool::new(false));
    let record = record_of(&parts, &route, body.clone(), raw_body.clone(), flag.clone());
    let mut guard = Guard { flag, done: false };
    let authorization = record.bearer().map(str::to_owned);
    let has_authorization = record.header("authorization").is_some();
    lock(&shared.requests).push(record);

    let Some(endpoint) = route.endpoint else {
        guard.done = true;
        return Ok(error_response(
            api,
            404,
            "NotFoundError",
            "Not Found",
            json!(format!(
                "No route for {} {}",
                parts.method,
                parts.uri.path()
            )),
        ));
    };
    if parts.method != hyper::Method::POST && endpoint != Endpoint::Spans {
        guard.done = true;
        let mut response = error_response(
            api,
            405,
            "MethodNotAllowedError",
            "Method Not Allowed",
            Value::Null,
        );
        response
            .headers_mut()
            .insert(hyper::header::ALLOW, HeaderValue::from_static("POST"));
        return Ok(response);
    }

    let (expected_key, fault) = {
        let mut script = lock(&shared.script);
        let key = script.api_key.clone();
        let authorized = key
            .as_deref()
            .is_none_or(|key| authorization.as_deref() == Some(key));
        let fault = if authorized {
            pop(&mut script.faults)
        } else {
            None
        };
        (key, fault)
    };
    if let Some(key) = expected_key
        && authorization.as_deref() != Some(key.as_str())
    {
        guard.done = true;
        let detail = if has_authorization {
            "The API key in the Authorization header is not valid"
        } else {
            "Send the API key as 'Authorization: Bearer <key>'"
        };
        let mut response = error_response(
            api,
            401,
            "UnauthorizedError",
            "Invalid or missing API key",
            json!(detail),
        );
        response
            .headers_mut()
            .insert("www-authenticate", HeaderValue::from_static("Bearer"));
        return Ok(response);
    }

    // The spans endpoints answer from their own store, unless a fault is scripted.
    if endpoint == Endpoint::Spans && fault.is_none() {
        guard.done = true;
        let seed = shared.seed.load(Ordering::Relaxed);
        let mut store = lock(&shared.spans);
        let path = parts.uri.path();
        return Ok(
            match spans::answer(&mut store, seed, parts.method.as_str(), path, body.as_ref()) {
                (status, Some(body)) => json_response(status, &body),
                (status, None) => bytes_response(status, Bytes::new(), "application/json"),
            },
        );
    }
    let checked = match api {
        _ if parts.uri.path() == openresponses::PATH => openresponses::validate(body.as_ref())
            .map(|()| {
                openresponses::name(
                    parts
                        .headers
                        .get("x-opper-name")
                        .and_then(|v| v.to_str().ok()),
                )
            })
            .map_err(|(message, details)| error_response(api, 400, "", message, details)),
        Api::V2 => validate(&raw_body, body.as_ref()),
        Api::V3 => v3::validate(body.as_ref(), route.name.as_deref())
            .map_err(|(message, details)| error_response(api, 400, "", message, details)),
    };
    let name = match checked {
        Ok(name) => name,
        Err(response) => {
            if fault.is_none() {
                guard.done = true;
                return Ok(response);
            }
            String::new()
        }
    };

    let reply = fault.unwrap_or_else(|| {
        let mut script = lock(&shared.script);
        if let Some(reply) = script.queues.get_mut(&name).and_then(pop) {
            return reply;
        }
        script
            .sticky
            .get(&name)
            .or(script.default_reply.as_ref())
            .cloned()
            .unwrap_or_else(Reply::generated)
    });

    let request_number = shared.counter.fetch_add(1, Ordering::Relaxed);
    let seed = shared.seed.load(Ordering::Relaxed);
    let mut rng = Rng::new(seed ^ request_number.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let fresh_id = uuid_like(rng.next_u64(), rng.next_u64());
    let span_id = reply.span_id.clone().unwrap_or_else(|| fresh_id.clone());
    let execution_ms = rng.below(400).saturating_add(40);

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
        guard.done = true;
        return Err(DropConnection);
    }

    if parts.uri.path() == openresponses::PATH
        && let Some(pieces) =
            openresponses::answer(&reply.body, body.as_ref(), seed ^ hash_str(&name))
    {
        return Ok(stream_response(pieces, &reply, api, guard));
    }
    let schema = body
        .as_ref()
        .and_then(|b| b.get("output_schema"))
        .filter(|s| !s.is_null());
    let output = match &reply.body {
        Body::Status {
            status,
            body: raw,
            content_type,
            error,
        } => {
            guard.done = true;
            let response = match raw {
                Some(raw) => bytes_response(
                    *status,
                    raw.clone(),
                    content_type.as_deref().unwrap_or("application/json"),
                ),
                None if *status >= 400 || error.is_some() => {
                    let reason = StatusCode::from_u16(*status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("Error");
                    let (error_type, message) = match error {
                        Some((error_type, message)) => (error_type.as_str(), message.as_str()),
                        None => (error_type_for(*status), reason),
                    };
                    error_response(api, *status, error_type, message, Value::Null)
                }
                None => bytes_response(*status, Bytes::new(), "application/json"),
            };
            return Ok(with_headers(response, &reply));
        }
        Body::Pending { id, kind } => {
            guard.done = true;
            let meta = v3::pending_meta(
                &v3::MetaInput {
                    name: &name,
                    request: body.as_ref(),
                    request_len: raw_body.len(),
                    output_len: 0,
                    trace_uuid: fresh_id,
                    execution_ms,
                },
                id,
                kind,
                &reply,
            );
            let text = v3::response(&Value::Null, &meta);
            let response = bytes_response(202, Bytes::from(text), "application/json");
            return Ok(with_headers(response, &reply));
        }
        Body::Events(events) => {
            let pieces = events
                .iter()
                .map(|event| match api {
                    Api::V2 => Bytes::from(format!("data: {}\n\n", python_json(event))),
                    Api::V3 => v3::event(event),
                })
                .collect();
            return Ok(stream_response(pieces, &reply, api, guard));
        }
        Body::Raw(pieces) => return Ok(stream_response(pieces.clone(), &reply, api, guard)),
        Body::Json(value) => Output::Json(value.clone()),
        Body::Text(text) => Output::Text(text.clone()),
        Body::Generated => {
            let task_seed = seed ^ hash_str(&name);
            match schema {
                Some(schema) => match Generator::new()
                    .seed(task_seed)
                    .generate_within_limits(schema)
                {
                    Ok(value) => Output::Json(value),
                    Err((_, why)) => {
                        guard.done = true;
                        let message = format!(
                            "The schema asks for more than the built-in server generates: {why}"
                        );
                        return Ok(match api {
                            Api::V2 => validation_error(
                                json!(["body", "output_schema"]),
                                &message,
                                "value_error",
                                Value::Null,
                            ),
                            Api::V3 => error_response(
                                api,
                                400,
                                "",
                                &message,
                                json!({"field": "output_schema", "type": "value_error"}),
                            ),
                        });
                    }
                },
                None => {
                    let mut rng = Rng::new(task_seed);
                    Output::Text(format!(
                        "This is a mock reply for {name}: {}.",
                        words(&mut rng, 8)
                    ))
                }
            }
        }
    };

    if api == Api::V3 {
        let (data, text) = match output {
            Output::Json(value) => (value, false),
            Output::Text(text) => (Value::String(text), true),
        };
        let output_len = match &data {
            Value::String(text) => text.len(),
            other => other.to_string().len(),
        };
        let meta = v3::meta(
            &v3::MetaInput {
                name: &name,
                request: body.as_ref(),
                request_len: raw_body.len(),
                output_len,
                trace_uuid: fresh_id,
                execution_ms,
            },
            &reply,
        );
        if endpoint == Endpoint::Stream {
            let frames =
                v3::stream_frames(&data, text, &reply.chunking, seed ^ hash_str(&name), &meta);
            return Ok(stream_response(frames, &reply, api, guard));
        }
        guard.done = true;
        if let Some(StreamFault::Error {
            error_type,
            message,
            ..
        }) = &reply.fault
        {
            let error = v3::error(error_type, message, Value::Null);
            return Ok(with_headers(json_response(500, &error), &reply));
        }
        let response = bytes_response(
            200,
            Bytes::from(v3::response(&data, &meta)),
            "application/json",
        );
        return Ok(with_headers(response, &reply));
    }

    match endpoint {
        Endpoint::Call | Endpoint::Spans => {
            guard.done = true;
            if let Some(StreamFault::Error {
                error_type,
                message,
                ..
            }) = &reply.fault
            {
                let response = json_response(500, &api_error(error_type, message, Value::Null));
                return Ok(with_headers(response, &reply));
            }
            let text = call_body(&output, &reply, &span_id, raw_body.len());
            let response = bytes_response(200, Bytes::from(text), "application/json");
            Ok(with_headers(response, &reply))
        }
        Endpoint::Stream => {
            let mut pieces = vec![Bytes::from(StreamingChunk::span(span_id).to_sse())];
            let chunks = match &output {
                Output::Json(value) => chunks_for(value, &reply.chunking),
                Output::Text(text) => chunks_for(
                    &Value::String(text.clone()),
                    &reply.chunking.clone().text_mode(true),
                ),
            };
            pieces.extend(chunks.iter().map(|chunk| Bytes::from(chunk.to_sse())));
            Ok(stream_response(pieces, &reply, api, guard))
        }
    }
}

enum Output {
    Json(Value),
    Text(String),
}

/// Checks the body the way the API does and returns the task's name.
#[allow(clippy::result_large_err)]
fn validate(raw: &[u8], body: Option<&Value>) -> Result<String, Response<MockBody>> {
    let Some(body) = body else {
        let position = serde_json::from_slice::<Value>(raw)
            .err()
            .map_or(0, |error| error.column());
        return Err(validation_error(
            json!(["body", position]),
            "JSON decode error",
            "json_invalid",
            quote_bytes(raw),
        ));
    };
    let Some(object) = body.as_object() else {
        return Err(validation_error(
            json!(["body"]),
            "Input should be a valid dictionary or object to extract fields from",
            "model_attributes_type",
            quote(body),
        ));
    };
    let name = match object.get("name") {
        Some(Value::String(name)) => name.clone(),
        None | Some(Value::Null) => {
            return Err(validation_error(
                json!(["body", "name"]),
                "Field required",
                "missing",
                quote(body),
            ));
        }
        Some(other) => {
            return Err(validation_error(
                json!(["body", "name"]),
                "Input should be a valid string",
                "string_type",
                quote(other),
            ));
        }
    };
    for key in ["input_schema", "output_schema"] {
        if let Some(schema) = object.get(key).filter(|v| !v.is_null() && !v.is_object()) {
            return Err(validation_error(
                json!(["body", key]),
                "Input should be a valid dictionary",
                "dict_type",
                quote(schema),
            ));
        }
    }
    Ok(name)
}

fn with_headers(mut response: Response<MockBody>, reply: &Reply) -> Response<MockBody> {
    for (name, value) in &reply.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

fn call_body(output: &Output, reply: &Reply, span_id: &str, request_len: usize) -> String {
    let (message, payload, output_len) = match output {
        Output::Json(value) => {
            let text = value.to_string();
            let len = text.len();
            ("null".to_owned(), text, len)
        }
        Output::Text(text) => (
            Value::String(text.clone()).to_string(),
            "null".to_owned(),
            text.len(),
        ),
    };
    let input_tokens = (request_len / 4).max(1) as u64;
    let output_tokens = (output_len / 4).max(1) as u64;
    let usage = reply.usage.clone().unwrap_or_else(|| {
        json!({
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens.saturating_add(output_tokens),
        })
    });
    let cost = reply.cost.clone().unwrap_or_else(|| {
        let generation = (input_tokens as f64 * 0.15 + output_tokens as f64 * 0.6) / 1e6;
        let platform = generation * 0.1;
        json!({"generation": generation, "platform": platform, "total": generation + platform})
    });
    format!(
        "{{\"span_id\":{},\"message\":{message},\"json_payload\":{payload},\"cached\":{},\"usage\":{usage},\"cost\":{cost}}}",
        Value::String(span_id.to_owned()),
        reply.cached,
    )
}

fn stream_response(
    pieces: Vec<Bytes>,
    reply: &Reply,
    api: Api,
    guard: Guard,
) -> Response<MockBody> {
    let (tx, rx) = mpsc::channel(4);
    let delay = reply.chunk_delay;
    let fault = reply.fault.clone();
    let error_chunk = match &reply.fault {
        Some(StreamFault::Error {
            error_type,
            message,
            ..
        }) => Some(match api {
            Api::V2 => Bytes::from(StreamingChunk::error(error_type, message).to_sse()),
            Api::V3 => v3::error_frame(message),
        }),
        _ => None,
    };
    tokio::spawn(async move {
        produce(tx, pieces, delay, fault, error_chunk).await;
    });
    let mut response = Response::new(MockBody::Stream { rx, guard });
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    with_headers(response, reply)
}

async fn produce(
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    pieces: Vec<Bytes>,
    delay: Option<std::time::Duration>,
    fault: Option<StreamFault>,
    error_chunk: Option<Bytes>,
) {
    let stop_at = match &fault {
        Some(
            StreamFault::Error { events, .. }
            | StreamFault::Drop(events)
            | StreamFault::Stall(events),
        ) => *events,
        None => usize::MAX,
    };
    for (i, piece) in pieces.into_iter().enumerate() {
        if i >= stop_at {
            break;
        }
        if i > 0
            && let Some(delay) = delay
        {
            tokio::time::sleep(delay).await;
        }
        if tx.send(Ok(piece)).await.is_err() {
            return;
        }
    }
    match fault {
        Some(StreamFault::Error { .. }) => {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            if let Some(chunk) = error_chunk {
                let _ = tx.send(Ok(chunk)).await;
            }
        }
        Some(StreamFault::Drop(_)) => {
            // Let hyper write out what was sent before it aborts the connection: it flushes
            // once the body has nothing ready.
            while tx.capacity() < tx.max_capacity() && !tx.is_closed() {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let _ = tx
                .send(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "connection dropped on purpose by the mock server",
                )))
                .await;
        }
        Some(StreamFault::Stall(_)) => tx.closed().await,
        None => {}
    }
}

/// Serves one connection until it closes or the server shuts down.
pub(crate) async fn serve_connection(
    shared: Arc<Shared>,
    stream: tokio::net::TcpStream,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let service_shared = shared.clone();
    let service =
        hyper::service::service_fn(move |request| handle(service_shared.clone(), request));
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        _ = stopped(&mut shutdown) => {}
    }
    shared.closed.fetch_add(1, Ordering::SeqCst);
}

/// Resolves when the server is told to stop (or its handle is gone).
pub(crate) async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    loop {
        let stop_now = *stop.borrow_and_update();
        if stop_now || stop.changed().await.is_err() {
            return;
        }
    }
}
