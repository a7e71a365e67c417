//! The integration tests of `opper-tests`, one binary with a module per feature (cargo's own
//! `tests/testsuite/main.rs`): fewer binaries link faster. Binaries of their own, each for a
//! reason: `hostile_cache.rs` and `hostile_stream.rs` install `stats_alloc`'s counting
//! `#[global_allocator]` (totals, where this binary's [`PEAK`] gives the peak); `observability.rs` and `reask.rs` take turns with tracing subscribers,
//! whose per-call-site interest is process-wide (a test without one, running beside, could
//! hide events); `signatures.rs` and `traces.rs` set the process-wide default client; `ui.rs`
//! runs trybuild.
//!
//! `lints` is `pub`: its public items are what `missing_docs` checks the generated code against.
//! `memory` measures the heap with [`PEAK`], each of its tests in a process of its own
//! (`opper_tests::run_alone`), so it runs beside the others.

/// The heap in use and its peak, for `memory`: two atomic counters on every allocation.
#[global_allocator]
static PEAK: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

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
mod memory;
mod official_client;
mod robustness;
mod streaming;
