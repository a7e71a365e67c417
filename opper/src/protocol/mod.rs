//! The wire of the Opper API, one folder per version (`v2/`, `v3/`, each owning its request
//! bodies, answers, stream events and error bodies), and the parts both use. Every field name
//! of a request body, an answer, a stream event or an error body lives here, but for the parts
//! of a body that are public types users build and serialize themselves: a model
//! (`task/model.rs`: `name`, `options`, `extra_headers`), a configuration
//! (`task/configuration.rs`: its dotted keys) and an example (`task/example.rs`). Above this
//! layer the client, the stream, the cache and the re-asks handle the crate's own types
//! ([`Frame`], [`Response`](crate::Response), [`Error`]), and reach a version through
//! [`Api::wire`] without naming its wire.

// The parts, leaves first: JSON in and out for every version, JSON checked without being
// built (a cache entry's recorded events), the frames every version decodes into, the trait a
// version implements, v2's wire, v3's wire, the spans wire (v3's, used by clients of both
// versions), and the agent's (v3's `/v3/compat/openresponses`).
pub(crate) mod json;
pub(crate) mod check;
pub(crate) mod frame;
pub(crate) mod wire;
pub(crate) mod v2;
pub(crate) mod v3;
pub(crate) mod spans;
pub(crate) mod openresponses;

pub(crate) use frame::{Decoded, Endpoint, Frame, carries_data};
pub(crate) use wire::Wire;

// Defined below the error type, which names it; the version's wire is chosen here.
pub(crate) use crate::api::Api;

use crate::error::Error;
use crate::error::Result;

impl std::str::FromStr for Api {
    type Err = Error;

    /// `v2` or `v3` (any case, spaces around ignored); anything else is [`Error::Config`].
    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "v2" => Ok(Api::V2),
            "v3" => Ok(Api::V3),
            _ => Err(Error::config(format!(
                "OPPER_API_VERSION is {:?}; use v2 or v3",
                crate::error::truncate(text, 100)
            ))),
        }
    }
}

impl Api {
    /// The version's wire: the one place a version is chosen (a new version is a folder and
    /// an arm here).
    pub(crate) fn wire(self) -> &'static dyn Wire {
        match self {
            Api::V2 => &v2::V2,
            Api::V3 => &v3::V3,
        }
    }
}
