//! Re-asks: a task whose output is rejected (by its validator, or because it does not fit the
//! output type) is asked again with the rejected output and the reason.
//!
//! [`instructions`] is the one place that words a re-ask. [`Reasker`] judges each attempt and
//! says whether to accept it, ask again (with which instructions) or give up; the call and stream
//! paths drive it, so both re-ask the same way.

// What a re-ask judges with: the output's type, then the task's validator.
pub(crate) mod output;
pub(crate) mod validate;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;
use crate::error::Result;
use crate::error::{Rejection, bounded_json, truncate};
use crate::reask::output::OutputText;
use crate::reask::validate::Validator;
use crate::response::Cost;
use crate::response::Response;
use crate::response::Usage;

/// The first line of the section a re-ask adds to the instructions.
const REJECTED: &str = "The previous answer was rejected.";
/// The last line: what to do.
const ASK: &str = "Give a corrected answer.";

/// How much of a rejected answer a re-ask quotes: the first 16 KiB of its compact JSON.
pub(crate) const MAX_QUOTED_BYTES: usize = 16 * 1024;
/// How much of a reason a re-ask quotes.
const MAX_REASON_BYTES: usize = Rejection::MAX_REASON_BYTES;
/// What follows a rejected answer cut at [`MAX_QUOTED_BYTES`].
const CUT: &str = " [cut: only the start of the answer is quoted]";

/// The instructions of a re-ask: the original instructions, a blank line, then a section with
/// the rejected output (as compact JSON) and the reason:
///
/// ```text
/// <original instructions>
///
/// The previous answer was rejected.
/// Rejected answer: <output as JSON>
/// Reason: <reason>
/// Give a corrected answer.
/// ```
///
/// Without original instructions (or with empty ones) the section stands alone. Only the first
/// 16 KiB (`MAX_QUOTED_BYTES`) of the output's JSON are quoted, followed by
/// `" [cut: only the start of the answer is quoted]"` when it is longer; the JSON is written
/// into a bounded buffer, so a large output is never copied whole. The reason is cut at
/// [`Rejection::MAX_REASON_BYTES`] (4 KiB).
pub fn instructions(original: Option<&str>, rejected: &Value, reason: &str) -> String {
    let quoted = match bounded_json(rejected, MAX_QUOTED_BYTES) {
        Ok(whole) => whole,
        Err(start) => start + CUT,
    };
    let reason = truncate(reason, MAX_REASON_BYTES);
    let section = format!("{REJECTED}\nRejected answer: {quoted}\nReason: {reason}\n{ASK}");
    match original {
        Some(original) if !original.is_empty() => format!("{original}\n\n{section}"),
        _ => section,
    }
}

/// How a task checks its output and how many times it asks again: the `validate` and `reasks`
/// of `#[opper::function]` and [`CallBuilder`](crate::CallBuilder).
pub struct Policy<T> {
    validator: Option<Validator<T>>,
    reasks: u32,
    /// The task's name, when its answers come from a replay-only cache: a re-ask would be a
    /// request, so a rejection there ends the call.
    replaying: Option<String>,
}

impl<T> std::fmt::Debug for Policy<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("validator", &self.validator)
            .field("reasks", &self.reasks)
            .field("replaying", &self.replaying)
            .finish()
    }
}

impl<T> Clone for Policy<T> {
    fn clone(&self) -> Self {
        Self {
            validator: self.validator.clone(),
            reasks: self.reasks,
            replaying: self.replaying.clone(),
        }
    }
}

impl<T> Default for Policy<T> {
    fn default() -> Self {
        Self {
            validator: None,
            reasks: 0,
            replaying: None,
        }
    }
}

impl<T> Policy<T> {
    /// A validator (if any) and a number of re-asks; `None` is the default: 2 with a validator,
    /// 0 without.
    pub fn new(validator: Option<Validator<T>>, reasks: Option<u32>) -> Self {
        let reasks = reasks.unwrap_or(if validator.is_some() { 2 } else { 0 });
        Self {
            validator,
            reasks,
            replaying: None,
        }
    }

    /// The policy for answers replayed by a replay-only cache (of task `task`): a rejection
    /// that would be asked again is [`Error::ReplayRejected`] instead, since a re-ask would
    /// be a request, which replay-only mode never makes.
    pub(crate) fn replaying(mut self, task: &str) -> Self {
        self.replaying = Some(task.to_owned());
        self
    }

