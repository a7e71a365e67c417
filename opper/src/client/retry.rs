//! [`RetryPolicy`]: when and how often a failed request is tried again.

use std::future::Future;
use std::time::{Duration, SystemTime};

use crate::error::ApiError;
use crate::error::Result;

/// When and how often a failed request is tried again.
///
/// Retried: 429, 500, 502, 503, 504, and a connection that could not be made (refused or timed
/// out) or broke before any response (or, for a stream, before its first event) reached the
/// caller. A timeout once connected is not retried: the service may still be working on it. Waits grow
/// exponentially from `initial_delay` by `multiplier` up to `max_delay`, each drawn at random
/// between half and all of its nominal length. A `Retry-After` header sets the wait instead;
/// when it asks for more than `max_delay`, the error is returned rather than waited out.
///
/// ```
/// use std::time::Duration;
/// use opper::RetryPolicy;
///
/// let policy = RetryPolicy::default().max_retries(4).initial_delay(Duration::from_millis(100));
/// let wait = policy.delay_for(1, None).unwrap();
/// assert!(wait >= Duration::from_millis(50) && wait <= Duration::from_millis(100));
/// assert_eq!(RetryPolicy::none().delay_for(1, None), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_delay: Duration,
    multiplier: f64,
    max_delay: Duration,
    jitter: bool,
    /// What each wait is multiplied by when it is slept (1 but for the testing server's
    /// client): the decisions are the policy's as written, only the clock runs faster.
    time_scale: f64,
}

impl Default for RetryPolicy {
    /// Two retries, waiting about 0.5 s then 0.75 s, never more than 30 s.
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_delay: Duration::from_millis(500),
            multiplier: 1.5,
            max_delay: Duration::from_secs(30),
            jitter: true,
            time_scale: 1.0,
        }
    }
}

impl RetryPolicy {
    /// No retries: every failure is returned at once.
    pub fn none() -> Self {
        Self::default().max_retries(0)
    }

