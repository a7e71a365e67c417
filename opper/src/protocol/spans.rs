//! The spans wire (`POST /v3/spans`, `PATCH /v3/spans/{id}`), the same whatever version a
//! client's calls speak: the bodies in the official client's key order (`opperai` 2.1.1
//! `clients/spans.py`), the created span read from its answer, and the timestamps.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Result;
use crate::protocol::{json, v3};
use crate::trace::parent::{self, SpanHandle};

/// The path that creates a span.
pub(crate) const CREATE: &str = "/v3/spans";

/// The path of the span `id` (its id percent-encoded as one segment).
pub(crate) fn path_of(id: &str) -> String {
    let mut path = String::with_capacity(id.len().saturating_add(CREATE.len()).saturating_add(1));
    path.push_str(CREATE);
    path.push('/');
    v3::segment::push(&mut path, id);
    path
}

/// The body of `POST /v3/spans`: keys in the official client's order; what is `None` is not
/// sent.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SpanStart {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) trace_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parent_id: Option<String>,
    /// What the span is (`"tool"` for a tool call); none for a trace.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
    /// The span's input as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) input: Option<String>,
    /// RFC 3339, see [`timestamp`].
    pub(crate) start_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) meta: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tags: Option<Map<String, Value>>,
}

impl SpanStart {
    /// A span named `name` starting now, under the enclosing scope's span: its parent is
    /// [`current_parent_span`](crate::current_parent_span), and its trace the enclosing
    /// trace's when that parent is the trace's span (a parent named by
    /// [`with_parent_span`](crate::with_parent_span) is sent alone, as the official client
    /// sends an explicit `parent_span_id`).
    pub(crate) fn in_scope(name: impl Into<String>) -> Self {
        let parent_id = parent::current_parent_span();
        let trace_id = parent::current_span()
            .filter(|enclosing| parent_id.as_deref() == Some(enclosing.id()))
            .map(|enclosing| enclosing.trace_id().to_owned());
        SpanStart {
            trace_id,
            parent_id: parent_id.map(|parent| parent.to_string()),
            ..SpanStart::now(name)
        }
    }

    /// A span named `name` starting now, with nothing else set.
    pub(crate) fn now(name: impl Into<String>) -> Self {
        SpanStart {
            name: name.into(),
            trace_id: None,
            parent_id: None,
            kind: None,
            input: None,
            start_time: timestamp(SystemTime::now()),
            meta: None,
            tags: None,
        }
    }
}

/// The body of `PATCH /v3/spans/{id}`: keys in the official client's order.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SpanEnd {
    /// The span's output as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output: Option<String>,
    /// Why the work failed (an error's `Display`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    /// RFC 3339, see [`timestamp`].
    pub(crate) end_time: String,
}

impl SpanEnd {
    /// A span ending now, with `error` if the work failed.
    pub(crate) fn now(error: Option<String>) -> Self {
        SpanEnd {
            output: None,
            error,
            end_time: timestamp(SystemTime::now()),
        }
    }
}

/// A body serialized (these bodies hold only strings and JSON values: it cannot fail in
/// practice, but a failure is an error, not a panic).
pub(crate) fn encode(body: &impl Serialize) -> Result<Vec<u8>> {
    json::write(body, [None, None, None])
}

/// The span an answer to `POST /v3/spans` created: `{"data": {"id", "trace_id", ...}}` (or the
/// same fields at the top level, as the official client also reads). Both ids must be
/// non-empty strings.
pub(crate) fn created(bytes: &[u8]) -> Result<SpanHandle> {
    #[derive(Deserialize)]
    struct Created {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        trace_id: Option<String>,
    }
    let mut body: Map<String, Value> = json::read(bytes)?;
    let data = match body.remove("data") {
        Some(Value::Object(data)) => Value::Object(data),
        _ => Value::Object(body),
    };
    let created = Created::deserialize(data).map_err(|e| json::invalid(bytes, e.to_string()))?;
    match (created.id, created.trace_id) {
        // The id is a path segment of the span's end (`path_of`): a dot segment would send it
        // elsewhere.
        (Some(id), Some(trace_id))
            if !id.is_empty() && !v3::segment::is_dot(&id) && !trace_id.is_empty() =>
        {
            Ok(SpanHandle::new(&id, &trace_id))
        }
        _ => Err(json::invalid(
            bytes,
            "the created span has no usable `id` or no `trace_id`".into(),
        )),
    }
}

