//! What `/v2/call` answers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A typed output with the call's metadata.
///
/// Returned by `#[opper::function]`s declared `-> opper::Result<opper::Response<T>>` and by
/// [`CallBuilder::send`](crate::CallBuilder::send).
///
/// A `Response<T>` is a wrapper whose point is its output, like axum's `Json<T>`: it
/// dereferences to `T` (`reply.sum` reads `reply.output.sum`), read-only. Take the output out
/// with [`into_output`](Self::into_output); the metadata are its other fields.
///
/// ```
/// # #[derive(serde::Deserialize)] struct Sum { sum: i64 }
/// # fn run(reply: opper::Response<Sum>) {
/// let sum: i64 = reply.sum; // through `Deref`, the same as `reply.output.sum`
/// println!("{sum} (span {})", reply.span_id);
/// let output: Sum = reply.into_output();
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Response<T> {
    /// The output: `json_payload` deserialized into `T`, or the text `message`.
    pub output: T,
    /// The call's span, to tie later calls to it or find it in the Opper UI.
    pub span_id: String,
    /// Token usage, when the service reported it.
    pub usage: Option<Usage>,
    /// Cost in USD, when the service reported it.
    pub cost: Option<Cost>,
    /// Whether the answer came from the cache.
    pub cached: bool,
    /// Generated images (URLs or base64), for image models.
    pub images: Vec<String>,
}

impl<T> Response<T> {
    /// The output, dropping the metadata.
    pub fn into_output(self) -> T {
        self.output
    }

    /// Maps the output, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            output: f(self.output),
            span_id: self.span_id,
            usage: self.usage,
            cost: self.cost,
            cached: self.cached,
            images: self.images,
        }
    }
}

/// Reads the output: `response.field` is `response.output.field`.
impl<T> std::ops::Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.output
    }
}

/// Tokens a call used. Fields the service left out read as zero or `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Usage {
    /// Tokens in the prompt.
    #[serde(deserialize_with = "null_as_zero")]
    pub input_tokens: u64,
    /// Tokens generated.
    #[serde(deserialize_with = "null_as_zero")]
    pub output_tokens: u64,
    /// Both together.
    #[serde(deserialize_with = "null_as_zero")]
    pub total_tokens: u64,
    /// Reasoning tokens among the output tokens, for models that report them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
}

/// Adds another call's usage to this one: `total += &usage`.
impl std::ops::AddAssign<&Usage> for Usage {
    fn add_assign(&mut self, other: &Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.total_tokens += other.total_tokens;
        if let Some(reasoning) = other.reasoning_tokens {
            *self.reasoning_tokens.get_or_insert(0) += reasoning;
        }
    }
}

/// What a call cost, in USD. Fields the service left out read as zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Cost {
    /// The model provider's charge.
    #[serde(deserialize_with = "null_as_zero")]
    pub generation: f64,
    /// Opper's charge.
    #[serde(deserialize_with = "null_as_zero")]
    pub platform: f64,
    /// Both together.
    #[serde(deserialize_with = "null_as_zero")]
    pub total: f64,
}

impl std::ops::AddAssign<&Cost> for Cost {
    fn add_assign(&mut self, other: &Cost) {
        self.generation += other.generation;
        self.platform += other.platform;
        self.total += other.total;
    }
}

fn null_as_zero<'de, D, N>(deserializer: D) -> Result<N, D::Error>
where
    D: serde::Deserializer<'de>,
    N: Deserialize<'de> + Default,
{
    Ok(Option::<N>::deserialize(deserializer)?.unwrap_or_default())
}

/// The raw body of `/v2/call`: only `span_id` is required; unknown fields are ignored.
#[derive(Debug, Deserialize)]
pub(crate) struct RawResponse {
    #[serde(default)]
    pub(crate) span_id: Option<String>,
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default)]
    pub(crate) json_payload: Option<Value>,
    #[serde(default)]
    pub(crate) cached: Option<bool>,
    #[serde(default)]
    pub(crate) images: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) usage: Option<RawUsage>,
    #[serde(default)]
    pub(crate) cost: Option<Cost>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawUsage {
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
    pub(crate) fn into_usage(self) -> Usage {
        let mut usage = self.usage;
        if usage.reasoning_tokens.is_none() {
            usage.reasoning_tokens = self.output_tokens_details.and_then(|d| d.reasoning_tokens);
        }
        usage
    }
}
