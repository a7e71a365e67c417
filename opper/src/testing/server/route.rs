//! The router: which API version answers a path, and at which endpoint. Adding an endpoint is
//! a module beside `v2`/`v3` and a line here.

use hyper::Method;
use hyper::header::{ALLOW, HeaderValue};
use serde_json::{Value, json};

use super::respond::{Stop, error_response};
use crate::testing::wire::Protocol;
use crate::testing::{openresponses, spans, v2, v3};

/// What a route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// A task's call, answered whole.
    Call,
    /// A task's call, streamed.
    Stream,
    /// `/v3/spans[/{id}]` (`spans`): `POST`, `PATCH`, `GET`.
    Spans,
    /// The agent's endpoint (`openresponses`), streamed.
    Agent,
}

impl Endpoint {
    /// Whether its answer is a stream.
    pub(crate) fn streams(self) -> bool {
        matches!(self, Self::Stream | Self::Agent)
    }
}

/// Where a request goes: the version whose shapes answer it, its endpoint (`None`: no such
/// route) and, on v3's `/v3/functions/{name}/...`, the task's name.
pub(crate) struct Route {
    pub(crate) wire: &'static dyn Protocol,
    pub(crate) endpoint: Option<Endpoint>,
    pub(crate) name: Option<String>,
}

/// The route of `path`.
pub(crate) fn route(path: &str) -> Route {
    let to = |wire: &'static dyn Protocol, endpoint| Route {
        wire,
        endpoint: Some(endpoint),
        name: None,
    };
    let call_or_stream = |stream| {
        if stream {
            Endpoint::Stream
        } else {
            Endpoint::Call
        }
    };
    if let Some(stream) = v2::route(path) {
        return to(&v2::V2, call_or_stream(stream));
    }
    if path == openresponses::PATH {
        return to(&v3::V3, Endpoint::Agent);
    }
    if spans::is_spans(path) {
        return to(&v3::V3, Endpoint::Spans);
    }
    match v3::route(path) {
        Some(found) => Route {
            wire: &v3::V3,
            endpoint: Some(call_or_stream(found.stream)),
            name: found.name,
        },
        None => Route {
            wire: if v3::is_v3(path) { &v3::V3 } else { &v2::V2 },
            endpoint: None,
            name: None,
        },
    }
}

impl Route {
    /// The endpoint a request with `method` on `path` reaches: else a 404 (no such route) or a
    /// 405 (only `POST` on a task's endpoints).
    pub(crate) fn endpoint(&self, method: &Method, path: &str) -> Result<Endpoint, Stop> {
        let Some(endpoint) = self.endpoint else {
            return Err(error_response(
                self.wire,
                404,
                "NotFoundError",
                "Not Found",
                json!(format!("No route for {method} {path}")),
            )
            .into());
        };
        if method != Method::POST && endpoint != Endpoint::Spans {
            let mut response = error_response(
                self.wire,
                405,
                "MethodNotAllowedError",
                "Method Not Allowed",
                Value::Null,
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return Err(response.into());
        }
        Ok(endpoint)
    }
}
