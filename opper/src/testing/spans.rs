//! The spans endpoints of the mock server (`POST /v3/spans`, `PATCH` and `GET /v3/spans/{id}`),
//! as the official clients use them: what they answer, and the spans they keep for tests
//! ([`MockServer::spans`](super::MockServer::spans)). Nothing else in the server names a field
//! of a span.

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::{Map, Value, json};

use super::rng::Rng;
use super::schema::{percent_decode, uuid_like};
use super::v3;

/// A span the server created, with what it was sent, as a tree: [`children`](Self::children)
/// are the spans whose `parent_id` is this one's.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = opper::testing::MockServer::start().await;
/// let client = server.client();
/// opper::Trace::new("outer")
///     .client(&client)
///     .run(opper::Trace::new("inner").client(&client).run(async {}))
///     .await;
/// let roots = server.spans();
/// assert_eq!(roots[0].name, "outer");
/// assert_eq!(roots[0].children[0].name, "inner");
/// assert_eq!(roots[0].children[0].trace_id, roots[0].trace_id);
/// assert!(roots[0].end_time.is_some());
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedSpan {
    /// The span's id, made by the server (a UUID).
    pub id: String,
    /// Its trace: the one sent, else a new UUID (the span is then a trace's root).
    pub trace_id: String,
    /// The parent span's id, if one was sent.
    pub parent_id: Option<String>,
    /// The span's name.
    pub name: String,
    /// Its `type` (`"tool"` for a tool call), if one was sent.
    pub kind: Option<String>,
    /// Its input, as sent (the official clients send text).
    pub input: Option<Value>,
    /// Its output, as sent.
    pub output: Option<Value>,
    /// Its error, as sent.
    pub error: Option<String>,
    /// Its start time, as sent.
    pub start_time: Option<String>,
    /// Its end time, as sent (`None`: never ended).
    pub end_time: Option<String>,
    /// Its metadata, as sent.
    pub meta: Option<Value>,
    /// Its tags, as sent.
    pub tags: Option<Value>,
    /// The bodies received for the span, in order: the `POST` that created it, then each
    /// `PATCH`.
    pub received: Vec<Value>,
    /// The spans whose parent is this one, in order of creation.
    pub children: Vec<RecordedSpan>,
}

impl RecordedSpan {
    /// This span and every span below it, depth first (a span before its children).
    pub fn flatten(&self) -> Vec<&RecordedSpan> {
        let mut all = vec![self];
        for child in &self.children {
            all.extend(child.flatten());
        }
        all
    }
}

/// The spans a server keeps: the most recent [`Store::MAX_SPANS`], with at most
/// [`Store::MAX_BYTES`] of received bodies; older spans are forgotten first.
#[derive(Debug, Default)]
pub(crate) struct Store {
    /// Each span with the bytes of the bodies it was sent, counted once, as they arrived.
    spans: VecDeque<(RecordedSpan, usize)>,
    bytes: usize,
    created: u64,
}

impl Store {
    const MAX_SPANS: usize = 10_000;
    const MAX_BYTES: usize = 32 << 20;

    fn find(&mut self, id: &str) -> Option<&mut (RecordedSpan, usize)> {
        self.spans.iter_mut().find(|(span, _)| span.id == id)
    }

    /// Keeps `span`, then forgets the oldest ones past the bounds (never the last one).
    fn keep(&mut self, span: RecordedSpan, bytes: usize) {
        self.spans.push_back((span, bytes));
        self.add(bytes);
    }

    fn add(&mut self, bytes: usize) {
        self.bytes = self.bytes.saturating_add(bytes);
        while self.spans.len() > 1
            && (self.spans.len() > Self::MAX_SPANS || self.bytes > Self::MAX_BYTES)
        {
            if let Some((_, size)) = self.spans.pop_front() {
                self.bytes = self.bytes.saturating_sub(size);
            }
        }
    }

    /// The kept spans as trees: the roots are the spans without a parent, or whose parent is
    /// not kept; children in order of creation.
    pub(crate) fn tree(&self) -> Vec<RecordedSpan> {
        let kept: HashSet<&str> = self
            .spans
            .iter()
            .map(|(span, _)| span.id.as_str())
            .collect();
        let mut children: HashMap<&str, Vec<&RecordedSpan>> = HashMap::new();
        let mut roots = Vec::new();
        for (span, _) in &self.spans {
            match span
                .parent_id
                .as_deref()
                .filter(|parent| kept.contains(parent))
            {
                Some(parent) => children.entry(parent).or_default().push(span),
                None => roots.push(span),
            }
        }
        roots
            .into_iter()
            .map(|root| with_children(root, &children, 0))
            .collect()
    }
}

fn with_children(
    span: &RecordedSpan,
    children: &HashMap<&str, Vec<&RecordedSpan>>,
    depth: usize,
) -> RecordedSpan {
    let mut span = span.clone();
    // A parent loop cannot be made (a parent exists before its child gets its id); the depth
    // bound is a safeguard all the same.
    if depth < 256 {
        span.children = children
            .get(span.id.as_str())
            .into_iter()
            .flatten()
            .map(|child| with_children(child, children, depth.saturating_add(1)))
            .collect();
    }
    span
}

