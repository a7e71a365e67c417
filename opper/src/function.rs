//! What `#[opper::function]` relies on at run time: schemas, the default client, the
//! parent-span scope, and output decoding.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{Error, Opper, Result};

/// The JSON Schema of a type as the API wants it: draft 2020-12 with `$defs`, without `$schema`.
pub(crate) fn schema_for<T: JsonSchema + ?Sized>() -> Value {
    let settings =
        schemars::generate::SchemaSettings::draft2020_12().with(|s| s.meta_schema = None);
    settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

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

pub(crate) fn set_default_client(client: Opper) {
    *DEFAULT_CLIENT.write().unwrap_or_else(|e| e.into_inner()) = Some(client);
}

/// Deserializes an output, naming the path where it stops fitting.
pub(crate) fn deserialize_output<T: DeserializeOwned>(json: Value) -> Result<T> {
    match serde_path_to_error::deserialize::<_, T>(&json) {
        Ok(output) => Ok(output),
        Err(error) => Err(Error::Output {
            path: error.path().to_string(),
            message: error.into_inner().to_string(),
            json,
        }),
    }
}

thread_local! {
    static PARENT_SPAN: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// The parent span id of the enclosing [`with_parent_span`] scope, if any.
pub fn current_parent_span() -> Option<Arc<str>> {
    PARENT_SPAN.with(|slot| slot.borrow().clone())
}

/// Runs `future` with `span_id` as the parent span of every Opper call made inside it, across
/// `.await`s, unless a call sets its own `parent_span_id`.
///
/// A task you spawn runs outside the scope; wrap its future too
/// (`tokio::spawn(opper::with_parent_span(id, fut))`), reading the id with
/// [`current_parent_span`].
///
/// ```no_run
/// # async fn run(opper: opper::Opper) -> opper::Result<()> {
/// let first = opper.call("plan").send::<String>().await?;
/// opper::with_parent_span(&first, async {
///     // sent with "parent_span_id": first.span_id
///     opper.call("draft").send::<String>().await
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub fn with_parent_span<F: Future>(span: impl ParentSpan, future: F) -> WithParentSpan<F> {
    WithParentSpan {
        span_id: span.parent_span_id(),
        future: Box::pin(future),
    }
}

/// What [`with_parent_span`] takes: a span id (`&str`, `String`, `Arc<str>`), or the
/// [`Response`](crate::Response) of an earlier call, whose span becomes the parent.
pub trait ParentSpan {
    /// The span id.
    fn parent_span_id(self) -> Arc<str>;
}

impl ParentSpan for &str {
    fn parent_span_id(self) -> Arc<str> {
        Arc::from(self)
    }
}

impl ParentSpan for String {
    fn parent_span_id(self) -> Arc<str> {
        Arc::from(self)
    }
}

impl ParentSpan for &String {
    fn parent_span_id(self) -> Arc<str> {
        Arc::from(self.as_str())
    }
}

impl ParentSpan for Arc<str> {
    fn parent_span_id(self) -> Arc<str> {
        self
    }
}

impl<T> ParentSpan for &crate::Response<T> {
    fn parent_span_id(self) -> Arc<str> {
        Arc::from(self.span_id.as_str())
    }
}

/// A future running inside a [`with_parent_span`] scope.
#[must_use = "futures do nothing unless awaited"]
pub struct WithParentSpan<F> {
    span_id: Arc<str>,
    future: Pin<Box<F>>,
}

impl<F> std::fmt::Debug for WithParentSpan<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithParentSpan")
            .field("span_id", &self.span_id)
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for WithParentSpan<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        struct Restore(Option<Arc<str>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                PARENT_SPAN.with(|slot| *slot.borrow_mut() = previous);
            }
        }
        let previous =
            PARENT_SPAN.with(|slot| slot.borrow_mut().replace(Arc::clone(&this.span_id)));
        let _restore = Restore(previous);
        this.future.as_mut().poll(cx)
    }
}
