//! Shared helpers of the examples: run on the real API when `OPPER_API_KEY` is set, else on the
//! built-in server.

/// Where an example runs.
pub enum Backend {
    /// The real API, from the environment.
    Live,
    /// The built-in server; kept alive as long as this value.
    Offline(opper::testing::MockServer),
}
