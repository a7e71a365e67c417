//! The signatures Rust users write: borrowed parameters, tasks in `impl` blocks and `&self`
//! methods that take their client from `self`. Each is called over real HTTP against the
//! built-in server, and the request it sends is checked.
#![allow(missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};

use opper::testing::{MockServer, Reply};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Summary {
    text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct Article {
    /// The headline
    title: String,
}

fn client(server: &MockServer, key: &str) -> opper::Opper {
    opper::Opper::builder()
        .api_key(key)
        .base_url(server.url())
        .build()
        .expect("client")
}

fn body(request: &opper::testing::RecordedRequest) -> Value {
    request.body.clone().expect("a JSON body")
}

/// The schema without its top-level title, which is named after the function.
fn untitled(schema: &Value) -> Value {
    let mut schema = schema.clone();
    schema.as_object_mut().expect("object").remove("title");
    schema
}

/// Summarize the text.
#[opper::function(example(
    input(text = "a b", words = ["a", "b"], article = Article { title: "t".into() }, limit = 1u32),
    output = Summary { text: "a".into() },
))]
async fn summarize(
    /// The text
    text: &str,
    words: &[&str],
    article: &Article,
    limit: u32,
) -> opper::Result<Summary>;

/// Summarize the text.
#[opper::function(name = "summarize_owned", example(
    input(text = "a b", words = vec!["a".to_owned(), "b".to_owned()], article = Article { title: "t".into() }, limit = 1u32),
    output = Summary { text: "a".into() },
))]
async fn summarize_owned(
    /// The text
    text: String,
    words: Vec<String>,
    article: Article,
    limit: u32,
) -> opper::Result<Summary>;

#[tokio::test]
async fn borrowed_parameters_send_the_schema_and_value_of_their_referents() {
    let server = MockServer::start().await;
    let client = client(&server, "k");
    server.reply("summarize", Reply::json(json!({"text": "short"})));
    server.reply("summarize_owned", Reply::json(json!({"text": "short"})));

    let text = String::from("a long text");
    let words = vec!["a", "long"];
    let article = Article {
        title: "News".into(),
    };
    let summary = summarize_with(&client, &text, &words, &article, 3)
        .await
        .expect("call");
    assert_eq!(
        summary,
        Summary {
            text: "short".into()
        }
    );
    summarize_owned_with(
        &client,
        text.clone(),
        vec!["a".into(), "long".into()],
        article.clone(),
        3,
    )
    .await
    .expect("call");

    let requests = server.requests();
    let borrowed = body(&requests[0]);
    let owned = body(&requests[1]);
    assert_eq!(
        borrowed["input"],
        json!({"text": "a long text", "words": ["a", "long"], "article": {"title": "News"}, "limit": 3})
    );
    assert_eq!(borrowed["input"], owned["input"]);
    assert_eq!(borrowed["input_schema"]["title"], "SummarizeInput");
    assert_eq!(
        untitled(&borrowed["input_schema"]),
        untitled(&owned["input_schema"]),
        "a borrowed parameter's schema is its referent's: {:#}",
        borrowed["input_schema"]
    );
    assert_eq!(
        borrowed["input_schema"]["properties"]["text"]["type"],
        "string"
    );
    assert_eq!(
        borrowed["input_schema"]["properties"]["text"]["description"],
        "The text"
    );
    assert_eq!(
        borrowed["input_schema"]["properties"]["words"]["type"],
        "array"
    );
    assert_eq!(borrowed["examples"], owned["examples"]);
    assert_eq!(
        borrowed["examples"][0]["input"],
        json!({"text": "a b", "words": ["a", "b"], "article": {"title": "t"}, "limit": 1})
    );
}

