//! Helpers shared by the integration tests in `tests/` and the benchmarks in `benches/`, one
//! module per purpose:
//!
//! - [`fixtures`]: what most tests start from: the API key [`KEY`], a [`client`] or a
//!   [`builder`] of one for a test server (short retry waits), a [`retrying`] client of the
//!   built-in server, the README's [`Team`] ([`team_json`], [`team_stream`]), an `add` task's [`Sum`], readers of a stream that must fail
//!   ([`text_stream_error`], [`typed_stream_error`]) and of its error chunk ([`stream_chunk`]), and a [`TempDir`].
//! - [`raw`]: a [`RawServer`] on loopback whose replies are a [`Script`] written byte for byte,
//!   for framing, cuts and faults the built-in `opper::testing::MockServer` does not make.
//! - [`logs`]: [`capture_logs`], what `tracing` wrote, as text.
//! - [`chunked`]: the chunked property-test scaffold (random values, random chunkings, every
//!   partial checked) and [`proptest_runner`].
//! - [`process`]: [`run_alone`], one test of the running binary in a process of its own.
//! - [`v3`]: API v3 as a [`RawServer`] writes it (answers, frames, whole streams) and [`v3::read`],
//!   every update of a typed stream.
//! - [`bench`](mod@bench): helpers of the bench binaries.
//!
//! Everything but [`bench`](mod@bench), [`chunked`] and [`v3`] is re-exported at the root: tests write
//! `opper_tests::client`, `opper_tests::RawServer`.

pub mod bench;
pub mod chunked;
pub mod fixtures;
pub mod logs;
pub mod process;
pub mod raw;
pub mod v3;

pub use chunked::proptest_runner;
pub use fixtures::{
    KEY, Person, Sum, Team, TempDir, builder, chain, client, client_on, retrying, retrying_on,
    stream_chunk, team_json, team_stream, text_stream_error, typed_stream_error,
};
pub use logs::{Captured, capture_logs};
pub use process::{is_alone, run_alone, run_alone_with};
pub use raw::{RawServer, Received, Script, Step};
