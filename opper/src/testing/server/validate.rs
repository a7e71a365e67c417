//! The validate step: a task's body checked by its endpoint's version, which names the task.

use hyper::http::request::Parts;

use super::read::Read;
use super::respond::{Stop, plain};
use super::route::{Endpoint, Route};
use crate::testing::openresponses;
use crate::testing::wire::Answer;

/// The task's name. A body that fails the checks is answered here, unless a scripted fault
/// answers the request anyway (`faulted`; the name is then empty).
pub(crate) fn validate(
    parts: &Parts,
    route: &Route,
    endpoint: Endpoint,
    read: &Read,
    faulted: bool,
) -> Result<String, Stop> {
    let checked = match endpoint {
        Endpoint::Agent => openresponses::validate(read.body.as_ref())
            .map(|()| {
                openresponses::name(
                    parts
                        .headers
                        .get("x-opper-name")
                        .and_then(|v| v.to_str().ok()),
                )
            })
            .map_err(|(message, details)| {
                Answer::json(400, &route.wire.error(400, "", message, details))
            }),
        _ => route
            .wire
            .validate(&read.raw_body, read.body.as_ref(), route.name.as_deref()),
    };
    match checked {
        Ok(name) => Ok(name),
        Err(_) if faulted => Ok(String::new()),
        Err(answer) => Err(plain(answer).into()),
    }
}