/// Name the topic of the article.
#[opper::function(example(input = Article { title: "t".into() }, output = "News"))]
async fn topic(#[input] article: &Article) -> opper::Result<String>;

#[tokio::test]
async fn a_borrowed_input_parameter_is_the_whole_input() {
    let server = MockServer::start().await;
    let client = client(&server, "k");
    server.reply("topic", Reply::text("Politics"));
    let article = Article {
        title: "Vote".into(),
    };
    assert_eq!(
        topic_with(&client, &article).await.expect("call"),
        "Politics"
    );
    let sent = body(&server.requests()[0]);
    assert_eq!(sent["input"], json!({"title": "Vote"}));
    assert_eq!(sent["input_schema"]["title"], "Article");
    assert_eq!(
        sent["input_schema"]["properties"]["title"]["type"],
        "string"
    );
    assert_eq!(
        sent["examples"],
        json!([{"input": {"title": "t"}, "output": "News"}])
    );
}

/// Summarize the text, streamed.
#[opper::function]
async fn summarize_live(text: &str) -> opper::Result<opper::Stream<Summary>>;

#[tokio::test]
async fn a_stream_holds_no_borrow_of_the_arguments() {
    let server = MockServer::start().await;
    let client = client(&server, "k");
    server.reply("summarize_live", Reply::json(json!({"text": "short"})));
    let stream = {
        let text = String::from("dropped before the stream is read");
        summarize_live_with(&client, &text).await.expect("stream")
    };
    assert_eq!(
        stream.finish().await.expect("finish"),
        Summary {
            text: "short".into()
        }
    );
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v2/call/stream");
    assert_eq!(
        body(request)["input"],
        json!({"text": "dropped before the stream is read"})
    );
}

static SCHEMA_BUILDS: AtomicUsize = AtomicUsize::new(0);

/// An output type that counts how often its schema is built.
#[derive(Debug, PartialEq, Deserialize)]
struct Counted {
    count: u32,
}

impl JsonSchema for Counted {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Counted".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        SCHEMA_BUILDS.fetch_add(1, Ordering::SeqCst);
        schemars::json_schema!({
            "type": "object",
            "properties": {"count": {"type": "integer"}},
            "required": ["count"]
        })
    }
}

/// A service that keeps its client.
struct Extractor {
    opper: opper::Opper,
}

impl AsRef<opper::Opper> for Extractor {
    fn as_ref(&self) -> &opper::Opper {
        &self.opper
    }
}

impl Extractor {
    /// Summarize the text.
    #[opper::function(model = "openai/gpt-4o-mini")]
    async fn extract(text: &str) -> opper::Result<Summary>;

    /// Summarize the text with the service's client.
    #[opper::function(example(input(text = "x"), output = Summary { text: "x".into() }))]
    async fn summarize(&self, text: &str) -> opper::Result<Summary>;

    /// Count the words.
    #[opper::function]
    async fn count(&self, text: &str) -> opper::Result<Counted>;

    /// Summarize the text, streamed, with the service's client.
    #[opper::function]
    async fn summarize_live(&self, text: &str) -> opper::Result<opper::Stream<String>>;

