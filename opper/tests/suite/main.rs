//! The integration tests of `opper`, one binary with a module per feature (cargo's own
//! `tests/testsuite/main.rs`): fewer binaries link faster. `hostile_server.rs` and
//! `task_cell.rs` stay binaries of their own: each installs a counting `#[global_allocator]`.
//!
//! `partial` is `pub`: its public items are what `missing_docs` checks the generated code against.

mod common;
pub mod partial;
mod testing_chunks;
mod testing_generator;
mod testing_server;
