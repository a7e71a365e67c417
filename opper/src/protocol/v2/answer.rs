//! The answer of a v2 call (`/v2/call`), live or cached.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::Result;
use crate::jsontext::span::span_in;
use crate::protocol::json;
use crate::reask::output::OutputText;
use crate::response::Cost;
use crate::response::Response;
use crate::response::Usage;

/// The body of a `/v2/call` success, live or cached, with its output as JSON: `json_payload`
/// when the service sent one, else the text `message`.
pub(crate) fn answer(body: Bytes) -> Result<Response<OutputText>> {
    let raw: RawResponse<'_> = json::read(&body)?;
    // The output is located in the body, not decoded: its reader decodes it into `T`.
    let output = match (raw.json_payload, raw.message) {
        (Some(json), _) => Some(json),
        (None, message) => message,
    };
    let output = match output {
        Some(raw) => {
            // `raw` is a piece of `body`, located rather than copied.
            let span = span_in(&body, raw.get().as_bytes())
                .ok_or_else(|| json::invalid(&body, "its output is not in it".into()))?;
            OutputText::new(body.clone(), span)
        }
        None => OutputText::from_value(&Value::Null),
    };
    let response = Response {
        output: (),
        span_id: raw.span_id,
        trace_uuid: None,
        usage: raw.usage.map(RawUsage::into_usage),
        cost: raw.cost,
        meta: None,
        cached: raw.cached.unwrap_or(false),
        cache_hit: false,
        images: raw.images.unwrap_or_default(),
        reasks: 0,
    };
    Ok(response.map(|()| output))
}

/// The raw body of `/v2/call`: only `span_id` is required; unknown fields are ignored. The
/// output (`json_payload`, else the text `message`) is borrowed as the JSON text it is.
#[derive(Debug, Deserialize)]
struct RawResponse<'a> {
    #[serde(default)]
    span_id: Option<String>,
    #[serde(default, borrow)]
    message: Option<&'a RawValue>,
    #[serde(default, borrow)]
    json_payload: Option<&'a RawValue>,
    #[serde(default)]
    cached: Option<bool>,
    #[serde(default)]
    images: Option<Vec<String>>,
    #[serde(default)]
    usage: Option<RawUsage>,
    #[serde(default)]
    cost: Option<Cost>,
}

#[derive(Debug, Deserialize)]
struct RawUsage {
    #[serde(flatten)]
    usage: Usage,
    #[serde(default)]
    output_tokens_details: Option<OutputTokensDetails>,
}

#[derive(Debug, Deserialize)]
struct OutputTokensDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

impl RawUsage {
    fn into_usage(self) -> Usage {
        let mut usage = self.usage;
        if usage.reasoning_tokens.is_none() {
            usage.reasoning_tokens = self.output_tokens_details.and_then(|d| d.reasoning_tokens);
        }
        usage
    }
}