    /// Describe the article, with metadata.
    #[opper::function]
    async fn describe(&self, #[input] article: &Article) -> opper::Result<opper::Response<String>>;
}

#[tokio::test]
async fn associated_functions_use_the_default_client_or_the_one_given() {
    // The only test of this binary that uses the default client.
    let server = MockServer::start().await;
    client(&server, "default-key").set_default();
    let explicit = client(&server, "explicit-key");
    server.reply("extract", Reply::json(json!({"text": "short"})));

    let summary = Extractor::extract("from the default").await.expect("call");
    assert_eq!(
        summary,
        Summary {
            text: "short".into()
        }
    );
    Extractor::extract_with(&explicit, "from the explicit")
        .await
        .expect("call");

    let requests = server.requests();
    assert_eq!(requests[0].bearer(), Some("default-key"));
    assert_eq!(requests[1].bearer(), Some("explicit-key"));
    let sent = body(&requests[0]);
    assert_eq!(sent["name"], "extract");
    assert_eq!(sent["instructions"], "Summarize the text.");
    assert_eq!(sent["model"], "openai/gpt-4o-mini");
    assert_eq!(sent["input"], json!({"text": "from the default"}));
    assert_eq!(sent["input_schema"]["title"], "ExtractInput");
    assert_eq!(
        body(&requests[1])["input"],
        json!({"text": "from the explicit"})
    );
}

#[tokio::test]
async fn self_methods_call_with_the_client_self_provides() {
    let server = MockServer::start().await;
    let first = Extractor {
        opper: client(&server, "first-key"),
    };
    let second = Extractor {
        opper: client(&server, "second-key"),
    };
    server.reply("summarize", Reply::json(json!({"text": "short"})));
    server.reply("summarize_live", Reply::text("streamed"));
    server.reply("describe", Reply::text("A vote."));

    assert_eq!(
        first.summarize("one").await.expect("call"),
        Summary {
            text: "short".into()
        }
    );
    second.summarize("two").await.expect("call");
    let stream = {
        let text = String::from("three");
        second.summarize_live(&text).await.expect("stream")
    };
    assert_eq!(stream.finish().await.expect("finish"), "streamed");
    let article = Article {
        title: "Vote".into(),
    };
    let response = first.describe(&article).await.expect("call");
    assert_eq!(response.output, "A vote.");

    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(requests[0].bearer(), Some("first-key"));
    assert_eq!(requests[1].bearer(), Some("second-key"));
    assert_eq!(requests[2].bearer(), Some("second-key"));
    assert_eq!(requests[3].bearer(), Some("first-key"));
    let sent = body(&requests[0]);
    assert_eq!(sent["name"], "summarize");
    assert_eq!(
        sent["instructions"],
        "Summarize the text with the service's client."
    );
    assert_eq!(sent["input"], json!({"text": "one"}));
    assert_eq!(
        sent["examples"],
        json!([{"input": {"text": "x"}, "output": {"text": "x"}}])
    );
    assert_eq!(body(&requests[1])["input"], json!({"text": "two"}));
    assert_eq!(requests[2].path, "/v2/call/stream");
    assert_eq!(body(&requests[2])["input"], json!({"text": "three"}));
    assert!(body(&requests[2]).get("output_schema").is_none());
    assert_eq!(body(&requests[3])["input"], json!({"title": "Vote"}));
}

#[tokio::test]
async fn a_method_builds_its_schemas_once_not_per_instance() {
    let server = MockServer::start().await;
    server.reply("count", Reply::json(json!({"count": 2})));
    let first = Extractor {
        opper: client(&server, "k"),
    };
    first.count("a b").await.expect("call");
    let after_first = SCHEMA_BUILDS.load(Ordering::SeqCst);
    assert!(after_first >= 1, "the schema was built for the first call");
    for _ in 0..3 {
        let other = Extractor {
            opper: client(&server, "k"),
        };
        assert_eq!(
            other.count("a b").await.expect("call"),
            Counted { count: 2 }
        );
    }
    assert_eq!(SCHEMA_BUILDS.load(Ordering::SeqCst), after_first);
    let bodies: Vec<Value> = server.requests().iter().map(body).collect();
    assert_eq!(bodies.len(), 4);
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]));
    assert_eq!(bodies[0]["output_schema"]["required"], json!(["count"]));
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Node {
    label: String,
}

impl Node {
    /// Merge the nodes.
    #[opper::function]
    async fn merge(left: &Self, right: Self, others: Vec<Self>) -> opper::Result<Self>;
}

#[tokio::test]
async fn self_types_in_parameters_and_output() {
    let server = MockServer::start().await;
    let client = client(&server, "k");
    server.reply("merge", Reply::json(json!({"label": "ab"})));
    let a = Node { label: "a".into() };
    let b = Node { label: "b".into() };
    let merged = Node::merge_with(&client, &a, b.clone(), vec![a.clone()])
        .await
        .expect("call");
    assert_eq!(merged, Node { label: "ab".into() });
    let sent = body(&server.requests()[0]);
    assert_eq!(
        sent["input"],
        json!({"left": {"label": "a"}, "right": {"label": "b"}, "others": [{"label": "a"}]})
    );
    assert_eq!(
        sent["output_schema"]["properties"]["label"]["type"],
        "string"
    );
    assert_eq!(
        sent["input_schema"]["required"],
        json!(["left", "right", "others"])
    );
}

