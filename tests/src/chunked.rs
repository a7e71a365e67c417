//! The chunked property-test scaffold: random values of a type, chunked by the built-in server
//! in random ways (with or without the `response.` prefix, numbers and booleans typed or split
//! as text, strings and variant names split anywhere, and optionally typed integers split into
//! typed digits), streamed over loopback. A test's own check sees every partial on the way next
//! to the final value, and `finish()` must give the value back exactly.
//!
//! ```no_run
//! use proptest::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema, opper::Partial)]
//! struct Note {
//!     title: String,
//! }
//!
//! let notes = "[a-z ]{0,12}".prop_map(|title| Note { title });
//! opper_tests::chunked::Chunked::new("note", 64).check(notes, |partial, last| {
//!     // The title shows as a prefix of the final one.
//!     let (shown, last) = (&partial["title"], &last["title"]);
//!     match (shown.as_str(), last.as_str()) {
//!         (None, _) => Ok(()),
//!         (Some(shown), Some(last)) if last.starts_with(shown) => Ok(()),
//!         _ => Err(format!("{shown} does not lead to {last}")),
//!     }
//! });
//! ```
//!
//! Used by `tests/suite/honest_partials.rs` (every partial honest) and
//! `tests/suite/streaming.rs` (every partial consistent).

use std::fmt::Debug;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt;
use opper::testing::StreamingChunk;
use opper::testing::{ChunkOptions, MockServer, Reply, chunks_for};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A property-test runner of `cases` cases, or of `PROPTEST_CASES` when it is set.
pub fn proptest_runner(cases: u32) -> proptest::test_runner::TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(cases);
    proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases,
        ..proptest::test_runner::Config::default()
    })
}

/// How one case's value is chunked (shown with the value when a case fails).
#[derive(Debug, Clone)]
pub struct Chunking {
    /// Whether paths start with `response.`.
    pub prefix: bool,
    /// Numbers sent as their text, split like strings.
    pub numbers_as_text: bool,
    /// Booleans sent as their text, split like strings.
    pub booleans_as_text: bool,
    /// The seed of the random splits.
    pub seed: u64,
    /// The longest piece of a string, in characters.
    pub max_piece: usize,
    /// Every typed integer of two digits or more split into typed digits on its path (`42` as
    /// `4`, then `2`), as a service may: a partial must still never show the `4`.
    pub typed_digits: bool,
}

impl Chunking {
    /// The built-in server's options for this chunking.
    pub fn options(&self) -> ChunkOptions {
        ChunkOptions::new()
            .prefix(self.prefix)
            .numbers_as_text(self.numbers_as_text)
            .booleans_as_text(self.booleans_as_text)
            .random_splits(self.seed)
            .max_piece(self.max_piece)
    }

    /// The reply streaming `value` chunked this way.
    pub fn reply(&self, value: &Value) -> Reply {
        if self.typed_digits {
            Reply::chunks(typed_digits(chunks_for(value, &self.options())))
        } else {
            Reply::json(value.clone()).chunking(self.options())
        }
    }
}

/// Splits every typed integer of two digits or more into typed digits on its path.
fn typed_digits(chunks: Vec<StreamingChunk>) -> Vec<StreamingChunk> {
    chunks
        .into_iter()
        .flat_map(|chunk| {
            let digits = match &chunk.delta {
                Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n >= 10) => n.to_string(),
                _ => return vec![chunk],
            };
            digits
                .chars()
                .filter_map(|digit| digit.to_digit(10))
                .map(|digit| {
                    let mut piece = chunk.clone();
                    piece.delta = Some(json!(digit));
                    piece
                })
                .collect()
        })
        .collect()
}

/// A chunked property test: `cases` random values, each streamed under its own task
/// (`<label>-<n>`) from one built-in server.
#[derive(Debug, Clone)]
pub struct Chunked {
    label: &'static str,
    cases: u32,
    max_piece: Range<usize>,
    typed_digits: bool,
}

