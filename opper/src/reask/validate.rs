//! Output validators: a check of a task's typed output, with the reason it is wrong.

use std::fmt::{self, Display};
use std::sync::Arc;

/// What can validate an output of type `T`: anything callable as `Fn(&T) -> Result<(), E>`
/// with `E: Display` — a fn, a closure, or a validation crate's method such as
/// `garde::Validate::validate`.
///
/// Implemented for every such callable; you never implement it yourself. It names the
/// requirement in the compile error when a validator has another signature.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot validate an output of type `{T}`",
    label = "expected a validator `Fn(&{T}) -> Result<(), E>` where `E: std::fmt::Display`",
    note = "a validator takes the output by reference and returns `Ok(())` or `Err(reason)`: `fn check(output: &{T}) -> Result<(), String>`"
)]
pub trait ValidatorFn<T, E>: Fn(&T) -> Result<(), E> + Send + Sync + 'static {}

impl<T, E, F> ValidatorFn<T, E> for F
where
    F: Fn(&T) -> Result<(), E> + Send + Sync + 'static,
    E: Display,
{
}

/// A validator of outputs of type `T`: given an output, `Ok(())` or the reason it is wrong.
///
/// Made from any [`ValidatorFn`]; cheap to clone (shared).
///
/// ```
/// let positive = opper::Validator::new(|sum: &i64| {
///     if *sum > 0 { Ok(()) } else { Err(format!("must be positive, got {sum}")) }
/// });
/// assert_eq!(positive.check(&3), Ok(()));
/// assert_eq!(positive.check(&-1), Err("must be positive, got -1".to_owned()));
/// ```
pub struct Validator<T> {
    check: Arc<Check<T>>,
}

/// A validator with its error turned into the reason.
type Check<T> = dyn Fn(&T) -> Result<(), String> + Send + Sync;

impl<T> Validator<T> {
    /// A validator from a function or closure whose error is anything `Display`.
    pub fn new<E: Display>(f: impl ValidatorFn<T, E>) -> Self {
        Self {
            check: Arc::new(move |output: &T| {
                f(output).map_err(|error| {
                    // Some reports end in a newline; the reason is a line of the re-ask.
                    let mut reason = error.to_string();
                    reason.truncate(reason.trim_end().len());
                    reason
                })
            }),
        }
    }

    /// Checks an output: `Ok(())`, or the reason it is wrong (the error's `Display`, without
    /// trailing whitespace).
    pub fn check(&self, output: &T) -> Result<(), String> {
        (self.check)(output)
    }
}

impl<T> Clone for Validator<T> {
    fn clone(&self) -> Self {
        Self {
            check: Arc::clone(&self.check),
        }
    }
}

impl<T> fmt::Debug for Validator<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field("output", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

/// The forms a validator of `validate = EXPR` may take, for `#[opper::function]`: besides
/// every [`ValidatorFn<T, E>`], a validator of a `Vec<U>` output may take `&[U]` and one of a
/// `String` output `&str` (the forms `clippy::ptr_arg` asks for). `M` tells the forms apart
/// (`ByRef`, `BySlice`, `ByStr`); the fourth impl, which nothing meets, makes every
/// selection weigh more than one candidate, so that a validator that fits none gets this
/// trait's message, on the validator, rather than a signature mismatch naming the macro's
/// helpers.
///
/// Not a public API: the macro names it through `opper::__private`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot validate an output of type `{T}`",
    label = "expected a validator `Fn(&{T}) -> Result<(), E>` where `E: std::fmt::Display`",
    note = "a validator takes the output by reference (`&[U]` also for a `Vec<U>`, `&str` for a `String`) and returns `Ok(())` or `Err(reason)`: `fn check(output: &{T}) -> Result<(), String>`"
)]
pub trait ValidatorForm<T, E, M> {
    /// The validator.
    fn into_validator(self) -> Validator<T>;
}

/// A [`ValidatorForm`] that takes `&T`.
#[doc(hidden)]
#[derive(Debug)]
pub enum ByRef {}

/// A [`ValidatorForm`] that takes `&[U]` for a `Vec<U>`.
#[doc(hidden)]
#[derive(Debug)]
pub enum BySlice {}