/// `time` in RFC 3339 in UTC with microseconds and an explicit offset, as Python's
/// `datetime.now(timezone.utc).isoformat()` writes it: `2026-12-07T11:38:31.539290+00:00`.
/// A time before 1970 is written as 1970-01-01 (the system clock would be wrong).
pub(crate) fn timestamp(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs();
    let (days, of_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
        since.subsec_micros(),
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`,
/// for days since the epoch only: every step is on non-negative numbers).
// Every subtraction is non-negative by the algorithm's construction (each term it takes away
// is at most what it is taken from), and `days` is at most `u64::MAX / 86,400`, so no step
// overflows.
#[allow(clippy::arithmetic_side_effects)]
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Days since 0000-03-01: eras of 400 years (146,097 days) starting on March 1st.
    let days = days.saturating_add(719_468);
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(seconds: u64, micros: u32) -> String {
        timestamp(UNIX_EPOCH + Duration::new(seconds, micros * 1000))
    }

    #[test]
    fn timestamps_are_rfc_3339_with_microseconds_and_an_offset() {
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000+00:00");
        // `datetime.fromtimestamp(1796643511.53929, timezone.utc).isoformat()`
        assert_eq!(
            at(1_796_643_511, 539_290),
            "2026-12-07T11:38:31.539290+00:00"
        );
        // Leap days, a century that is not a leap year, one that is, the end of a year.
        assert_eq!(at(951_782_400, 1), "2000-02-29T00:00:00.000001+00:00");
        assert_eq!(
            at(4_107_542_399, 999_999),
            "2100-02-28T23:59:59.999999+00:00"
        );
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000000+00:00");
        assert_eq!(at(1_704_067_199, 0), "2023-12-31T23:59:59.000000+00:00");
        assert_eq!(at(1_709_164_800, 0), "2024-02-29T00:00:00.000000+00:00");
        // Before the epoch: the epoch; far ahead: no overflow.
        assert_eq!(
            timestamp(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00.000000+00:00"
        );
        assert!(at(253_402_300_799, 0).starts_with("9999-12-31T23:59:59"));
    }

    #[test]
    fn every_day_of_four_centuries_follows_the_previous_one() {
        let mut previous = civil_from_days(0);
        assert_eq!(previous, (1970, 1, 1));
        for days in 1..146_097 * 2 {
            let (year, month, day) = civil_from_days(days);
            let next_day = (previous.0, previous.1, previous.2 + 1);
            let next_month = (previous.0, previous.1 + 1, 1);
            let next_year = (previous.0 + 1, 1, 1);
            assert!(
                [next_day, next_month, next_year].contains(&(year, month, day)),
                "{previous:?} then {:?}",
                (year, month, day)
            );
            assert!((1..=12).contains(&month) && (1..=31).contains(&day));
            previous = (year, month, day);
        }
    }

    #[test]
    fn bodies_keep_the_official_key_order() {
        let start = SpanStart {
            name: "inner".into(),
            trace_id: Some("t".into()),
            parent_id: Some("p".into()),
            kind: Some("tool".into()),
            input: Some("{\"a\":1}".into()),
            start_time: at(0, 0),
            meta: Some(serde_json::json!({"m": 1})),
            tags: Some(Map::from_iter([("tool".to_owned(), Value::Bool(true))])),
        };
        assert_eq!(
            String::from_utf8(encode(&start).unwrap()).unwrap(),
            concat!(
                r#"{"name":"inner","trace_id":"t","parent_id":"p","type":"tool","#,
                r#""input":"{\"a\":1}","start_time":"1970-01-01T00:00:00.000000+00:00","#,
                r#""meta":{"m":1},"tags":{"tool":true}}"#
            )
        );
        let bare = SpanStart::now("outer");
        let text = String::from_utf8(encode(&bare).unwrap()).unwrap();
        assert!(
            text.starts_with(r#"{"name":"outer","start_time":""#),
            "{text}"
        );
        let end = SpanEnd {
            output: Some("5".into()),
            error: Some("boom".into()),
            end_time: at(0, 0),
        };
        assert_eq!(
            String::from_utf8(encode(&end).unwrap()).unwrap(),
            r#"{"output":"5","error":"boom","end_time":"1970-01-01T00:00:00.000000+00:00"}"#
        );
        assert_eq!(path_of("a/b c"), "/v3/spans/a%2Fb%20c");
    }

    #[test]
    fn a_created_span_is_read_from_data_or_the_top_level() {
        let span = created(br#"{"data":{"id":"s","trace_id":"t","name":"n"}}"#).unwrap();
        assert_eq!((span.id(), span.trace_id()), ("s", "t"));
        let flat = created(br#"{"id":"s2","trace_id":"t2"}"#).unwrap();
        assert_eq!(flat.id(), "s2");
        for bad in [
            &br#""#[..],
            br#"[]"#,
            br#"{"data":{"id":"s"}}"#,
            br#"{"data":{"id":"","trace_id":"t"}}"#,
            // Its end would be sent to `PATCH /v3/` or `/v3/spans/`.
            br#"{"data":{"id":"..","trace_id":"t"}}"#,
            br#"{"id":".","trace_id":"t"}"#,
            br#"{"data":{"id":1,"trace_id":"t"}}"#,
            br#"not json"#,
        ] {
            assert!(
                matches!(
                    created(bad),
                    Err(crate::error::Error::InvalidResponse { .. })
                ),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