/// Whether `path` is a spans endpoint: `/v3/spans`, or `/v3/spans/{id}`.
pub(crate) fn is_spans(path: &str) -> bool {
    target(path).is_some()
}

/// `None` for `/v3/spans`, `Some(id)` (decoded) for `/v3/spans/{id}`; `None` outer when the
/// path is not a spans endpoint.
fn target(path: &str) -> Option<Option<String>> {
    let rest = path.strip_prefix("/v3/spans")?;
    match rest {
        "" | "/" => Some(None),
        _ => {
            let id = rest.strip_prefix('/')?;
            (!id.is_empty() && !id.contains('/')).then(|| Some(percent_decode(id)))
        }
    }
}

/// The answer to a request on a spans endpoint: its status and JSON body (none for `204`).
pub(crate) fn answer(
    store: &mut Store,
    seed: u64,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Option<Value>) {
    let size = body.map_or(0, |body| body.to_string().len());
    match (method, target(path)) {
        ("POST", Some(None)) => create(store, seed, body, size),
        ("PATCH", Some(Some(id))) => update(store, &id, body, size),
        ("GET", Some(Some(id))) => match store.find(&id) {
            Some((span, _)) => (200, Some(json!({"data": full(span)}))),
            None => not_found(&id),
        },
        _ => (
            405,
            Some(v3::error(
                v3::code_for(405),
                "Method Not Allowed",
                json!({"allowed": if target(path) == Some(None) { "POST" } else { "GET, PATCH" }}),
            )),
        ),
    }
}

fn bad_request(message: &str, field: &str, kind: &str) -> (u16, Option<Value>) {
    let details = json!({"field": field, "type": kind});
    (400, Some(v3::error(v3::code_for(400), message, details)))
}

fn not_found(id: &str) -> (u16, Option<Value>) {
    let details = json!({"id": id});
    (
        404,
        Some(v3::error(v3::code_for(404), "Span not found", details)),
    )
}

/// The body as an object whose text fields, if present, are strings (or null).
fn checked<'a>(
    body: Option<&'a Value>,
    text_fields: &[&str],
) -> Result<&'a Map<String, Value>, (u16, Option<Value>)> {
    let Some(object) = body.and_then(Value::as_object) else {
        return Err(bad_request(
            "The body must be a JSON object",
            "body",
            "object_type",
        ));
    };
    for field in text_fields {
        if object
            .get(*field)
            .is_some_and(|value| !value.is_string() && !value.is_null())
        {
            return Err(bad_request(
                &format!("{field} must be a string"),
                field,
                "string_type",
            ));
        }
    }
    Ok(object)
}

fn text(object: &Map<String, Value>, field: &str) -> Option<String> {
    object.get(field).and_then(Value::as_str).map(str::to_owned)
}

fn value(object: &Map<String, Value>, field: &str) -> Option<Value> {
    object.get(field).filter(|value| !value.is_null()).cloned()
}

fn create(store: &mut Store, seed: u64, body: Option<&Value>, size: usize) -> (u16, Option<Value>) {
    let fields = [
        "name",
        "trace_id",
        "parent_id",
        "type",
        "error",
        "start_time",
        "end_time",
    ];
    let object = match checked(body, &fields) {
        Ok(object) => object,
        Err(answer) => return answer,
    };
    let Some(name) = text(object, "name") else {
        return bad_request("Field required: name", "name", "missing");
    };
    store.created = store.created.wrapping_add(1);
    let mut rng = Rng::new(seed ^ store.created.wrapping_mul(0xA24B_AED4_963E_E407));
    let id = uuid_like(rng.next_u64(), rng.next_u64());
    let trace_id =
        text(object, "trace_id").unwrap_or_else(|| uuid_like(rng.next_u64(), rng.next_u64()));
    let span = RecordedSpan {
        id,
        trace_id,
        parent_id: text(object, "parent_id"),
        name,
        kind: text(object, "type"),
        input: value(object, "input"),
        output: value(object, "output"),
        error: text(object, "error"),
        start_time: text(object, "start_time"),
        end_time: text(object, "end_time"),
        meta: value(object, "meta"),
        tags: value(object, "tags"),
        received: vec![Value::Object(object.clone())],
        children: Vec::new(),
    };
    let mut data = json!({"id": span.id, "trace_id": span.trace_id, "name": span.name});
    if let Some(data) = data.as_object_mut() {
        for (key, field) in [("parent_id", &span.parent_id), ("type", &span.kind)] {
            if let Some(field) = field {
                data.insert(key.to_owned(), Value::String(field.clone()));
            }
        }
    }
    store.keep(span, size);
    (200, Some(json!({ "data": data })))
}

