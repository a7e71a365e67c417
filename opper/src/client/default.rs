//! The process-wide client that `#[opper::function]`s use when called without one.

use std::borrow::Cow;
use std::sync::RwLock;

use crate::client::handle::Opper;
use crate::error::Result;

static DEFAULT_CLIENT: RwLock<Option<Opper>> = RwLock::new(None);

/// The client `#[opper::function]`s use when called without one: the one set with
/// [`Opper::set_default`], else one built from the environment on first use. A missing key is
/// an error on each call until it is set, never a panic.
pub(crate) fn default_client() -> Result<Opper> {
    if let Some(client) = DEFAULT_CLIENT
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
    {
        return Ok(client.clone());
    }
    let client = Opper::from_env()?;
    let mut slot = DEFAULT_CLIENT.write().unwrap_or_else(|e| e.into_inner());
    Ok(slot.get_or_insert(client).clone())
}

/// `client` when one is given, else the [default client](default_client): what every call
/// without an explicit client runs with (tasks, agents, traces).
pub(crate) fn given_or_default(client: Option<&Opper>) -> Result<Cow<'_, Opper>> {
    match client {
        Some(client) => Ok(Cow::Borrowed(client)),
        None => default_client().map(Cow::Owned),
    }
}

impl Opper {
    /// Makes this the client that `#[opper::function]`s use when called without one.
    pub fn set_default(&self) {
        *DEFAULT_CLIENT.write().unwrap_or_else(|e| e.into_inner()) = Some(self.clone());
    }
}