// The same forms, declared through `macro_rules!`.
macro_rules! service {
    ($service:ident, $method:ident, $assoc:ident, $param:ident: $ty:ty, $name:literal, $model:expr) => {
        struct $service(opper::Opper);

        impl AsRef<opper::Opper> for $service {
            fn as_ref(&self) -> &opper::Opper {
                &self.0
            }
        }

        impl $service {
            /// Summarize, as a method.
            #[opper::function(name = $name, model = $model)]
            async fn $method(&self, $param: $ty) -> opper::Result<Summary>;

            /// Summarize, as an associated function.
            #[opper::function(name = $name, model = $model)]
            async fn $assoc($param: $ty) -> opper::Result<Summary>;
        }
    };
}
service!(
    MacroService,
    summarize,
    extract,
    text: &str,
    "macro_summarize",
    model("openai/gpt-4o", temperature = 0.1)
);

#[tokio::test]
async fn impl_blocks_declared_in_macro_rules() {
    let server = MockServer::start().await;
    let client = client(&server, "k");
    server.reply("macro_summarize", Reply::json(json!({"text": "short"})));
    let service = MacroService(client.clone());
    service.summarize("by method").await.expect("call");
    MacroService::extract_with(&client, "by function")
        .await
        .expect("call");
    let requests = server.requests();
    for (request, text) in requests.iter().zip(["by method", "by function"]) {
        let sent = body(request);
        assert_eq!(sent["name"], "macro_summarize");
        assert_eq!(
            sent["model"],
            json!({"name": "openai/gpt-4o", "options": {"temperature": 0.1}})
        );
        assert_eq!(sent["input"], json!({"text": text}));
        assert_eq!(sent["input_schema"]["properties"]["text"]["type"], "string");
    }
}

/// A service whose `&self` method borrows its input and validates its output.
struct Checker {
    opper: opper::Opper,
}

impl AsRef<opper::Opper> for Checker {
    fn as_ref(&self) -> &opper::Opper {
        &self.opper
    }
}

fn not_empty(summary: &Summary) -> Result<(), &'static str> {
    if summary.text.is_empty() {
        Err("the summary is empty")
    } else {
        Ok(())
    }
}

impl Checker {
    /// Summarize the text.
    #[opper::function(name = "checked_summary", validate = not_empty)]
    async fn summarize(&self, text: &str) -> opper::Result<opper::Response<Summary>>;
}

/// The forms of this file and validation with re-ask work together: the rejected first answer
/// is asked again with the same borrowed input, through the client `self` gives.
#[tokio::test]
async fn a_self_method_with_a_borrowed_input_is_validated_and_reasked() {
    let server = MockServer::start().await;
    server.require_api_key("checker-key");
    server
        .enqueue("checked_summary", Reply::json(json!({"text": ""})))
        .enqueue("checked_summary", Reply::json(json!({"text": "short"})));
    let checker = Checker {
        opper: client(&server, "checker-key"),
    };
    let text = String::from("a long text");
    let response = checker.summarize(&text).await.expect("accepted");
    assert_eq!(
        (response.output.text.as_str(), response.reasks),
        ("short", 1)
    );
    let requests = server.requests_for("checked_summary");
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(body(request)["input"], json!({"text": "a long text"}));
    }
    let instructions = body(&requests[1])["instructions"]
        .as_str()
        .expect("instructions")
        .to_owned();
    assert!(
        instructions.starts_with("Summarize the text."),
        "{instructions}"
    );
    assert!(
        instructions.contains("Reason: the summary is empty"),
        "{instructions}"
    );
}

static APPLE_SCHEMAS: AtomicUsize = AtomicUsize::new(0);