    /// Whether outputs can be rejected at all (else a call is one attempt, as without re-asks).
    pub(crate) fn is_active(&self) -> bool {
        self.validator.is_some() || self.reasks > 0
    }

    /// Accepts or rejects a finished output. `json` gives the output as JSON, asked only for a
    /// rejection. An output that does not fit `T` is a rejection only when re-asks are allowed;
    /// otherwise, like every other error, it ends the call as it is.
    fn verdict(&self, output: Result<T>, json: impl FnOnce() -> Value) -> Result<Verdict<T>> {
        match output {
            Ok(value) => match self.validator.as_ref().map(|v| v.check(&value)) {
                Some(Err(reason)) => Ok(Verdict::Reject(json(), reason)),
                _ => Ok(Verdict::Accept(value)),
            },
            Err(Error::Output {
                json,
                path,
                message,
            }) if self.reasks > 0 => {
                let reason = Error::output_reason(&path, &message);
                Ok(Verdict::Reject(json, reason))
            }
            Err(error) => Err(error),
        }
    }
}

enum Verdict<T> {
    Accept(T),
    /// The whole output, and why.
    Reject(Value, String),
}

/// What to do after an attempt.
#[derive(Debug)]
pub(crate) enum Step<T> {
    /// The output is accepted.
    Done(T),
    /// Ask again, with these instructions in place of the task's.
    Again(String),
}

/// The attempts of one call: judges each, keeps every rejection, and adds up usage and cost.
///
/// It holds no borrow, so a [`Stream`](crate::Stream) can keep it across re-asks; each judgement
/// is given the task's [`Policy`] and its original instructions.
#[derive(Debug, Default)]
pub(crate) struct Reasker {
    rejected: Vec<Rejection>,
    usage: Option<Usage>,
    cost: Option<Cost>,
}

impl Reasker {
    /// The attempts of a new call.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The number of the attempt under way, from 1.
    pub(crate) fn attempt(&self) -> u32 {
        u32::try_from(self.rejected.len()).map_or(u32::MAX, |n| n.saturating_add(1))
    }

    /// Judges a finished output (`json` gives it as JSON for a rejection). A rejection is
    /// logged at `warn` on `span` with its reason (never the output or the input); it is the
    /// final [`Error::Rejected`] when no re-ask is left, else the step says what to ask.
    pub(crate) fn judge<T>(
        &mut self,
        policy: &Policy<T>,
        original: Option<&str>,
        output: Result<T>,
        json: impl FnOnce() -> Value,
        span: &tracing::Span,
    ) -> Result<Step<T>> {
        let (output, reason) = match policy.verdict(output, json)? {
            Verdict::Accept(value) => return Ok(Step::Done(value)),
            Verdict::Reject(output, reason) => (output, reason),
        };
        let attempt = self.attempt();
        let left = policy.reasks.saturating_sub(attempt.saturating_sub(1));
        if let (Some(task), true) = (&policy.replaying, left > 0) {
            crate::trace::log_rejection(span, attempt, 0, &reason);
            return Err(Error::ReplayRejected {
                task: task.clone(),
                rejection: Rejection::new(output, reason),
            });
        }
        crate::trace::log_rejection(span, attempt, left, &reason);
        // Worded from the whole output, then kept bounded.
        let again = (left > 0).then(|| instructions(original, &output, &reason));
        self.rejected.push(Rejection::new(output, reason));
        match again {
            Some(instructions) => Ok(Step::Again(instructions)),
            None => Err(Error::Rejected {
                attempts: std::mem::take(&mut self.rejected),
            }),
        }
    }

    /// Judges one `/call` answer: its output is deserialized into `T`, then validated. Usage
    /// and cost are added up over every attempt; an accepted answer carries the sums, its own
    /// `span_id`, and the number of re-asks it took.
    pub(crate) fn judge_response<T: DeserializeOwned>(
        &mut self,
        policy: &Policy<T>,
        original: Option<&str>,
        response: Response<OutputText>,
        span: &tracing::Span,
    ) -> Result<Step<Response<T>>> {
        let Response {
            output,
            span_id,
            trace_uuid,
            usage,
            cost,
            meta,
            cached,
            cache_hit,
            images,
            reasks: _,
        } = response;
        add(&mut self.usage, usage.as_ref());
        add(&mut self.cost, cost.as_ref());
        // Read straight into `T`; as a `Value` only for a rejection.
        let typed = crate::reask::output::deserialize_text::<T>(output.text());
        Ok(
            match self.judge(policy, original, typed, || output.to_value(), span)? {
                Step::Again(instructions) => Step::Again(instructions),
                Step::Done(output) => Step::Done(Response {
                    output,
                    span_id,
                    trace_uuid,
                    usage: self.usage,
                    cost: self.cost,
                    meta,
                    cached,
                    cache_hit,
                    images,
                    reasks: self.attempt().saturating_sub(1),
                }),
            },
        )
    }
}

