//! [`PartialForm`] (and so [`Partial`](super::Partial)) for the standard types.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::field::PartialField;
use super::kind::Kind;
use super::path::display;
use super::scalar::{self, Progress};
use super::{Cx, PartialForm, Seg};

/// Error for a path that goes on past a leaf.
fn past_leaf(what: &str, path: &[Seg<'_>]) -> String {
    format!("{what} has no `{}`", display(path))
}

/// Applies `delta` to an existing partial value in place (no copy: the value is moved out,
/// leaving the type's empty value, and back). A type without an empty value (a unit enum) only
/// ever replaces its slot: it gets an empty slot, and what it puts there replaces the value.
pub(crate) fn apply_in_place<T: PartialForm>(
    target: &mut T::Form,
    path: &[Seg<'_>],
    delta: &Value,
    cx: &mut Cx,
) -> Result<(), String> {
    let mut slot = T::__empty().map(|empty| std::mem::replace(target, empty));
    let result = T::__apply(&mut slot, path, delta, cx);
    if let Some(value) = slot {
        *target = value;
    }
    result
}

/// Appends a delta to text: a string as is, a number or boolean as its JSON text.
pub(crate) fn append_text(text: &mut String, delta: &Value, what: &str) -> Result<(), String> {
    match delta {
        Value::String(s) => text.push_str(s),
        Value::Number(n) => text.push_str(&n.to_string()),
        Value::Bool(b) => text.push_str(if *b { "true" } else { "false" }),
        other => return Err(format!("{what} cannot take the delta {other}")),
    }
    Ok(())
}

impl PartialForm for String {
    type Form = String;

    fn __empty() -> Option<String> {
        Some(String::new())
    }

    fn __apply(
        slot: &mut Option<String>,
        path: &[Seg<'_>],
        delta: &Value,
        cx: &mut Cx,
    ) -> Result<(), String> {
        if !path.is_empty() {
            return Err(past_leaf("a string", path));
        }
        if cx.committing() {
            // A string is shown as it grows: nothing was held back.
            return Ok(());
        }
        append_text(slot.get_or_insert_with(String::new), delta, "a string")
    }
}

/// A `char` is the text received so far (checked when the stream ends).
impl PartialForm for char {
    type Form = String;

    fn __empty() -> Option<String> {
        Some(String::new())
    }

    fn __apply(
        slot: &mut Option<String>,
        path: &[Seg<'_>],
        delta: &Value,
        cx: &mut Cx,
    ) -> Result<(), String> {
        String::__apply(slot, path, delta, cx)
    }
}

macro_rules! scalar_partial {
    ($($ty:ty),* $(,)?) => {$(
        impl PartialForm for $ty {
            type Form = $ty;

            fn __empty() -> Option<$ty> {
                Some(<$ty>::default())
            }

            fn __apply(
                slot: &mut Option<$ty>,
                path: &[Seg<'_>],
                delta: &Value,
                cx: &mut Cx,
            ) -> Result<(), String> {
                scalar::apply(slot, path, delta, cx)
            }
        }

        impl PartialField for $ty {}
    )*};
}

scalar_partial!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, bool
);

/// An option's partial is its content's; a `null` delta leaves it `None`.
impl<T: PartialForm> PartialForm for Option<T> {
    type Form = T::Form;

    fn __empty() -> Option<T::Form> {
        T::__empty()
    }

    fn __resolve(path: &[Seg<'_>]) -> bool {
        T::__resolve(path)
    }

    fn __ready(partial: &T::Form) -> bool {
        T::__ready(partial)
    }

    fn __apply(
        slot: &mut Option<T::Form>,
        path: &[Seg<'_>],
        delta: &Value,
        cx: &mut Cx,
    ) -> Result<(), String> {
        if path.is_empty() && delta.is_null() && !cx.committing() {
            *slot = None;
            return Ok(());
        }
        T::__apply(slot, path, delta, cx)
    }
}

impl<T: PartialForm> PartialForm for Box<T> {
    type Form = Box<T::Form>;

    fn __empty() -> Option<Box<T::Form>> {
        T::__empty().map(Box::new)
    }

    fn __resolve(path: &[Seg<'_>]) -> bool {
        T::__resolve(path)
    }

    fn __ready(partial: &Box<T::Form>) -> bool {
        T::__ready(partial)
    }

    fn __apply(
        slot: &mut Option<Box<T::Form>>,
        path: &[Seg<'_>],
        delta: &Value,
        cx: &mut Cx,
    ) -> Result<(), String> {
        match slot {
            Some(boxed) => apply_in_place::<T>(boxed, path, delta, cx),
            None => {
                let mut inner = None;
                let result = T::__apply(&mut inner, path, delta, cx);
                *slot = inner.map(Box::new);
                result
            }
        }
    }
}

/// The capacity past which a partial array grows by an eighth, not by doubling.
const GROW_BY_EIGHTHS: usize = 8 * 1024;

/// Makes room for `more` items: by doubling while the array is short, then by an eighth, so a
/// large array is held in about its own size (and growing it takes about twice that, not
/// three times).
fn grow<P>(items: &mut Vec<P>, more: usize) {
    let (len, capacity) = (items.len(), items.capacity());
    if len.saturating_add(more) > capacity && capacity >= GROW_BY_EIGHTHS {
        items.reserve_exact(more.max(capacity / 8));
    }
}

/// Items arrive in order: `[len]` starts the next item, `[i]` with `i < len` fills item `i`,
/// and `[i]` with `i > len` first fills the items skipped with their empty value. Every item
/// created is paid for out of the stream's budget (see [`FREE_ITEMS`](super::FREE_ITEMS)).
impl<T: PartialForm> PartialForm for Vec<T> {
    type Form = Vec<T::Form>;

    fn __empty() -> Option<Vec<T::Form>> {
        Some(Vec::new())
    }

    fn __resolve(path: &[Seg<'_>]) -> bool {
        match path.split_first() {
            Some((Seg::Index(_), rest)) => T::__resolve(rest),
            _ => false,
        }
    }

    fn __apply(
        slot: &mut Option<Vec<T::Form>>,
        path: &[Seg<'_>],
        delta: &Value,
        cx: &mut Cx,
    ) -> Result<(), String> {
        let (index, rest) = match path.split_first() {
            Some((Seg::Index(index), rest)) => (*index, rest),
            Some((Seg::Key(key), _)) => {
                return Err(format!(
                    "an array has no key `{key}`: expected an index `[i]`"
                ));
            }
            None => return Err(format!("an array cannot take the delta {delta} directly")),
        };
        if cx.committing() && slot.is_none() {
            return Ok(());
        }
        let items = slot.get_or_insert_with(Vec::new);
        let len = items.len();
        if let Some(item) = items.get_mut(index) {
            return apply_in_place::<T>(item, rest, delta, cx);
        }
        if cx.committing() {
            // The item at `len` may be held back (not yet whole, or not yet ready): it is
            // pushed once it comes out.
            if index == len {
                let mut item = None;
                let result = T::__apply(&mut item, rest, delta, cx);
                if let Some(item) = item {
                    cx.create_items(1)?;
                    grow(items, 1);
                    items.push(item);
                }
                return result;
            }
            return Ok(());
        }
        // The service announces no chunk for an item that is an empty array, an empty
        // object or null: the items it skipped (`index > len`) are filled with their empty
        // value.
        // `index >= len`: the skipped items and this one (saturating for the largest index,
        // which no budget pays for).
        let count = index.saturating_sub(len).saturating_add(1);
        cx.create_items(count).map_err(|reason| {
            format!("item [{index}] arrived while the array has {len} items: {reason}")
        })?;
        // A skipped item, or `[i]: null` itself, is the item type's empty value (an `Option`'s:
        // null); a type that has none (a unit enum) cannot be skipped.
        let empty = || {
            T::__empty().ok_or_else(|| {
                format!("item [{index}] arrived while the array has {len} items, and an item of this type is never empty")
            })
        };
        grow(items, count);
        if index > len {
            let empty = empty()?;
            items.resize(index, empty);
        }
        let mut item = None;
        let result = T::__apply(&mut item, rest, delta, cx);
        match item {
            Some(item) => items.push(item),
            None if rest.is_empty() && delta.is_null() => items.push(empty()?),
            // Held back: it is pushed when it comes out. Its place was paid for.
            None => cx.items_left = cx.items_left.saturating_add(1),
        }
        result
    }
}

macro_rules! map_partial {
    ($($map:ident),*) => {$(
        /// Any key is a key of the map.
        impl<V: PartialForm> PartialForm for $map<String, V> {
            type Form = $map<String, V::Form>;

            fn __empty() -> Option<Self::Form> {
                Some($map::new())
            }

            fn __resolve(path: &[Seg<'_>]) -> bool {
                match path.split_first() {
                    Some((Seg::Key(_), rest)) => V::__resolve(rest),
                    _ => false,
                }
            }

            fn __apply(
                slot: &mut Option<Self::Form>,
                path: &[Seg<'_>],
                delta: &Value,
                cx: &mut Cx,
            ) -> Result<(), String> {
                let (key, rest) = match path.split_first() {
                    Some((Seg::Key(key), rest)) => (key, rest),
                    Some((Seg::Index(index), _)) => {
                        return Err(format!("a map has no index [{index}]: expected a key"));
                    }
                    None => return Err(format!("a map cannot take the delta {delta} directly")),
                };
                if cx.committing() && slot.is_none() {
                    return Ok(());
                }
                let map = slot.get_or_insert_with(Default::default);
                if let Some(value) = map.get_mut(&**key) {
                    return apply_in_place::<V>(value, rest, delta, cx);
                }
                let mut value = None;
                V::__apply(&mut value, rest, delta, cx)?;
                if let Some(value) = value {
                    map.insert(key.clone().into_owned(), value);
                }
                Ok(())
            }
        }
    )*};
}

map_partial!(BTreeMap, HashMap);

/// Any JSON: objects and arrays are built as the paths dictate; text deltas concatenate.
impl PartialForm for Value {
    type Form = Value;

    fn __empty() -> Option<Value> {
        Some(Value::Null)
    }

    fn __resolve(_path: &[Seg<'_>]) -> bool {
        true
    }

    fn __apply(
        slot: &mut Option<Value>,
        path: &[Seg<'_>],
        delta: &Value,
        cx: &mut Cx,
    ) -> Result<(), String> {
        if cx.committing() {
            // JSON takes deltas as they come: nothing is held back.
            return Ok(());
        }
        apply_value(slot, path, delta, cx)
    }
}

/// A JSON object: any key.
impl PartialForm for Map<String, Value> {
    type Form = Map<String, Value>;

    fn __empty() -> Option<Map<String, Value>> {
        Some(Map::new())
    }

    fn __resolve(path: &[Seg<'_>]) -> bool {
        matches!(path.first(), Some(Seg::Key(_)))
    }

    fn __apply(
        slot: &mut Option<Map<String, Value>>,
        path: &[Seg<'_>],
        delta: &Value,
        cx: &mut Cx,
    ) -> Result<(), String> {
        if !matches!(path.first(), Some(Seg::Key(_))) {
            return Err("a JSON object takes its values by key".into());
        }
        if cx.committing() {
            return Ok(());
        }
        let mut value = slot.take().map(Value::Object);
        let result = apply_value(&mut value, path, delta, cx);
        *slot = match value {
            Some(Value::Object(map)) => Some(map),
            _ => Some(Map::new()),
        };
        result
    }
}

fn apply_value(
    slot: &mut Option<Value>,
    path: &[Seg<'_>],
    delta: &Value,
    cx: &mut Cx,
) -> Result<(), String> {
    let Some((seg, rest)) = path.split_first() else {
        return apply_value_leaf(slot, delta, cx);
    };
    let value = slot.get_or_insert(Value::Null);
    match seg {
        Seg::Key(key) => {
            if value.is_null() {
                *value = Value::Object(Map::new());
            }
            let Value::Object(map) = value else {
                return Err(format!("key `{key}` in JSON that is not an object"));
            };
            if let Some(child) = map.get_mut(&**key) {
                let mut child_slot = Some(std::mem::take(child));
                let result = apply_value(&mut child_slot, rest, delta, cx);
                *child = child_slot.unwrap_or_default();
                return result;
            }
            let mut child = None;
            apply_value(&mut child, rest, delta, cx)?;
            if let Some(child) = child {
                map.insert(key.clone().into_owned(), child);
            }
            Ok(())
        }
        Seg::Index(index) => {
            if value.is_null() {
                *value = Value::Array(Vec::new());
            }
            let Value::Array(items) = value else {
                return Err(format!("index [{index}] in JSON that is not an array"));
            };
            let len = items.len();
            if let Some(child) = items.get_mut(*index) {
                let mut child_slot = Some(std::mem::take(child));
                let result = apply_value(&mut child_slot, rest, delta, cx);
                *child = child_slot.unwrap_or_default();
                result
            } else {
                // Unannounced items (null, [] or {}) before this one: null stands for them.
                // `index >= len`: as for a `Vec` above.
                let count = index.saturating_sub(len).saturating_add(1);
                cx.create_items(count).map_err(|reason| {
                    format!("item [{index}] arrived while the array has {len} items: {reason}")
                })?;
                let mut child = None;
                apply_value(&mut child, rest, delta, cx)?;
                items.resize(*index, Value::Null);
                items.push(child.unwrap_or_default());
                Ok(())
            }
        }
    }
}

fn apply_value_leaf(slot: &mut Option<Value>, delta: &Value, cx: &mut Cx) -> Result<(), String> {
    match (slot.as_mut(), delta) {
        (Some(Value::String(text)), _) => append_text(text, delta, "a JSON string"),
        (Some(Value::Number(_)), Value::Number(_) | Value::String(_)) if cx.continued => {
            // A number split over chunks: join the texts.
            append_text(&mut cx.text, delta, "a JSON number")?;
            match scalar::progress(Kind::Float, &cx.text) {
                Progress::Invalid => Err(format!("`{}` is not a number", cx.text)),
                Progress::Incomplete => {
                    cx.pending = Some(Kind::Float);
                    Ok(())
                }
                Progress::Complete => {
                    cx.pending = None;
                    let number = serde_json::from_str::<Value>(&cx.text)
                        .map_err(|e| format!("`{}` is not a number: {e}", cx.text))?;
                    *slot = Some(number);
                    Ok(())
                }
            }
        }
        _ => {
            if let Value::Number(number) = delta {
                cx.text.clear();
                cx.text.push_str(&number.to_string());
            }
            *slot = Some(delta.clone());
            Ok(())
        }
    }
}

// Every std type with a partial form can be a field of a derived type.
impl PartialField for String {}
impl PartialField for char {}
impl<T: PartialField> PartialField for Option<T> {}
impl<T: PartialField> PartialField for Box<T> {}
impl<T: PartialField> PartialField for Vec<T> {}
impl<V: PartialField> PartialField for BTreeMap<String, V> {}
impl<V: PartialField> PartialField for HashMap<String, V> {}
impl PartialField for Value {}
impl PartialField for Map<String, Value> {}
