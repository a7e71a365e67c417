//! Numbers and booleans that may arrive as text split over several chunks.

use serde_json::Value;

use super::cx::Cx;
use super::kind::Kind;
use super::path::Seg;
use crate::jsontext::number::Num;

/// Longest number or boolean text accepted for one field (keeps a stream linear).
const MAX_SCALAR_TEXT: usize = 400;

/// How far a text is in the grammar of a JSON number or boolean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Not a prefix of any valid text.
    Invalid,
    /// A proper prefix: more text is needed.
    Incomplete,
    /// A complete value (which may still continue).
    Complete,
}

/// Checks `text` against the JSON grammar of `kind` (integers: no fraction nor exponent).
pub(crate) fn progress(kind: Kind, text: &str) -> Progress {
    match kind {
        Kind::Bool => {
            if text == "true" || text == "false" {
                Progress::Complete
            } else if "true".starts_with(text) || "false".starts_with(text) {
                Progress::Incomplete
            } else {
                Progress::Invalid
            }
        }
        Kind::Int { signed } => number(text, signed, false),
        Kind::Float => number(text, true, true),
    }
}

/// `text` in JSON's number grammar (see [`Num`]); without a sign unless `signed`, without a
/// fraction or an exponent unless `real`.
fn number(text: &str, signed: bool, real: bool) -> Progress {
    let mut state = Num::Start;
    for b in text.bytes() {
        let refused = (b == b'-' && state == Num::Start && !signed)
            || (!real && matches!(b, b'.' | b'e' | b'E'));
        match state.next(b) {
            Some(next) if !refused => state = next,
            _ => return Progress::Invalid,
        }
    }
    if state.whole() {
        Progress::Complete
    } else {
        Progress::Incomplete
    }
}

/// A scalar (number or boolean) leaf type.
pub(crate) trait Scalar: Sized + PartialEq + std::fmt::Display {
    const KIND: Kind;
    fn parse(text: &str) -> Option<Self>;
}

macro_rules! int_scalar {
    ($($ty:ty => $signed:expr),* $(,)?) => {$(
        impl Scalar for $ty {
            const KIND: Kind = Kind::Int { signed: $signed };
            fn parse(text: &str) -> Option<Self> {
                text.parse().ok()
            }
        }
    )*};
}

int_scalar!(
    i8 => true, i16 => true, i32 => true, i64 => true, i128 => true, isize => true,
    u8 => false, u16 => false, u32 => false, u64 => false, u128 => false, usize => false,
);

impl Scalar for f64 {
    const KIND: Kind = Kind::Float;
    fn parse(text: &str) -> Option<Self> {
        text.parse::<f64>().ok().filter(|v| v.is_finite())
    }
}

impl Scalar for f32 {
    const KIND: Kind = Kind::Float;
    fn parse(text: &str) -> Option<Self> {
        // Like serde_json: read as f64, then narrow.
        let wide = text.parse::<f64>().ok().filter(|v| v.is_finite())?;
        // Narrowing is the point (to the nearest `f32`); out of its range it is infinite, and
        // refused just below. `as` between floats never panics.
        #[allow(clippy::cast_possible_truncation)]
        let narrow = wide as f32;
        Some(narrow).filter(|v| v.is_finite())
    }
}

