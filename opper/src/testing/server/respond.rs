//! The last step: an [`Answer`] (or an early error) as an HTTP response, with the reply's
//! headers; a stream fed by a task that plays the reply's pacing and faults.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{CACHE_CONTROL, CONNECTION, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::Value;
use tokio::sync::mpsc;

use super::body::{DropConnection, Guard, MockBody};
use crate::testing::reply::{Reply, StreamFault};
use crate::testing::wire::{Answer, Protocol};

/// Where a request stops before its reply is answered: with a response as it is, or by
/// closing the connection.
#[derive(Debug)]
pub(crate) enum Stop {
    Answer(Box<Response<MockBody>>),
    Drop,
}

impl From<Response<MockBody>> for Stop {
    fn from(response: Response<MockBody>) -> Self {
        Self::Answer(Box::new(response))
    }
}

impl Stop {
    /// What the service returns for it.
    pub(crate) fn into_result(self) -> Result<Response<MockBody>, DropConnection> {
        match self {
            Self::Answer(response) => Ok(*response),
            Self::Drop => Err(DropConnection),
        }
    }
}

/// A JSON body.
pub(crate) fn json_response(status: u16, body: &Value) -> Response<MockBody> {
    bytes_response(status, Bytes::from(body.to_string()), "application/json")
}

/// A body of `content_type`.
pub(crate) fn bytes_response(status: u16, body: Bytes, content_type: &str) -> Response<MockBody> {
    let mut response = Response::new(MockBody::Full(Some(body)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

/// An error answer in the version's shape.
pub(crate) fn error_response(
    wire: &dyn Protocol,
    status: u16,
    error_type: &str,
    message: &str,
    detail: Value,
) -> Response<MockBody> {
    json_response(status, &wire.error(status, error_type, message, detail))
}

/// An error answer after which the connection closes (its body was not read).
pub(crate) fn closing(mut response: Response<MockBody>) -> Response<MockBody> {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// An answer as it is, without a reply's headers (a whole body).
pub(crate) fn plain(answer: Answer) -> Response<MockBody> {
    match answer {
        Answer::Json(status, body) => bytes_response(status, body, "application/json"),
        Answer::Typed(status, body, content_type) => bytes_response(status, body, &content_type),
        // Without a reply's pacing and faults, a stream's pieces go at once.
        Answer::Stream(pieces) => bytes_response(200, pieces.concat().into(), "text/event-stream"),
    }
}

/// The response to a request answered with `reply`.
pub(crate) fn respond(
    answer: Answer,
    reply: &Reply,
    wire: &dyn Protocol,
    guard: Guard,
) -> Response<MockBody> {
    match answer {
        Answer::Stream(pieces) => stream_response(pieces, reply, wire, guard),
        whole => {
            guard.done();
            with_headers(plain(whole), reply)
        }
    }
}

fn with_headers(mut response: Response<MockBody>, reply: &Reply) -> Response<MockBody> {
    for (name, value) in &reply.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

fn stream_response(
    pieces: Vec<Bytes>,
    reply: &Reply,
    wire: &dyn Protocol,
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
        }) => Some(wire.error_frame(error_type, message)),
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
    delay: Option<Duration>,
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
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
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
