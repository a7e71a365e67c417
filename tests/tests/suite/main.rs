//! The integration tests of `opper-tests`, one binary with a module per feature (cargo's own
//! `tests/testsuite/main.rs`): fewer binaries link faster. Binaries of their own, each for a
//! reason: `hostile_cache.rs`, `hostile_stream.rs` and `memory.rs` install a counting
//! `#[global_allocator]`; `observability.rs` and `reask.rs` take turns with tracing subscribers,
//! whose per-call-site interest is process-wide (a test without one, running beside, could
//! hide events); `signatures.rs` and `traces.rs` set the process-wide default client; `ui.rs`
//! runs trybuild.
//!
//! `lints` is `pub`: its public items are what `missing_docs` checks the generated code against.

mod agent;
mod cache;
mod calls;
mod client;
mod configuration;
mod faults;
mod first_hour;
mod function;
mod honest_partials;
mod hostile_client;
pub mod lints;
mod load;
mod official_client;
mod robustness;
mod streaming;
