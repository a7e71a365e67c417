//! JSON text read from a server, below every module that reads it (the v3 text reader in
//! `protocol`, the partial values in `partial`): the bounds on what one stream may build, JSON's
//! number grammar read a byte at a time, and where a borrowed piece of a text is in it.

// The parts, leaves first.
pub(crate) mod limits;
pub(crate) mod number;
pub(crate) mod span;
