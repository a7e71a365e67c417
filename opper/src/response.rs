//! What a call answers (on v2 `/v2/call`, on v3 `{data, meta}`).

use serde::{Deserialize, Serialize};

/// A typed output with the call's metadata.
///
/// Returned by `#[opper::function]`s declared `-> opper::Result<opper::Response<T>>` and by
/// [`CallBuilder::send`](crate::CallBuilder::send).
///
/// The output is the field [`output`](Self::output); the metadata are the other fields. It
/// does not dereference to `T` (only smart pointers do): `reply.output.cost` is the output's
/// `cost`, `reply.cost` the call's.
///
/// ```
/// # #[derive(serde::Deserialize)] struct Sum { sum: i64 }
/// # fn run(reply: opper::Response<Sum>) {
/// let sum: i64 = reply.output.sum;
/// println!("{sum} (span {:?}, {} re-asks)", reply.span_id, reply.reasks);
/// let output: Sum = reply.into_output();
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Response<T> {
    /// The output: `json_payload` deserialized into `T`, or the text `message` (v3: `data`).
    pub output: T,
    /// The call's span, to tie later calls to it or find it in the Opper UI. `None` when the
    /// service sent none: always on [`Api::V3`](crate::Api::V3), which has no span id (see
    /// [`trace_uuid`](Self::trace_uuid)).
    pub span_id: Option<String>,
    /// The call's trace (v3's `meta.trace_uuid`); `None` on v2 and when v3 sent none.
    pub trace_uuid: Option<String>,
    /// Token usage, when the service reported it.
    pub usage: Option<Usage>,
    /// Cost in USD, when the service reported it. On v3 the service reports only the total
    /// (`meta.cost`): `generation` and `platform` are then 0.
    pub cost: Option<Cost>,
    /// The whole `meta` object of a v3 answer (`function_name`, `execution_ms`, `models_used`,
    /// `usage`, `cost`, ...), as sent; `None` on v2. Of a re-asked call, the accepted attempt's.
    pub meta: Option<serde_json::Value>,
    /// The service's own `cached` flag: whether Opper answered from its cache (v2's `cached`;
    /// always `false` on v3, which does not send one). It says nothing of this crate's
    /// [`Cache`](crate::Cache): see [`cache_hit`](Self::cache_hit).
    pub cached: bool,
    /// Whether this crate's [`Cache`](crate::Cache) answered, from disk, without a request: a
    /// hit of a read-write cache or a replay-only one. `cached` is then what the service said
    /// when the answer was recorded.
    pub cache_hit: bool,
    /// Generated images (URLs or base64), for image models.
    pub images: Vec<String>,
    /// How many times the task was asked again before this output was accepted (0: the first
    /// answer was). `usage` and `cost` add up every attempt; `span_id`, `trace_uuid` and `meta`
    /// are this answer's.
    pub reasks: u32,
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
            trace_uuid: self.trace_uuid,
            usage: self.usage,
            cost: self.cost,
            meta: self.meta,
            cached: self.cached,
            cache_hit: self.cache_hit,
            images: self.images,
            reasks: self.reasks,
        }
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
    /// Both together (on v3, which does not send it: their sum).
    #[serde(deserialize_with = "null_as_zero")]
    pub total_tokens: u64,
    /// Reasoning tokens among the output tokens, for models that report them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    /// Prompt tokens read from the provider's prompt cache, when reported (v3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_tokens: Option<u64>,
    /// Prompt tokens written to the provider's prompt cache, when reported (v3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_creation_tokens: Option<u64>,
    /// Of those, tokens written with a one-hour lifetime, when reported (v3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_creation_1h_tokens: Option<u64>,
}

/// Adds another call's usage to this one: `total += &usage`. Each count saturates at
/// `u64::MAX` rather than overflow.
impl std::ops::AddAssign<&Usage> for Usage {
    fn add_assign(&mut self, other: &Usage) {
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.total_tokens = self.total_tokens.saturating_add(other.total_tokens);
        let optional = |mine: &mut Option<u64>, theirs: Option<u64>| {
            if let Some(theirs) = theirs {
                let sum = mine.get_or_insert(0);
                *sum = sum.saturating_add(theirs);
            }
        };
        optional(&mut self.reasoning_tokens, other.reasoning_tokens);
        optional(&mut self.cache_read_tokens, other.cache_read_tokens);
        optional(&mut self.cache_creation_tokens, other.cache_creation_tokens);
        optional(
            &mut self.cache_creation_1h_tokens,
            other.cache_creation_1h_tokens,
        );
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

/// Adds another call's cost to this one: `total += &cost`. Each sum stays a finite number: it
/// saturates at `±f64::MAX`, and an addend that is not a number counts as zero.
impl std::ops::AddAssign<&Cost> for Cost {
    fn add_assign(&mut self, other: &Cost) {
        self.generation = finite_sum(self.generation, other.generation);
        self.platform = finite_sum(self.platform, other.platform);
        self.total = finite_sum(self.total, other.total);
    }
}

/// `a + b`, each first made finite (NaN as 0, an infinity as `±f64::MAX`), the sum clamped to
/// `±f64::MAX`: never an infinity, never NaN.
fn finite_sum(a: f64, b: f64) -> f64 {
    let finite = |x: f64| match x.is_nan() {
        true => 0.0,
        false => x.clamp(-f64::MAX, f64::MAX),
    };
    (finite(a) + finite(b)).clamp(-f64::MAX, f64::MAX)
}

fn null_as_zero<'de, D, N>(deserializer: D) -> Result<N, D::Error>
where
    D: serde::Deserializer<'de>,
    N: Deserialize<'de> + Default,
{
    Ok(Option::<N>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_sums_saturate() {
        let huge = Usage {
            input_tokens: u64::MAX,
            output_tokens: u64::MAX - 1,
            total_tokens: u64::MAX,
            reasoning_tokens: Some(u64::MAX),
            cache_read_tokens: Some(u64::MAX),
            cache_creation_tokens: None,
            cache_creation_1h_tokens: Some(u64::MAX),
        };
        let mut sum = huge;
        sum += &huge;
        let max = Usage {
            output_tokens: u64::MAX,
            ..huge
        };
        assert_eq!(sum, max);
    }

    #[test]
    fn cost_sums_stay_finite() {
        let cost = |x: f64| Cost {
            generation: x,
            platform: x,
            total: x,
        };
        let mut sum = cost(f64::MAX);
        sum += &cost(f64::MAX);
        assert_eq!(sum, cost(f64::MAX));
        sum += &cost(f64::NEG_INFINITY);
        assert_eq!(sum, cost(0.0));
        sum += &cost(f64::NAN);
        assert_eq!(sum, cost(0.0));
        let mut sum = cost(f64::INFINITY);
        sum += &cost(f64::NEG_INFINITY);
        assert_eq!(sum, cost(0.0));
        let mut sum = cost(0.25);
        sum += &cost(0.5);
        assert_eq!(sum, cost(0.75));
    }
}