/// One type of a generic repository's; its schema counts how often it is built.
#[derive(Debug, PartialEq, Serialize, Deserialize, opper::Partial)]
struct Apple {
    seeds: u32,
}

impl JsonSchema for Apple {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Apple".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        APPLE_SCHEMAS.fetch_add(1, Ordering::SeqCst);
        schemars::json_schema!({
            "type": "object",
            "properties": {"seeds": {"type": "integer"}},
            "required": ["seeds"]
        })
    }
}

/// The other.
#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Pear {
    variety: String,
}

/// A typed repository over `T`: one generic `impl`, whose tasks are one function each for every
/// `T`, and one `static` inside each.
struct Repo<T> {
    opper: opper::Opper,
    items: std::marker::PhantomData<fn() -> T>,
}

impl<T> AsRef<opper::Opper> for Repo<T> {
    fn as_ref(&self) -> &opper::Opper {
        &self.opper
    }
}

impl<T> Repo<T>
where
    T: Serialize + serde::de::DeserializeOwned + JsonSchema + opper::Partial + 'static,
{
    /// Fetch the item.
    #[opper::function(name = "repo_get")]
    async fn get(id: u32) -> opper::Result<T>;

    /// Repair the item.
    #[opper::function(name = "repo_repair")]
    async fn repair(&self, item: &T) -> opper::Result<opper::Response<T>>;

    /// Fetch the item, streamed.
    #[opper::function(name = "repo_live")]
    async fn live(&self, id: u32) -> opper::Result<opper::Stream<T>>;
}

/// A service over a borrowed prefix: its `Self` is not `'static`.
struct Scoped<'a, T> {
    opper: &'a opper::Opper,
    items: std::marker::PhantomData<fn() -> T>,
}

impl<T> AsRef<opper::Opper> for Scoped<'_, T> {
    fn as_ref(&self) -> &opper::Opper {
        self.opper
    }
}

impl<'a, T: serde::de::DeserializeOwned + JsonSchema> Scoped<'a, T> {
    /// Find the item.
    #[opper::function(name = "scoped_find")]
    async fn find(&self, name: &str) -> opper::Result<T>;
}

fn apple_schema() -> Value {
    json!({"type": "object", "properties": {"seeds": {"type": "integer"}}, "required": ["seeds"]})
}

/// The output schema a request carries, without the title schemars may add.
fn output_schema(request: &opper::testing::RecordedRequest) -> Value {
    let mut schema = body(request)["output_schema"].clone();
    if let Some(object) = schema.as_object_mut() {
        object.remove("title");
        object.remove("$schema");
    }
    schema
}

#[tokio::test]
async fn each_instantiation_of_a_generic_impl_sends_its_own_schemas() {
    let server = MockServer::start().await;
    let client = client(&server, "k");
    server
        .enqueue("repo_get", Reply::json(json!({"seeds": 3})))
        .enqueue("repo_get", Reply::json(json!({"variety": "Conference"})))
        .enqueue("repo_get", Reply::json(json!({"seeds": 4})))
        .enqueue("repo_get", Reply::json(json!({"variety": "Comice"})));

    let apple = Repo::<Apple>::get_with(&client, 1).await.expect("apple");
    assert_eq!(apple, Apple { seeds: 3 });
    let builds = APPLE_SCHEMAS.load(Ordering::SeqCst);
    assert!(builds >= 1, "the apple's schema was built");
    let pear = Repo::<Pear>::get_with(&client, 2).await.expect("pear");
    assert_eq!(
        pear,
        Pear {
            variety: "Conference".into()
        }
    );
    let apple = Repo::<Apple>::get_with(&client, 3).await.expect("apple");
    assert_eq!(apple, Apple { seeds: 4 });
    let pear = Repo::<Pear>::get_with(&client, 4).await.expect("pear");
    assert_eq!(pear.variety, "Comice");
    assert_eq!(
        APPLE_SCHEMAS.load(Ordering::SeqCst),
        builds,
        "each instantiation's task is built once"
    );

    let requests = server.requests_for("repo_get");
    assert_eq!(requests.len(), 4);
    assert_eq!(output_schema(&requests[0]), apple_schema());
    assert_eq!(
        body(&requests[1])["output_schema"]["properties"]["variety"]["type"],
        "string",
        "the pear's request carries the pear's schema: {:#}",
        body(&requests[1])["output_schema"]
    );
    assert!(body(&requests[1])["output_schema"]["properties"]["seeds"].is_null());
    for (a, b) in [(0, 2), (1, 3)] {
        let (mut first, mut again) = (body(&requests[a]), body(&requests[b]));
        first["input"] = Value::Null;
        again["input"] = Value::Null;
        assert_eq!(
            first, again,
            "an instantiation sends the same task each time"
        );
    }
}

