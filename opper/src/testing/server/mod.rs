//! The HTTP side of the mock server, as a pipeline: [`read`] the body within the limits and
//! record the request, [`route`] it to an endpoint and an API version, [`authorize`] it (and
//! take a scripted fault), [`validate`] its body, [`answer`] it, and [`respond`]. The API
//! versions (`v2`, `v3`) and the spans and agent endpoints are modules of their own beside the
//! server; it asks the route's version through one trait, `wire::Protocol`.
//!
//! [`read`]: read::read
//! [`route`]: route::route
//! [`authorize`]: auth::authorize
//! [`validate`]: validate::validate
//! [`answer`]: answer::answer
//! [`respond`]: respond::respond

// Leaves first: the state kept between requests, the response body, the response builders,
// then the steps in the order a request takes them.
mod state;
mod body;
mod respond;
mod route;
mod read;
mod auth;
mod validate;
mod answer;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Request, Response};

use crate::testing::reply::Reply;
use crate::testing::wire::Answer;
use body::{DropConnection, Guard, MockBody};
use read::Read;
use respond::{Stop, plain};
use route::{Endpoint, Route};
pub(crate) use state::{Shared, lock};

/// Handles one request. The guard marks the request abandoned if this future is dropped (the
/// connection closed) before it answers.
async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<MockBody>, DropConnection> {
    let (parts, incoming) = request.into_parts();
    let route = route::route(parts.uri.path());
    let read = match read::read(&shared, &parts, incoming, &route).await {
        Ok(read) => read,
        Err(stop) => return stop.into_result(),
    };
    let guard = Guard::new(read.disconnected.clone());
    match serve(&shared, &parts, &route, &read).await {
        Ok((answer, reply)) => Ok(respond::respond(answer, &reply, route.wire, guard)),
        Err(stop) => {
            guard.done();
            stop.into_result()
        }
    }
}

/// Route, authorize, validate, answer: the answer with the reply it follows, or where the
/// request stopped before one.
async fn serve(
    shared: &Shared,
    parts: &Parts,
    route: &Route,
    read: &Read,
) -> Result<(Answer, Reply), Stop> {
    let path = parts.uri.path();
    let endpoint = route.endpoint(&parts.method, path)?;
    let fault = auth::authorize(shared, read, route.wire)?;
    // The spans endpoints answer from their own store, unless a fault is scripted.
    if endpoint == Endpoint::Spans && fault.is_none() {
        let answer = answer::spans(shared, parts.method.as_str(), path, read);
        return Err(plain(answer).into());
    }
    let name = validate::validate(parts, route, endpoint, read, fault.is_some())?;
    let reply = fault.unwrap_or_else(|| lock(&shared.script).reply_for(&name));
    let answer = answer::answer(shared, route, endpoint, read, &name, &reply).await?;
    Ok((answer, reply))
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
