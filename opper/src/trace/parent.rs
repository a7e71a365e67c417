//! The parent-span scope: calls made inside [`with_parent_span`] are tied to a parent span.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::Response;

thread_local! {
    static PARENT_SPAN: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// The parent span id of the enclosing [`with_parent_span`] scope, if any.
pub fn current_parent_span() -> Option<Arc<str>> {
    PARENT_SPAN.with(|slot| slot.borrow().clone())
}

/// The parent span a call sends: its own if it set one, else the enclosing scope's.
pub(crate) fn resolve(own: Option<&str>) -> Option<Arc<str>> {
    match own {
        Some(own) => Some(Arc::from(own)),
        None => current_parent_span(),
    }
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
/// [`Response`](crate::Response) of an earlier call, whose span becomes the parent. A response
/// without a span id (every v3 answer) sets none: calls inside keep the enclosing scope's.
pub trait ParentSpan {
    /// The span id, if there is one.
    fn parent_span_id(self) -> Option<Arc<str>>;
}

impl ParentSpan for &str {
    fn parent_span_id(self) -> Option<Arc<str>> {
        Some(Arc::from(self))
    }
}

impl ParentSpan for String {
    fn parent_span_id(self) -> Option<Arc<str>> {
        Some(Arc::from(self))
    }
}

impl ParentSpan for &String {
    fn parent_span_id(self) -> Option<Arc<str>> {
        Some(Arc::from(self.as_str()))
    }
}

impl ParentSpan for Arc<str> {
    fn parent_span_id(self) -> Option<Arc<str>> {
        Some(self)
    }
}

impl<T> ParentSpan for &Response<T> {
    fn parent_span_id(self) -> Option<Arc<str>> {
        self.span_id.as_deref().map(Arc::from)
    }
}

/// A future running inside a [`with_parent_span`] scope.
#[must_use = "futures do nothing unless awaited"]
pub struct WithParentSpan<F> {
    span_id: Option<Arc<str>>,
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
        let Some(span_id) = &this.span_id else {
            return this.future.as_mut().poll(cx);
        };
        struct Restore(Option<Arc<str>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                PARENT_SPAN.with(|slot| *slot.borrow_mut() = previous);
            }
        }
        let previous = PARENT_SPAN.with(|slot| slot.borrow_mut().replace(Arc::clone(span_id)));
        let _restore = Restore(previous);
        this.future.as_mut().poll(cx)
    }
}