    /// How many times a request may be retried after its first attempt.
    #[must_use]
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The nominal wait before the first retry.
    #[must_use]
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The factor by which each wait grows (at least 1).
    #[must_use]
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() {
            multiplier.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// The longest wait, for backoff and for `Retry-After`.
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Whether waits are randomized (on by default, so many clients do not retry in step).
    #[must_use]
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The same policy, sleeping `scale` (between 0 and 1) of each wait it decides on: the
    /// testing server's client waits 1/50 of the default policy's waits, `Retry-After`
    /// included, so retry tests run fast and decide as a real client would.
    #[cfg(feature = "testing")]
    pub(crate) fn time_scale(mut self, scale: f64) -> Self {
        self.time_scale = if scale.is_finite() {
            scale.clamp(0.0, 1.0)
        } else {
            1.0
        };
        self
    }

    /// The wait before retry number `retry` (1 for the first), or `None` when the budget is
    /// spent or the server's `Retry-After` asks for longer than `max_delay`.
    pub fn delay_for(&self, retry: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if retry == 0 || retry > self.max_retries {
            return None;
        }
        if let Some(wait) = retry_after {
            return (wait <= self.max_delay).then_some(wait);
        }
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let nominal = self.initial_delay.as_secs_f64() * self.multiplier.powi(exponent);
        // Not a number only as zero times an infinite growth: zero.
        let nominal = match nominal.is_nan() {
            true => 0.0,
            false => nominal.min(self.max_delay.as_secs_f64()),
        };
        let wait = if self.jitter {
            nominal * (0.5 + fastrand::f64() * 0.5)
        } else {
            nominal
        };
        // A wait too long for a `Duration` is the longest wait the policy allows.
        Some(
            Duration::try_from_secs_f64(wait)
                .unwrap_or(self.max_delay)
                .min(self.max_delay),
        )
    }

    /// Runs `attempt` until it succeeds, fails in a way that is not retried, or the budget is
    /// spent, waiting between attempts; records the attempts on `span`.
    pub(crate) async fn run<T, F, Fut>(&self, span: &tracing::Span, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut attempts = 0u32;
        loop {
            attempts = attempts.saturating_add(1);
            span.record("attempts", attempts);
            let mut error = match attempt().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let retry_after = error.api_error().and_then(|e| e.retry_after);
            let wait = if error.is_retryable() {
                self.delay_for(attempts, retry_after)
            } else {
                None
            };
            // A scale in [0, 1] never makes a wait longer: never past what a `Duration` holds.
            let wait = wait.map(|wait| {
                Duration::try_from_secs_f64(wait.as_secs_f64() * self.time_scale).unwrap_or(wait)
            });
            match wait {
                Some(wait) => {
                    tracing::warn!(
                        attempt = attempts,
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        error = &error as &(dyn std::error::Error + 'static),
                        "retrying opper request"
                    );
                    tokio::time::sleep(wait).await;
                }
                None => {
                    error.set_attempts(attempts);
                    return Err(error);
                }
            }
        }
    }
}

/// `Retry-After`: delay-seconds or an HTTP date, capped at [`ApiError::MAX_RETRY_AFTER`]
/// (a longer wait, however long, even past what a `Duration` holds, reads as the cap). A
/// negative or not-a-number value is ignored, as any other unreadable one.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else if let Ok(seconds) = value.parse::<f64>() {
        if seconds.is_nan() || seconds < 0.0 {
            return None;
        }
        // Too long for a `Duration` (an infinity among them): the cap.
        Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    };
    Some(wait.min(ApiError::MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        let later = SystemTime::now() + Duration::from_secs(30);
        let wait = parse_retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!(
            wait <= Duration::from_secs(30) && wait >= Duration::from_secs(28),
            "{wait:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn a_retry_after_past_what_a_duration_holds_is_capped() {
        for huge in [
            "1e20",
            "18446744073709551616",
            "1e308",
            "inf",
            "99999999999999999999",
        ] {
            assert_eq!(
                parse_retry_after(huge),
                Some(ApiError::MAX_RETRY_AFTER),
                "{huge}"
            );
        }
        assert_eq!(parse_retry_after("2.5"), Some(Duration::from_millis(2500)));
        for unreadable in ["-1", "-0.5", "NaN", "-inf"] {
            assert_eq!(parse_retry_after(unreadable), None, "{unreadable}");
        }
        // The cap is more than the default policy waits: the error is returned, not waited out.
        assert_eq!(
            RetryPolicy::default().delay_for(1, parse_retry_after("1e20")),
            None
        );
    }

    #[test]
    fn delays_of_any_size_never_panic() {
        let huge = RetryPolicy::default()
            .max_retries(u32::MAX)
            .initial_delay(Duration::MAX)
            .multiplier(f64::MAX)
            .max_delay(Duration::MAX);
        for retry in [1, 2, 64, u32::MAX] {
            assert!(huge.delay_for(retry, None).is_some());
            assert!(huge.jitter(false).delay_for(retry, None).is_some());
        }
        let zero = huge.initial_delay(Duration::ZERO);
        assert_eq!(
            zero.jitter(false).delay_for(2000, None),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn backoff_grows_within_its_caps() {
        let policy = RetryPolicy::default()
            .max_retries(6)
            .initial_delay(Duration::from_millis(100))
            .multiplier(2.0)
            .max_delay(Duration::from_millis(1000));
        for _ in 0..50 {
            let waits: Vec<Duration> = (1..=6)
                .map(|n| policy.delay_for(n, None).unwrap())
                .collect();
            let nominal = [100u64, 200, 400, 800, 1000, 1000];
            for (wait, nominal) in waits.iter().zip(nominal) {
                assert!(
                    *wait <= Duration::from_millis(nominal),
                    "{wait:?} > {nominal}"
                );
                assert!(
                    *wait >= Duration::from_millis(nominal / 2),
                    "{wait:?} < {nominal}/2"
                );
            }
        }
        assert_eq!(policy.delay_for(7, None), None);
        assert_eq!(
            policy.delay_for(1, Some(Duration::from_millis(300))),
            Some(Duration::from_millis(300))
        );
        assert_eq!(policy.delay_for(1, Some(Duration::from_secs(5))), None);
        let fixed = policy.jitter(false);
        assert_eq!(fixed.delay_for(3, None), Some(Duration::from_millis(400)));
    }
}
