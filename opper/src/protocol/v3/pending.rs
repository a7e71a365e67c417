//! The `202 Accepted` answer of v3 (`PendingResponse`): the work is not done.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::error::Error;
use crate::error::{PendingOperation, cut};

/// The status of a pending answer: `202 Accepted`.
pub(crate) const PENDING: u16 = 202;

/// A `202 Accepted` (`PendingResponse`): the work is not done; its pending operations.
pub(crate) fn pending(status: u16, bytes: &[u8]) -> Option<Error> {
    if status != PENDING {
        return None;
    }
    #[derive(Deserialize, Default)]
    struct Body {
        #[serde(default)]
        meta: Option<Meta>,
    }
    #[derive(Deserialize, Default)]
    struct Meta {
        #[serde(default, deserialize_with = "first_operations")]
        pending_operations: Vec<PendingOperation>,
    }
    let body: Body = serde_json::from_slice(bytes).unwrap_or_default();
    let operations = body
        .meta
        .map(|meta| meta.pending_operations)
        .unwrap_or_default();
    Some(Error::Pending { operations })
}

/// The first [`PendingOperation::MAX_KEPT`] operations of a `pending_operations` array (or
/// none, when it is not an array), each field cut at [`PendingOperation::MAX_FIELD_BYTES`]:
/// the rest are skipped as they are read, never decoded, so a 202 holds its body and what it
/// keeps, however many operations it lists.
fn first_operations<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<PendingOperation>, D::Error> {
    #[derive(Deserialize)]
    struct Operation {
        #[serde(default)]
        id: Option<Value>,
        #[serde(default)]
        status_url: Option<String>,
        #[serde(default, rename = "type")]
        kind: Option<String>,
    }
    struct First;
    impl<'de> serde::de::Visitor<'de> for First {
        type Value = Vec<PendingOperation>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of pending operations")
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut items: A,
        ) -> Result<Self::Value, A::Error> {
            let text = |text: String| cut(text, PendingOperation::MAX_FIELD_BYTES);
            let mut kept = Vec::new();
            while kept.len() < PendingOperation::MAX_KEPT {
                // An item that is not an operation's object counts as one with no fields.
                let Some(item) = items.next_element::<MaybeOperation>()? else {
                    return Ok(kept);
                };
                let operation = item.0.unwrap_or(Operation {
                    id: None,
                    status_url: None,
                    kind: None,
                });
                kept.push(PendingOperation {
                    id: operation.id.map(|id| match id {
                        Value::String(id) => text(id),
                        other => text(other.to_string()),
                    }),
                    status_url: operation.status_url.map(text),
                    kind: operation.kind.map(text),
                });
            }
            while items.next_element::<IgnoredAny>()?.is_some() {}
            Ok(kept)
        }
    }
    /// An operation, or `None` for an item of another shape.
    struct MaybeOperation(Option<Operation>);
    impl<'de> Deserialize<'de> for MaybeOperation {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let value = Value::deserialize(deserializer)?;
            Ok(Self(Operation::deserialize(value).ok()))
        }
    }
    deserializer.deserialize_any(First)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_pending_answer_is_kept_bounded() {
        let operation = json!({"id": "x".repeat(10_000), "status_url": "/s", "type": "image"});
        let body = json!({"data": null, "meta": {"pending_operations": vec![operation; 500]}});
        let Some(Error::Pending { operations }) = pending(202, body.to_string().as_bytes()) else {
            panic!("a 202 is a pending error");
        };
        assert_eq!(operations.len(), PendingOperation::MAX_KEPT);
        assert!(operations.iter().all(|operation| {
            operation.id.as_ref().map(String::len) == Some(PendingOperation::MAX_FIELD_BYTES)
        }));
    }
}
