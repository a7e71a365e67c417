//! Support for the code `#[derive(opper::Partial)]` generates, re-exported (with the types it
//! names) by `opper::__private`. Not a public API.

use serde_json::Value;

use super::Seg;
use super::impls::append_text;

/// The first key of `path`, and the rest; `Err` when the path does not start with a key.
pub fn split_key<'p, 'a>(
    path: &'p [Seg<'a>],
    ty: &str,
) -> Result<(&'p str, &'p [Seg<'a>]), String> {
    match path.split_first() {
        Some((Seg::Key(key), rest)) => Ok((key, rest)),
        Some((Seg::Index(index), _)) => Err(format!("{ty} has no index [{index}]: it is a struct")),
        None => Err(format!(
            "{ty} is a struct: it takes deltas by field, not directly"
        )),
    }
}

/// The first key of `path`, and the rest, if it starts with one.
pub fn first_key<'p, 'a>(path: &'p [Seg<'a>]) -> Option<(&'p str, &'p [Seg<'a>])> {
    match path.split_first() {
        Some((Seg::Key(key), rest)) => Some((key, rest)),
        _ => None,
    }
}

/// The partial struct in `slot`, created empty if needed.
pub fn object<P: Default>(slot: &mut Option<P>) -> &mut P {
    slot.get_or_insert_with(P::default)
}

/// The error for a key that is not a field of the struct.
pub fn no_field(ty: &str, key: &str, fields: &[&str]) -> String {
    let mut message = format!("{ty} has no field `{key}`");
    if !fields.is_empty() {
        message.push_str(" (its fields: ");
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                message.push_str(", ");
            }
            message.push_str(field);
        }
        message.push(')');
    }
    message
}

/// Applies a delta to a unit-only enum, whose partial form is the text of the variant's name
/// so far: the text must stay a prefix of one of `names` unless the enum has an `other`
/// variant (`open`).
pub fn unit_enum(
    slot: &mut Option<String>,
    path: &[Seg<'_>],
    delta: &Value,
    ty: &str,
    names: &[&str],
    open: bool,
) -> Result<(), String> {
    if let Some(seg) = path.first() {
        return Err(format!("{ty} is an enum of names: it has no `{seg}`"));
    }
    let text = slot.get_or_insert_with(String::new);
    append_text(text, delta, ty)?;
    if open || names.iter().any(|name| name.starts_with(text.as_str())) {
        Ok(())
    } else {
        Err(format!(
            "`{text}` is not the start of a variant of {ty} ({})",
            names.join(", ")
        ))
    }
}
