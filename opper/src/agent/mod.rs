//! Agents: a typed task that may call the program's own [`Tool`](crate::Tool)s in a loop until
//! it answers, over `POST /v3/compat/openresponses` as the official client's `Agent` does. A run
//! is a series of turns (`turn`: one streamed request, its tools run while it streams, read from
//! the stream's `events`); each turn's calls and their outputs go back to the model in the next
//! turn's history, until a turn makes no call: its message is the answer (`run`: the answer
//! read, and what a run comes to), traced in Opper as the official client traces it (`spans`: the
//! run's span, one per tool call). [`Agent`] (`builder`) runs it, or streams it as an
//! [`AgentStream`] (`stream`); `generated` is what `#[opper::function(tools = [...])]`
//! calls.

// The parts, leaves first.
mod events;
mod spans;
pub(crate) mod turn;
mod run;
mod stream;
mod builder;
pub(crate) mod generated;

pub use builder::Agent;
pub use run::AgentRun;
pub use stream::{AgentEvent, AgentStream};