/// A [`ValidatorForm`] that takes `&str` for a `String`.
#[doc(hidden)]
#[derive(Debug)]
pub enum ByStr {}

/// The form nothing takes (see [`ValidatorForm`]).
#[doc(hidden)]
#[derive(Debug)]
pub enum Unfit {}

/// Implemented by nothing: the bound of the `Unfit` form.
#[doc(hidden)]
pub trait Never {
    /// Never called.
    fn never<T>(self) -> Validator<T>;
}

#[diagnostic::do_not_recommend]
impl<T, E, F> ValidatorForm<T, E, ByRef> for F
where
    F: ValidatorFn<T, E>,
    E: Display,
{
    fn into_validator(self) -> Validator<T> {
        Validator::new(self)
    }
}

#[diagnostic::do_not_recommend]
impl<U, E, F> ValidatorForm<Vec<U>, E, BySlice> for F
where
    F: Fn(&[U]) -> Result<(), E> + Send + Sync + 'static,
    E: Display,
{
    fn into_validator(self) -> Validator<Vec<U>> {
        Validator::new(move |output: &Vec<U>| self(output))
    }
}

#[diagnostic::do_not_recommend]
impl<E, F> ValidatorForm<String, E, ByStr> for F
where
    F: Fn(&str) -> Result<(), E> + Send + Sync + 'static,
    E: Display,
{
    fn into_validator(self) -> Validator<String> {
        Validator::new(move |output: &String| self(output))
    }
}

#[diagnostic::do_not_recommend]
impl<T, E, F: Never> ValidatorForm<T, E, Unfit> for F {
    fn into_validator(self) -> Validator<T> {
        self.never()
    }
}

/// What a [`CallBuilder`](crate::CallBuilder) checks its output with: `()` (nothing, the
/// default: any output type) or a [`Validator<T>`] (set with
/// [`CallBuilder::validate`](crate::CallBuilder::validate), which fixes the output type).
///
/// Sealed: implemented only by those two.
pub trait OutputCheck<T>: sealed::Sealed {
    /// The validator, if any.
    fn into_validator(self) -> Option<Validator<T>>;
}

impl<T> OutputCheck<T> for () {
    fn into_validator(self) -> Option<Validator<T>> {
        None
    }
}

impl<T> OutputCheck<T> for Validator<T> {
    fn into_validator(self) -> Option<Validator<T>> {
        Some(self)
    }
}

impl sealed::Sealed for () {}
impl<T> sealed::Sealed for Validator<T> {}

mod sealed {
    /// Only `()` and `Validator<T>` are output checks.
    pub trait Sealed {}
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Sum {
        sum: i64,
    }

    fn positive(sum: &Sum) -> Result<(), String> {
        if sum.sum > 0 {
            Ok(())
        } else {
            Err(format!("sum must be positive, got {}", sum.sum))
        }
    }

    #[derive(Debug)]
    struct Custom(&'static str);

    impl Display for Custom {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "custom: {}", self.0)
        }
    }

    #[test]
    fn a_fn_path_a_closure_and_any_display_error_make_a_validator() {
        let by_path = Validator::new(positive);
        assert_eq!(by_path.check(&Sum { sum: 1 }), Ok(()));
        assert_eq!(
            by_path.check(&Sum { sum: -2 }),
            Err("sum must be positive, got -2".to_owned())
        );
        // An unannotated closure: its argument type comes from `Validator<Sum>`.
        let closure = Validator::<Sum>::new(|s| {
            if s.sum < 10 {
                Ok(())
            } else {
                Err(Custom("big"))
            }
        });
        assert_eq!(closure.check(&Sum { sum: 3 }), Ok(()));
        assert_eq!(
            closure.check(&Sum { sum: 30 }),
            Err("custom: big".to_owned())
        );
        // Reports that end in a newline (garde's do) give a reason without it.
        let report = Validator::<Sum>::new(|_| Err("age: lower than 18\n"));
        assert_eq!(
            report.check(&Sum { sum: 0 }),
            Err("age: lower than 18".to_owned())
        );
        let shared = closure.clone();
        assert_eq!(
            shared.check(&Sum { sum: 30 }),
            Err("custom: big".to_owned())
        );
        assert!(format!("{shared:?}").contains("Sum"));
    }
}
