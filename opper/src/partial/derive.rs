//! Support for the code `#[derive(opper::Partial)]` generates, re-exported (with the types it
//! names) by `opper::__private`. Not a public API.

use serde_json::Value;

use super::impls::append_text;
use super::{Cx, PartialForm, Seg};

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

/// Runs `apply` on the partial struct of `T` for `slot`, holding it back from `slot` while
/// [`PartialForm::__ready`] says it is not ready (a `required` field has no value yet) and it has
/// not completed. The derive wraps each struct's `__apply` body in it:
///
/// ```ignore
/// fn __apply(__slot, __path, __delta, __cx) -> Result<(), String> {
///     let (__key, __rest) = __private::split_key(__path, "Member")?;
///     __private::with_object::<Self>(__slot, __path, __cx, |__obj, __cx| match __key {
///         "name" => <String as PartialForm>::__apply(&mut __obj.name, __rest, __delta, __cx),
///         _ => Err(__private::no_field("Member", __key, &["name"])),
///     })
/// }
/// ```
pub fn with_object<T: PartialForm>(
    slot: &mut Option<T::Form>,
    path: &[Seg<'_>],
    cx: &mut Cx,
    apply: impl FnOnce(&mut T::Form, &mut Cx) -> Result<(), String>,
) -> Result<(), String>
where
    T::Form: Default,
{
    if let Some(object) = slot {
        return apply(object, cx);
    }
    let depth = cx.depth(path);
    let mut object = match cx.take_held::<T::Form>(depth) {
        Some(object) => object,
        // Nothing to complete here.
        None if cx.committing() => return Ok(()),
        None => T::Form::default(),
    };
    let result = apply(&mut object, cx);
    // Inside an atomic field everything is hidden until it is whole: no need to hold.
    if cx.hidden > 0 || cx.completes(depth) || T::__ready(&object) {
        *slot = Some(object);
    } else {
        cx.put_held(depth, object);
    }
    result
}

/// [`PartialForm::__apply`] for an `#[opper(atomic)]` field of type `F`: the value is built aside
/// and enters `slot` only when the field completes (the stream moves past it, or ends), so it
/// is shown only whole, whatever `F` is. The derive calls it in place of `F::__apply` for such
/// a field.
pub fn atomic<F: PartialForm>(
    slot: &mut Option<F::Form>,
    path: &[Seg<'_>],
    delta: &Value,
    cx: &mut Cx,
) -> Result<(), String> {
    if slot.is_some() {
        // Already whole (a path that came back to it): as any field.
        return F::__apply(slot, path, delta, cx);
    }
    let depth = cx.depth(path);
    let mut inner = cx.take_held::<F::Form>(depth);
    if inner.is_none() && cx.committing() {
        return Ok(());
    }
    cx.hidden = cx.hidden.saturating_add(1);
    let result = F::__apply(&mut inner, path, delta, cx);
    cx.hidden = cx.hidden.saturating_sub(1);
    if cx.completes(depth) {
        *slot = inner;
    } else if let Some(inner) = inner {
        cx.put_held(depth, inner);
    }
    result
}

/// [`PartialForm::__apply`] for a `#[serde(flatten)]`ed field of type `F`, whose fields are its
/// parent's own: it is never held apart from the parent (its `required` fields hold the
/// parent back instead, see [`flat_ready`]), so its partial is created in `slot` at once.
pub fn flattened<F: PartialForm>(
    slot: &mut Option<F::Form>,
    path: &[Seg<'_>],
    delta: &Value,
    cx: &mut Cx,
) -> Result<(), String>
where
    F::Form: Default,
{
    slot.get_or_insert_with(F::Form::default);
    F::__apply(slot, path, delta, cx)
}

/// Whether a flattened field of type `F` lets its parent be shown: its own `required` fields
/// all have a value (none has while nothing arrived for it). The derive's `__ready` includes
/// this for every flattened field.
pub fn flat_ready<F: PartialForm>(field: &Option<F::Form>) -> bool
where
    F::Form: Default,
{
    match field {
        Some(partial) => F::__ready(partial),
        None => F::__ready(&F::Form::default()),
    }
}

/// Whether a field's partial value counts as a value for `#[opper(required)]`: any
/// `Some`. (Numbers, booleans, variants and atomic fields are `Some` only once whole.) The
/// derive's `__ready` is the `&&` of this over the required fields.
pub fn has_value<P>(field: &Option<P>) -> bool {
    field.is_some()
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

/// Applies a delta to a unit-only enum, whose partial form is the enum itself: the text
/// received is held back (it must stay a prefix of one of `names` unless the enum has an
/// `other` variant, `open`) and enters `slot` only when the field completes, as the variant
/// `from_name` gives for it (the `other` variant for any other text, if `open`). A partial never
/// shows a variant on its way to another (`Wri` on the way to `Writer`), and a variant once
/// shown is never changed (a path sent again must bring the same variant). It only ever
/// replaces `slot` (see [`PartialForm::__empty`]).
#[allow(clippy::too_many_arguments)] // the derive's one call
pub fn variant<E: std::fmt::Debug>(
    slot: &mut Option<E>,
    path: &[Seg<'_>],
    delta: &Value,
    cx: &mut Cx,
    ty: &str,
    names: &[&str],
    open: bool,
    from_name: impl FnOnce(&str) -> Option<E>,
) -> Result<(), String> {
    if let Some(seg) = path.first() {
        return Err(format!("{ty} is an enum of names: it has no `{seg}`"));
    }
    if cx.committing() {
        if cx.held_text {
            cx.held_text = false;
            match from_name(&cx.text) {
                // (A root value is never sent again: no other path to move on to.)
                Some(value) => match slot {
                    Some(shown)
                        if std::mem::discriminant(shown) != std::mem::discriminant(&value)
                            && cx.len > 0 =>
                    {
                        return Err(super::scalar::shown_already(
                            &format!("{shown:?}"),
                            &cx.text,
                        ));
                    }
                    _ => *slot = Some(value),
                },
                None => {
                    return Err(format!(
                        "`{}` is not a variant of {ty} ({})",
                        cx.text,
                        names.join(", ")
                    ));
                }
            }
        }
        return Ok(());
    }
    if !cx.continued {
        cx.text.clear();
    }
    append_text(&mut cx.text, delta, ty)?;
    cx.held_text = true;
    if open || names.iter().any(|name| name.starts_with(cx.text.as_str())) {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not the start of a variant of {ty} ({})",
            cx.text,
            names.join(", ")
        ))
    }
}