impl Chunked {
    /// `cases` cases (or `PROPTEST_CASES`), string pieces of 1 to 8 characters, typed integers
    /// sent whole.
    pub fn new(label: &'static str, cases: u32) -> Self {
        Self {
            label,
            cases,
            max_piece: 1..9,
            typed_digits: false,
        }
    }

    /// The range the longest string piece of a case is drawn from.
    #[must_use]
    pub fn max_piece(mut self, range: Range<usize>) -> Self {
        self.max_piece = range;
        self
    }

    /// Also draws, per case, whether typed integers are split into typed digits.
    #[must_use]
    pub fn typed_digits(mut self) -> Self {
        self.typed_digits = true;
        self
    }

    /// The chunkings drawn.
    pub fn chunkings(&self) -> impl Strategy<Value = Chunking> + use<> {
        let typed_digits = if self.typed_digits {
            any::<bool>().boxed()
        } else {
            Just(false).boxed()
        };
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<u64>(),
            self.max_piece.clone(),
            typed_digits,
        )
            .prop_map(
                |(prefix, numbers_as_text, booleans_as_text, seed, max_piece, typed_digits)| {
                    Chunking {
                        prefix,
                        numbers_as_text,
                        booleans_as_text,
                        seed,
                        max_piece,
                        typed_digits,
                    }
                },
            )
    }

    /// Streams each value of `values`, chunked as drawn, as a typed stream of `T`: `check`
    /// gets every partial (as JSON) and the final value (as JSON), and `finish()` must return
    /// the value. Panics with the smallest failing case, and the update it failed at.
    pub fn check<T, S, C>(self, values: S, check: C)
    where
        T: opper::Partial + Serialize + DeserializeOwned + schemars::JsonSchema,
        T: PartialEq + Debug + 'static,
        S: Strategy<Value = T>,
        C: Fn(&Value, &Value) -> Result<(), String>,
    {
        streams(
            self.label,
            self.cases,
            opper::Api::V2,
            (values, self.chunkings()),
            |expected, chunking| chunking.reply(expected),
            check,
        );
    }
}

/// The runner behind [`Chunked::check`], for any API version and way of serving: each case is
/// a value and how to serve it (`reply` makes the built-in server's reply from the value's JSON
/// and the rest of the case). Every partial is checked next to the final value, and
/// `finish()` must give the value back exactly.
pub fn streams<T, X, S, R, C>(
    label: &str,
    cases: u32,
    api: opper::Api,
    strategy: S,
    reply: R,
    check: C,
) where
    T: opper::Partial + Serialize + DeserializeOwned + schemars::JsonSchema,
    T: PartialEq + Debug + 'static,
    X: Debug,
    S: Strategy<Value = (T, X)>,
    R: Fn(&Value, &X) -> Reply,
    C: Fn(&Value, &Value) -> Result<(), String>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let server = runtime.block_on(MockServer::start());
    let opper = server.client_builder().api(api).build().expect("a client");
    let mut runner = proptest_runner(cases);
    let case = AtomicU64::new(0);
    runner
        .run(&strategy, |(value, how)| {
            let task = format!("{label}-{}", case.fetch_add(1, Ordering::Relaxed));
            let expected = serde_json::to_value(&value).expect("JSON");
            server.reply(&task, reply(&expected, &how));
            let result: Result<T, String> = runtime.block_on(async {
                let mut stream = opper
                    .call(&task)
                    .output_type::<T>()
                    .stream::<T>()
                    .await
                    .map_err(|e| e.to_string())?;
                while let Some(update) = stream.next().await {
                    let update = update.map_err(|e| e.to_string())?;
                    let partial =
                        serde_json::to_value(&*update.partial).map_err(|e| e.to_string())?;
                    check(&partial, &expected).map_err(|e| {
                        format!("after {} <- {}: {e}", update.json_path, update.delta)
                    })?;
                }
                stream.finish().await.map_err(|e| e.to_string())
            });
            prop_assert_eq!(result, Ok(value));
            Ok(())
        })
        .expect("every case passes");
}
