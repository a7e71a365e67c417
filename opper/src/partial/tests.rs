//! Tests of reassembly: the derive, the std impls, the assembler. Fixtures shared by the
//! topics live here; each topic is a file in `tests/`.

#![allow(clippy::unwrap_used, clippy::result_large_err)]

mod containers;
mod derive;
mod paths;
// The property tests cut their streams with the testing server's chunker.
#[cfg(feature = "testing")]
mod props;
mod scalars;
mod snapshots;

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Assembler, Partial};
use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Person {
    /// Full name.
    name: String,
    role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, crate::Partial)]
#[opper(crate = "crate")]
struct Team {
    people: Vec<Person>,
    summary: String,
}

fn schema_of<T: JsonSchema>() -> Option<Arc<Value>> {
    Some(Arc::new(
        serde_json::to_value(schemars::schema_for!(T)).unwrap(),
    ))
}

/// Feeds `(path, delta)` chunks; returns what push returned for each.
fn feed<T: Partial + serde::de::DeserializeOwned>(
    asm: &mut Assembler<T>,
    chunks: &[(&str, Value)],
) -> Vec<Vec<String>> {
    chunks
        .iter()
        .map(|(path, delta)| {
            asm.push(Some(path), delta)
                .unwrap_or_else(|e| panic!("{path}: {e}"))
        })
        .collect()
}

fn assemble<T: Partial + serde::de::DeserializeOwned + JsonSchema>(
    chunks: &[(&str, Value)],
) -> Result<T, Error> {
    let mut asm = Assembler::<T>::new(schema_of::<T>());
    feed(&mut asm, chunks);
    asm.finish().map(|(value, _)| value)
}

fn assert_err<T: Partial + serde::de::DeserializeOwned>(
    asm: &mut Assembler<T>,
    path: &str,
    delta: Value,
    needle: &str,
) {
    match asm.push(Some(path), &delta) {
        Err(reason) => assert!(reason.contains(needle), "{reason:?} should say {needle:?}"),
        Ok(_) => panic!("{path} <- {delta} should fail"),
    }
}
