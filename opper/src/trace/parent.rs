//! The parent-span scope: calls made inside [`with_parent_span`] (or a trace) are tied to a
//! parent span, and [`current_span`] is the innermost open trace's span.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::response::Response;

/// What the scope holds while a future in it is polled: the parent of the calls made there,
/// and the innermost open trace's span.
#[derive(Default)]
struct Scope {
    parent: Option<Arc<str>>,
    span: Option<SpanHandle>,
}

thread_local! {
    static SCOPE: RefCell<Scope> = RefCell::new(Scope::default());
}

/// The parent span id of the enclosing [`with_parent_span`] scope or [`trace`](crate::trace),
/// the innermost one, if any.
pub fn current_parent_span() -> Option<Arc<str>> {
    SCOPE.with(|scope| scope.borrow().parent.clone())
}

/// The span of the innermost [`trace`](crate::trace) running around this code, if any (and if
/// its span could be created).
///
/// ```no_run
/// # async fn run() {
/// opper::trace("plan-trip", async {
///     let span = opper::current_span().expect("inside a trace");
///     println!("span {} of trace {}", span.id(), span.trace_id());
/// })
/// .await;
/// assert!(opper::current_span().is_none());
/// # }
/// ```
pub fn current_span() -> Option<SpanHandle> {
    SCOPE.with(|scope| scope.borrow().span.clone())
}

/// An open span in Opper: its id and its trace's id, as [`current_span`] gives them.
///
/// It is also a [`ParentSpan`]: `opper::with_parent_span(&span, fut)` ties the calls of a
/// task spawned elsewhere to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpanHandle {
    id: Arc<str>,
    trace_id: Arc<str>,
}

impl SpanHandle {
    /// A handle on the span `id` of the trace `trace_id`.
    pub(crate) fn new(id: &str, trace_id: &str) -> Self {
        SpanHandle {
            id: Arc::from(id),
            trace_id: Arc::from(trace_id),
        }
    }

    /// The span's id (what calls inside send as `parent_span_id`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The id of the trace the span belongs to.
    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }
}

/// Runs `future` inside the span `span`: it is [`current_span`] there, and the parent of the
/// calls made inside (unless an inner scope or the call sets another).
pub(crate) fn in_span<F: Future>(span: SpanHandle, future: F) -> WithParentSpan<F> {
    WithParentSpan {
        span_id: Some(Arc::clone(&span.id)),
        span: Some(span),
        future: Box::pin(future),
    }
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
        span: None,
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

impl ParentSpan for &SpanHandle {
    fn parent_span_id(self) -> Option<Arc<str>> {
        Some(Arc::clone(&self.id))
    }
}

impl ParentSpan for SpanHandle {
    fn parent_span_id(self) -> Option<Arc<str>> {
        Some(self.id)
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
    /// A trace's span, which becomes [`current_span`] too; `None` keeps the enclosing one.
    span: Option<SpanHandle>,
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
        // Whatever the poll does (returns, panics), the enclosing scope is back after it: a
        // nested trace's end makes the enclosing one current again, and futures polled in turn
        // (`join!`, `select!`) never see each other's scope.
        struct Restore(Scope);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = std::mem::take(&mut self.0);
                SCOPE.with(|scope| *scope.borrow_mut() = previous);
            }
        }
        let previous = SCOPE.with(|scope| {
            let mut scope = scope.borrow_mut();
            let span = match &this.span {
                Some(span) => Some(span.clone()),
                None => scope.span.clone(),
            };
            std::mem::replace(
                &mut *scope,
                Scope {
                    parent: Some(Arc::clone(span_id)),
                    span,
                },
            )
        });
        let _restore = Restore(previous);
        this.future.as_mut().poll(cx)
    }
}