impl Scalar for bool {
    const KIND: Kind = Kind::Bool;
    fn parse(text: &str) -> Option<Self> {
        match text {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

/// Applies a delta to a number or boolean leaf. Every delta, typed (a JSON number or boolean)
/// or text, joins the text of the previous chunks of the same path and is held back: the value
/// enters the slot when the field completes (the commit walk), so a partial never shows `4` on
/// the way to `42`, whether `42` came as `"4"`, `"2"` or as `4`, `2`. A value once shown is
/// never changed: a path sent again after the stream moved on must bring the same value, or
/// the chunk is refused.
pub(crate) fn apply<N: Scalar>(
    slot: &mut Option<N>,
    path: &[Seg<'_>],
    delta: &Value,
    cx: &mut Cx,
) -> Result<(), String> {
    let kind = N::KIND;
    if let Some(seg) = path.first() {
        return Err(format!(
            "{} has no `{}`: the path goes past a leaf",
            kind.name(),
            super::path::display(std::slice::from_ref(seg))
        ));
    }
    if cx.committing() {
        if cx.held_text {
            cx.held_text = false;
            let value = parse_whole::<N>(cx)?;
            // (A root value is never sent again: there is no other path to move on to.)
            if let Some(shown) = slot.as_ref().filter(|shown| **shown != value && cx.len > 0) {
                return Err(shown_already(&shown.to_string(), &cx.text));
            }
            *slot = Some(value);
        }
        return Ok(());
    }
    if !cx.continued {
        cx.text.clear();
    }
    match delta {
        Value::String(text) => push_text(cx, text)?,
        Value::Number(number) if kind != Kind::Bool => push_text(cx, &number.to_string())?,
        Value::Bool(b) if kind == Kind::Bool => push_text(cx, if *b { "true" } else { "false" })?,
        other => {
            return Err(format!(
                "expected {} (or its text), got the delta {other}",
                kind.name()
            ));
        }
    }
    match progress(kind, &cx.text) {
        Progress::Invalid => Err(format!("`{}` is not {}", cx.text, kind.name())),
        Progress::Incomplete => {
            cx.pending = Some(kind);
            cx.held_text = true;
            Ok(())
        }
        Progress::Complete => {
            cx.pending = None;
            // Checked now, so an out-of-range value fails at its chunk.
            parse_whole::<N>(cx)?;
            cx.held_text = true;
            Ok(())
        }
    }
}

/// The error for a field sent again, after the stream had moved on, with another value than the
/// one shown.
pub(crate) fn shown_already(shown: &str, sent: &str) -> String {
    format!(
        "the field already shows `{shown}` and was sent again as `{sent}`: a value once shown \
         is never changed"
    )
}

/// The held text as a value of `N`.
fn parse_whole<N: Scalar>(cx: &Cx) -> Result<N, String> {
    N::parse(&cx.text).ok_or_else(|| {
        format!(
            "`{}` is out of range for {}",
            cx.text,
            std::any::type_name::<N>()
        )
    })
}

fn push_text(cx: &mut Cx, text: &str) -> Result<(), String> {
    if cx.text.len().saturating_add(text.len()) > MAX_SCALAR_TEXT {
        return Err(format!(
            "a number or boolean longer than {MAX_SCALAR_TEXT} characters"
        ));
    }
    cx.text.push_str(text);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn number_grammar() {
        use Progress::*;
        let float = |t| progress(Kind::Float, t);
        let int = |t| progress(Kind::Int { signed: true }, t);
        let uint = |t| progress(Kind::Int { signed: false }, t);
        for t in ["0", "-0", "12", "12.5", "1e5", "1E+5", "-1.25e-3", "0.0"] {
            assert_eq!(float(t), Complete, "{t}");
        }
        for t in ["", "-", "1.", "1e", "1e+", "-0."] {
            assert_eq!(float(t), Incomplete, "{t}");
        }
        for t in [
            "01", "+1", ".5", "1.e5", "1x", "inf", "NaN", "1e5.0", " 1", "--1",
        ] {
            assert_eq!(float(t), Invalid, "{t}");
        }
        assert_eq!(int("-12"), Complete);
        assert_eq!(int("1.5"), Invalid);
        assert_eq!(int("1e3"), Invalid);
        assert_eq!(uint("-1"), Invalid);
        assert_eq!(uint("7"), Complete);
        assert_eq!(progress(Kind::Bool, "tr"), Incomplete);
        assert_eq!(progress(Kind::Bool, "false"), Complete);
        assert_eq!(progress(Kind::Bool, "fals e"), Invalid);
        assert_eq!(progress(Kind::Bool, ""), Incomplete);
    }
}
