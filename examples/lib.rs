//! Shared helpers of the examples: run on the real API when `OPPER_API_KEY` is set, else on the
//! built-in server.

/// Where an example runs.
#[derive(Debug)]
pub enum Backend {
    /// The real API, from the environment.
    Live,
    /// The built-in server; kept alive as long as this value.
    Offline(opper::testing::MockServer),
}

impl Backend {
    /// The built-in server, when running offline: to script replies or read the recorded
    /// requests.
    pub fn server(&self) -> Option<&opper::testing::MockServer> {
        match self {
            Backend::Live => None,
            Backend::Offline(server) => Some(server),
        }
    }

    /// A client for this backend: [`opper::Opper::from_env`] live, the server's client offline.
    pub fn client(&self) -> opper::Result<opper::Opper> {
        match self {
            Backend::Live => opper::Opper::from_env(),
            Backend::Offline(server) => Ok(server.client()),
        }
    }
}

/// The real API when `OPPER_API_KEY` (or `OPPER_HTTP_BEARER`) is set; otherwise starts the
/// built-in server, makes it the default client of `#[opper::function]`s, and says so in one
/// line.
pub async fn backend() -> Backend {
    let has_key = ["OPPER_API_KEY", "OPPER_HTTP_BEARER"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()));
    if has_key {
        return Backend::Live;
    }
    let server = opper::testing::MockServer::start().await;
    server.client().set_default();
    println!(
        "OPPER_API_KEY is not set: running offline on the built-in server at {}.",
        server.url()
    );
    Backend::Offline(server)
}
