//! What an API version gives the mock server: the [`Protocol`] it answers in, and the
//! [`Answer`]s it makes, as data the server turns into an HTTP response. The server picks a
//! version once, when it routes a request, and asks it through this trait from then on.

use bytes::Bytes;
use serde_json::Value;

use super::reply::Reply;

/// An answer in a version's shapes, before it is an HTTP response.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A whole JSON body with its status.
    Json(u16, Bytes),
    /// A whole body of the given content type, with its status.
    Typed(u16, Bytes, String),
    /// A stream of server-sent events, one piece each (a scripted fault may cut it short).
    Stream(Vec<Bytes>),
}

impl Answer {
    /// A JSON body as its compact text.
    pub(crate) fn json(status: u16, body: &Value) -> Self {
        Self::Json(status, Bytes::from(body.to_string()))
    }
}

/// What the server answers with: a JSON value, or text.
#[derive(Debug)]
pub(crate) enum Output {
    Json(Value),
    Text(String),
}

/// What a version's answer is made of besides its output.
#[derive(Debug)]
pub(crate) struct Exchange<'a> {
    /// The task's name.
    pub(crate) name: &'a str,
    /// The request's body, when JSON.
    pub(crate) request: Option<&'a Value>,
    /// The request body's length in bytes.
    pub(crate) request_len: usize,
    /// A fresh id for this request (v3's trace).
    pub(crate) fresh_id: &'a str,
    /// The span id the answer names (v2).
    pub(crate) span_id: &'a str,
    /// How long the call pretends it took.
    pub(crate) execution_ms: u64,
    /// The seed of the task's generated text.
    pub(crate) task_seed: u64,
    /// The reply the answer follows.
    pub(crate) reply: &'a Reply,
}

/// One API version's shapes: its request checks, answers, stream frames and errors.
pub(crate) trait Protocol: Sync {
    /// An error body: `error_type` (v2) or the status's code (v3), `message` and `detail`.
    fn error(&self, status: u16, error_type: &str, message: &str, detail: Value) -> Value;

    /// Checks a task's body (`raw` as sent, `body` parsed when JSON) and returns the task's
    /// name (`path_name`, when the path carries it, else the body's); else the error answer.
    fn validate(
        &self,
        raw: &[u8],
        body: Option<&Value>,
        path_name: Option<&str>,
    ) -> Result<String, Answer>;

    /// The answer when the output schema asks for more than the generator makes.
    fn too_much(&self, message: &str) -> Answer;

    /// A scripted event, framed.
    fn event(&self, event: &Value) -> Bytes;

    /// The frame a stream ends with on a scripted error.
    fn error_frame(&self, error_type: &str, message: &str) -> Bytes;

    /// The answer with `output`: a stream of it when `stream`, else one body (a scripted error
    /// fault makes that a 500).
    fn answer(&self, output: Output, exchange: &Exchange<'_>, stream: bool) -> Answer;
}
