//! [`Model`]: which model runs a task, with its options, or a fallback chain.

use std::fmt;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::task::json::Pairs;

/// A model to run a task with: a name such as `"openai/gpt-4o-mini"`, optionally with options
/// and extra headers, or a fallback chain tried in order.
///
/// ```
/// use opper::Model;
///
/// let simple: Model = "openai/gpt-4o-mini".into();
/// let tuned = Model::new("anthropic/claude-sonnet-4").option("temperature", 0.2);
/// let chain = Model::fallback([tuned, simple]);
/// assert_eq!(
///     serde_json::to_value(&chain).unwrap(),
///     serde_json::json!([
///         {"name": "anthropic/claude-sonnet-4", "options": {"temperature": 0.2}},
///         "openai/gpt-4o-mini"
///     ])
/// );
/// ```
///
/// `Debug` shows the names of extra headers, never their values (one may hold a provider's key).
#[derive(Clone, PartialEq)]
pub struct Model(ModelKind);

#[derive(Clone, PartialEq)]
enum ModelKind {
    Name(String),
    Spec {
        name: String,
        options: Map<String, Value>,
        extra_headers: Vec<(String, String)>,
    },
    Fallback(Vec<Model>),
}

impl Model {
    /// A model by name, to which options or extra headers can be added.
    pub fn new(name: impl Into<String>) -> Self {
        Model(ModelKind::Name(name.into()))
    }

    /// A fallback chain: the API tries each model in order until one succeeds.
    pub fn fallback(models: impl IntoIterator<Item = impl Into<Model>>) -> Self {
        let mut chain = Vec::new();
        for model in models {
            match model.into() {
                Model(ModelKind::Fallback(inner)) => chain.extend(inner),
                model => chain.push(model),
            }
        }
        Model(ModelKind::Fallback(chain))
    }

    /// Adds a model option, such as `temperature` or `max_tokens`, sent in `options`.
    ///
    /// On a fallback chain, the option goes to every model of the chain.
    #[must_use]
    pub fn option(self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        let (key, value) = (key.into(), value.into());
        self.map_spec(&|options, _| {
            options.insert(key.clone(), value.clone());
        })
    }

    /// Adds a header that the API passes on to the model's provider.
    ///
    /// On a fallback chain, the header goes to every model of the chain.
    #[must_use]
    pub fn extra_header(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        self.map_spec(&|_, headers| {
            headers.retain(|(existing, _)| *existing != name);
            headers.push((name.clone(), value.clone()));
        })
    }

    /// The model's name, or the first model's name of a fallback chain.
    pub fn get_name(&self) -> Option<&str> {
        match &self.0 {
            ModelKind::Name(name) | ModelKind::Spec { name, .. } => Some(name),
            ModelKind::Fallback(chain) => chain.first().and_then(Model::get_name),
        }
    }

    fn map_spec(self, f: &EditSpec<'_>) -> Self {
        let (name, mut options, mut extra_headers) = match self.0 {
            ModelKind::Name(name) => (name, Map::new(), Vec::new()),
            ModelKind::Spec {
                name,
                options,
                extra_headers,
            } => (name, options, extra_headers),
            ModelKind::Fallback(chain) => {
                return Model(ModelKind::Fallback(
                    chain.into_iter().map(|model| model.map_spec(f)).collect(),
                ));
            }
        };
        f(&mut options, &mut extra_headers);
        Model(ModelKind::Spec {
            name,
            options,
            extra_headers,
        })
    }
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ModelKind::Name(name) => f.debug_tuple("Model").field(name).finish(),
            ModelKind::Spec {
                name,
                options,
                extra_headers,
            } => f
                .debug_struct("Model")
                .field("name", name)
                .field("options", options)
                .field("extra_headers", &RedactedHeaders(extra_headers))
                .finish(),
            ModelKind::Fallback(chain) => f.debug_tuple("Model::fallback").field(chain).finish(),
        }
    }
}

/// Header names, each with `<redacted>` for its value.
struct RedactedHeaders<'a>(&'a [(String, String)]);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(name, _)| (name, "<redacted>")))
            .finish()
    }
}

/// Edits a model's options and extra headers.
type EditSpec<'a> = dyn Fn(&mut Map<String, Value>, &mut Vec<(String, String)>) + 'a;

impl From<&str> for Model {
    fn from(name: &str) -> Self {
        Model::new(name)
    }
}

impl From<String> for Model {
    fn from(name: String) -> Self {
        Model::new(name)
    }
}

impl<M: Into<Model>> From<Vec<M>> for Model {
    fn from(models: Vec<M>) -> Self {
        Model::fallback(models)
    }
}

impl<M: Into<Model>, const N: usize> From<[M; N]> for Model {
    fn from(models: [M; N]) -> Self {
        Model::fallback(models)
    }
}

impl Serialize for Model {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            ModelKind::Name(name) => serializer.serialize_str(name),
            ModelKind::Spec {
                name,
                options,
                extra_headers,
            } => {
                let len = [true, !options.is_empty(), !extra_headers.is_empty()]
                    .into_iter()
                    .filter(|&present| present)
                    .count();
                let mut map = serializer.serialize_map(Some(len))?;
                map.serialize_entry("name", name)?;
                if !options.is_empty() {
                    map.serialize_entry("options", options)?;
                }
                if !extra_headers.is_empty() {
                    map.serialize_entry("extra_headers", &Pairs(extra_headers))?;
                }
                map.end()
            }
            ModelKind::Fallback(chain) => chain.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_header_value() {
        let model = Model::new("openai/gpt-4o")
            .option("temperature", 0.2)
            .extra_header("x-provider-key", "sk-provider-secret");
        let chain = Model::fallback([model.clone(), "b".into()]);
        for shown in [
            format!("{model:?}"),
            format!("{chain:?}"),
            format!("{chain:#?}"),
        ] {
            assert!(!shown.contains("sk-provider-secret"), "{shown}");
            assert!(shown.contains("x-provider-key"), "{shown}");
            assert!(shown.contains("temperature"), "{shown}");
        }
        assert_eq!(format!("{:?}", Model::new("m")), r#"Model("m")"#);
    }
}