/// Adds an attempt's usage or cost to the sum so far (none while no attempt reported one).
fn add<N: Copy + Default + for<'a> std::ops::AddAssign<&'a N>>(
    sum: &mut Option<N>,
    more: Option<&N>,
) {
    if let Some(more) = more {
        // `N` is `Usage` or `Cost`, whose `+=` saturates (see `response.rs`).
        #[allow(clippy::arithmetic_side_effects)]
        {
            *sum.get_or_insert_with(N::default) += more;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_reask_is_the_original_instructions_then_the_rejected_output_and_the_reason() {
        assert_eq!(
            instructions(
                Some("Calculate the sum of two numbers"),
                &json!({"sum": -1, "note": "a \"quote\""}),
                "sum must be positive, got -1"
            ),
            "Calculate the sum of two numbers\n\
             \n\
             The previous answer was rejected.\n\
             Rejected answer: {\"sum\":-1,\"note\":\"a \\\"quote\\\"\"}\n\
             Reason: sum must be positive, got -1\n\
             Give a corrected answer."
        );
    }

    #[test]
    fn without_instructions_the_section_stands_alone() {
        let expected = "The previous answer was rejected.\n\
                        Rejected answer: \"a text\"\n\
                        Reason: too short\n\
                        Give a corrected answer.";
        assert_eq!(instructions(None, &json!("a text"), "too short"), expected);
        assert_eq!(
            instructions(Some(""), &json!("a text"), "too short"),
            expected
        );
    }

    #[test]
    fn a_long_rejected_answer_is_quoted_up_to_the_bound_and_marked() {
        let long = json!("z".repeat(2 * MAX_QUOTED_BYTES));
        let text = instructions(None, &long, &"why".repeat(MAX_REASON_BYTES));
        let quoted = text
            .lines()
            .find_map(|line| line.strip_prefix("Rejected answer: "))
            .unwrap();
        assert_eq!(quoted.len(), MAX_QUOTED_BYTES + CUT.len());
        assert!(
            quoted.starts_with("\"zzz") && quoted.ends_with(CUT),
            "{}",
            &quoted[..10]
        );
        let reason = text
            .lines()
            .find_map(|l| l.strip_prefix("Reason: "))
            .unwrap();
        assert_eq!(reason.len(), MAX_REASON_BYTES);
        assert!(text.ends_with(ASK));
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Sum {
        sum: i64,
    }

    fn positive() -> Policy<Sum> {
        Policy::new(
            Some(Validator::new(|s: &Sum| {
                if s.sum > 0 {
                    Ok(())
                } else {
                    Err(format!("sum must be positive, got {}", s.sum))
                }
            })),
            None,
        )
    }

    fn answer(output: Value, usage: u64, span_id: &str) -> Response<OutputText> {
        let usage = Usage {
            input_tokens: usage,
            output_tokens: usage,
            total_tokens: 2 * usage,
            ..Usage::default()
        };
        Response {
            output: OutputText::from_value(&output),
            span_id: Some(span_id.into()),
            trace_uuid: None,
            meta: None,
            usage: Some(usage),
            cost: Some(Cost {
                generation: 0.5,
                platform: 0.25,
                total: 0.75,
            }),
            cached: false,
            cache_hit: false,
            images: Vec::new(),
            reasks: 0,
        }
    }

    #[test]
    fn reasks_default_to_two_with_a_validator_and_zero_without() {
        assert_eq!(positive().reasks, 2);
        assert!(positive().is_active());
        let plain = Policy::<Sum>::new(None, None);
        assert_eq!(plain.reasks, 0);
        assert!(!plain.is_active());
        assert!(Policy::<Sum>::new(None, Some(1)).is_active());
        assert_eq!(
            Policy::new(positive().validator, Some(0)).reasks,
            0,
            "an explicit count wins"
        );
    }

    #[test]
    fn a_rejected_answer_is_asked_again_and_the_accepted_one_carries_the_sums() {
        let policy = positive();
        let mut reasker = Reasker::new();
        let span = tracing::Span::none();
        assert_eq!(reasker.attempt(), 1);
        match reasker.judge_response(
            &policy,
            Some("Add"),
            answer(json!({"sum": -1}), 10, "s1"),
            &span,
        ) {
            Ok(Step::Again(text)) => assert_eq!(
                text,
                instructions(
                    Some("Add"),
                    &json!({"sum": -1}),
                    "sum must be positive, got -1"
                )
            ),
            other => panic!("expected a re-ask, got {other:?}"),
        }
        assert_eq!(reasker.attempt(), 2);
        let Ok(Step::Done(response)) = reasker.judge_response(
            &policy,
            Some("Add"),
            answer(json!({"sum": 9}), 5, "s2"),
            &span,
        ) else {
            panic!("the second answer is valid")
        };
        assert_eq!(response.output, Sum { sum: 9 });
        assert_eq!(response.reasks, 1);
        assert_eq!(
            response.span_id.as_deref(),
            Some("s2"),
            "the accepted attempt's span"
        );
        let usage = response.usage.unwrap();
        assert_eq!(
            (usage.input_tokens, usage.output_tokens, usage.total_tokens),
            (15, 15, 30)
        );
        assert_eq!(response.cost.unwrap().total, 1.5);
    }

    #[test]
    fn when_no_reask_is_left_the_error_keeps_every_rejection() {
        let policy = Policy::new(positive().validator, Some(1));
        let mut reasker = Reasker::new();
        let span = tracing::Span::none();
        assert!(matches!(
            reasker.judge_response(&policy, None, answer(json!({"sum": -1}), 1, "a"), &span),
            Ok(Step::Again(_))
        ));
        let error = reasker
            .judge_response(&policy, None, answer(json!({"sum": -2}), 1, "b"), &span)
            .unwrap_err();
        let Error::Rejected { attempts } = &error else {
            panic!("expected Error::Rejected, got {error:?}")
        };
        assert_eq!(
            attempts,
            &[
                Rejection::new(json!({"sum": -1}), "sum must be positive, got -1"),
                Rejection::new(json!({"sum": -2}), "sum must be positive, got -2"),
            ]
        );
        assert_eq!(
            error.to_string(),
            "the output was rejected after 2 attempts: sum must be positive, got -2"
        );
        assert_eq!(error.partial(), Some(&json!({"sum": -2})));
    }

    #[test]
    fn an_output_that_does_not_fit_is_reasked_only_when_reasks_are_set() {
        let span = tracing::Span::none();
        let strict = Policy::<Sum>::new(None, None);
        let error = Reasker::new()
            .judge_response(&strict, None, answer(json!({"sum": "nine"}), 1, "a"), &span)
            .unwrap_err();
        assert!(
            matches!(&error, Error::Output { path, .. } if path == "sum"),
            "{error:?}"
        );

        let lenient = Policy::<Sum>::new(None, Some(1));
        let mut reasker = Reasker::new();
        let Ok(Step::Again(text)) = reasker.judge_response(
            &lenient,
            Some("Add"),
            answer(json!({"sum": "nine"}), 1, "a"),
            &span,
        ) else {
            panic!("a shape failure is re-asked when reasks are set")
        };
        assert_eq!(
            text,
            instructions(
                Some("Add"),
                &json!({"sum": "nine"}),
                "the output does not fit the expected type at `sum`: invalid type: string \"nine\", expected i64"
            )
        );
        let error = reasker
            .judge_response(&lenient, Some("Add"), answer(json!({}), 1, "b"), &span)
            .unwrap_err();
        let Error::Rejected { attempts } = &error else {
            panic!("expected Error::Rejected, got {error:?}")
        };
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[1].output, json!({}));
        assert_eq!(
            error.to_string(),
            "the output was rejected after 2 attempts: the output does not fit the expected type at `.`: missing field `sum`"
        );
    }

    #[test]
    fn other_errors_are_never_reasked() {
        let policy = positive();
        let mut reasker = Reasker::new();
        let cut = Error::Incomplete {
            reason: "cut".into(),
            source: None,
            partial: Value::Null,
        };
        let error = reasker
            .judge(
                &policy,
                None,
                Err::<Sum, _>(cut),
                || panic!("no JSON is asked for"),
                &tracing::Span::none(),
            )
            .unwrap_err();
        assert!(matches!(error, Error::Incomplete { .. }));
        assert_eq!(reasker.attempt(), 1);
    }
}