fn update(store: &mut Store, id: &str, body: Option<&Value>, size: usize) -> (u16, Option<Value>) {
    let object = match checked(body, &["error", "end_time"]) {
        Ok(object) => object,
        Err(answer) => return answer,
    };
    let Some((span, bytes)) = store.find(id) else {
        return not_found(id);
    };
    *bytes = bytes.saturating_add(size);
    if let Some(output) = value(object, "output") {
        span.output = Some(output);
    }
    if let Some(error) = text(object, "error") {
        span.error = Some(error);
    }
    if let Some(end_time) = text(object, "end_time") {
        span.end_time = Some(end_time);
    }
    if let Some(meta) = value(object, "meta") {
        span.meta = Some(meta);
    }
    if let Some(tags) = value(object, "tags") {
        span.tags = Some(tags);
    }
    span.received.push(Value::Object(object.clone()));
    store.add(size);
    (204, None)
}

/// A span as `GET /v3/spans/{id}` answers it.
fn full(span: &RecordedSpan) -> Value {
    json!({
        "id": span.id,
        "trace_id": span.trace_id,
        "name": span.name,
        "parent_id": span.parent_id,
        "type": span.kind,
        "input": span.input,
        "output": span.output,
        "error": span.error,
        "start_time": span.start_time,
        "end_time": span.end_time,
        "meta": span.meta,
        "tags": span.tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_created_updated_read_and_kept_as_a_tree() {
        let mut store = Store::default();
        let (status, root) = answer(
            &mut store,
            0,
            "POST",
            "/v3/spans",
            Some(&json!({"name": "outer", "input": "in"})),
        );
        assert_eq!(status, 200);
        let root = root.unwrap()["data"].clone();
        let (id, trace) = (
            root["id"].as_str().unwrap(),
            root["trace_id"].as_str().unwrap(),
        );
        assert_eq!(id.len(), 36);
        assert_ne!(id, trace);
        let child = json!({"name": "inner", "trace_id": trace, "parent_id": id, "type": "tool"});
        let (_, created) = answer(&mut store, 0, "POST", "/v3/spans", Some(&child));
        let created = created.unwrap()["data"].clone();
        assert_eq!(created["parent_id"], id);
        assert_eq!(created["type"], "tool");
        let path = format!("/v3/spans/{id}");
        let end = json!({"error": "boom", "end_time": "t"});
        assert_eq!(
            answer(&mut store, 0, "PATCH", &path, Some(&end)),
            (204, None)
        );
        let (status, got) = answer(&mut store, 0, "GET", &path, None);
        assert_eq!(status, 200);
        assert_eq!(got.unwrap()["data"]["error"], "boom");

        let tree = store.tree();
        assert_eq!(tree.len(), 1);
        assert_eq!(tree[0].received.len(), 2);
        assert_eq!(tree[0].children[0].name, "inner");
        assert_eq!(tree[0].flatten().len(), 2);
    }

    #[test]
    fn bad_requests_unknown_spans_and_other_methods_get_v3_errors() {
        let mut store = Store::default();
        let post =
            |store: &mut Store, body: Value| answer(store, 0, "POST", "/v3/spans", Some(&body));
        for body in [
            json!([]),
            json!({}),
            json!({"name": 1}),
            json!({"name": "n", "trace_id": 2}),
        ] {
            let (status, error) = post(&mut store, body);
            assert_eq!(status, 400);
            assert_eq!(error.unwrap()["error"]["code"], "bad_request");
        }
        let (status, error) = answer(&mut store, 0, "PATCH", "/v3/spans/nope", Some(&json!({})));
        assert_eq!(status, 404);
        assert_eq!(error.unwrap()["error"]["code"], "not_found");
        assert_eq!(answer(&mut store, 0, "DELETE", "/v3/spans/x", None).0, 405);
        assert_eq!(answer(&mut store, 0, "GET", "/v3/spans", None).0, 405);
        assert!(is_spans("/v3/spans") && is_spans("/v3/spans/a%2Fb"));
        assert!(!is_spans("/v3/spans/a/b") && !is_spans("/v3/spansx"));
        assert!(store.tree().is_empty());
    }

    #[test]
    fn the_store_keeps_the_most_recent_spans() {
        let mut store = Store::default();
        for i in 0..Store::MAX_SPANS + 5 {
            answer(
                &mut store,
                0,
                "POST",
                "/v3/spans",
                Some(&json!({"name": i.to_string()})),
            );
        }
        let tree = store.tree();
        assert_eq!(tree.len(), Store::MAX_SPANS);
        assert_eq!(tree[0].name, "5");
    }

    #[test]
    fn the_store_forgets_the_oldest_spans_past_its_bytes_counting_each_body_once() {
        let mut store = Store::default();
        let input = "x".repeat(Store::MAX_BYTES / 4);
        for i in 0..6 {
            let body = json!({"name": i.to_string(), "input": input});
            answer(&mut store, 0, "POST", "/v3/spans", Some(&body));
        }
        // An update's body counts for its span too.
        let id = store.tree()[2].id.clone();
        let path = format!("/v3/spans/{id}");
        answer(
            &mut store,
            0,
            "PATCH",
            &path,
            Some(&json!({"output": "done"})),
        );
        let tree = store.tree();
        assert_eq!(tree.len(), 3);
        assert_eq!(tree[0].name, "3");
        let received: usize = tree
            .iter()
            .flat_map(|span| &span.received)
            .map(|body| body.to_string().len())
            .sum();
        assert_eq!(store.bytes, received);
    }
}