#[tokio::test]
async fn self_methods_of_a_generic_impl_send_their_instantiation_s_schemas() {
    let server = MockServer::start().await;
    server
        .enqueue("repo_repair", Reply::json(json!({"seeds": 0})))
        .enqueue("repo_repair", Reply::json(json!({"variety": "Bosc"})))
        .reply("repo_live", Reply::json(json!({"variety": "Anjou"})));
    let apples = Repo::<Apple> {
        opper: client(&server, "k"),
        items: std::marker::PhantomData,
    };
    let pears = Repo::<Pear> {
        opper: client(&server, "k"),
        items: std::marker::PhantomData,
    };

    let repaired = apples.repair(&Apple { seeds: 9 }).await.expect("apple");
    assert_eq!(repaired.output, Apple { seeds: 0 });
    let repaired = pears
        .repair(&Pear {
            variety: "?".into(),
        })
        .await
        .expect("pear");
    assert_eq!(repaired.output.variety, "Bosc");
    let stream = pears.live(5).await.expect("stream");
    assert_eq!(stream.finish().await.expect("pear").variety, "Anjou");

    let requests = server.requests();
    let (apple, pear, live) = (body(&requests[0]), body(&requests[1]), &requests[2]);
    assert_eq!(output_schema(&requests[0]), apple_schema());
    assert_eq!(
        apple["input_schema"]["$defs"]["Apple"]["properties"]["seeds"]["type"], "integer",
        "{:#}",
        apple["input_schema"]
    );
    assert_eq!(
        pear["output_schema"]["properties"]["variety"]["type"],
        "string"
    );
    assert!(
        pear["input_schema"].to_string().contains("variety")
            && !pear["input_schema"].to_string().contains("seeds"),
        "{:#}",
        pear["input_schema"]
    );
    assert_eq!(live.path, "/v2/call/stream");
    assert_eq!(
        body(live)["output_schema"]["properties"]["variety"]["type"],
        "string"
    );
}

#[tokio::test]
async fn an_impl_over_a_lifetime_keys_its_tasks_by_type_alone() {
    let server = MockServer::start().await;
    let client = client(&server, "k");
    server
        .enqueue("scoped_find", Reply::json(json!({"seeds": 1})))
        .enqueue("scoped_find", Reply::json(json!({"variety": "Forelle"})))
        .enqueue("scoped_find", Reply::json(json!({"seeds": 2})));
    for round in 0..2 {
        // A new borrow each round: the same instantiation, whatever the lifetime.
        let opper = client.clone();
        let apples = Scoped::<Apple> {
            opper: &opper,
            items: std::marker::PhantomData,
        };
        let name = format!("apple {round}");
        assert_eq!(apples.find(&name).await.expect("apple").seeds, round + 1);
        if round == 0 {
            let pears = Scoped::<Pear> {
                opper: &opper,
                items: std::marker::PhantomData,
            };
            assert_eq!(pears.find("pear").await.expect("pear").variety, "Forelle");
        }
    }
    let requests = server.requests();
    assert_eq!(output_schema(&requests[0]), apple_schema());
    assert_eq!(
        body(&requests[1])["output_schema"]["properties"]["variety"]["type"],
        "string"
    );
    assert_eq!(output_schema(&requests[2]), apple_schema());
}
