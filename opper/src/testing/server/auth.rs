//! The authorize step: the bearer key against the scripted one; an authorized request takes
//! the next scripted fault.

use hyper::header::HeaderValue;
use serde_json::json;

use super::read::Read;
use super::respond::{Stop, error_response};
use super::state::{Shared, lock};
use crate::testing::reply::Reply;
use crate::testing::wire::Protocol;

/// The scripted fault an authorized request answers with, if any; a request without the
/// scripted key is a `401`.
pub(crate) fn authorize(
    shared: &Shared,
    read: &Read,
    wire: &dyn Protocol,
) -> Result<Option<Reply>, Stop> {
    let sent = read.authorization.as_deref();
    {
        let mut script = lock(&shared.script);
        if script
            .api_key
            .as_deref()
            .is_none_or(|key| sent == Some(key))
        {
            return Ok(script.next_fault());
        }
    }
    let detail = if read.has_authorization {
        "The API key in the Authorization header is not valid"
    } else {
        "Send the API key as 'Authorization: Bearer <key>'"
    };
    let mut response = error_response(
        wire,
        401,
        "UnauthorizedError",
        "Invalid or missing API key",
        json!(detail),
    );
    response
        .headers_mut()
        .insert("www-authenticate", HeaderValue::from_static("Bearer"));
    Err(response.into())
}
