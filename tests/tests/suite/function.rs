//! `#[opper::function]` end to end: the request each form sends and what it returns, over real
//! HTTP against the built-in server.
#![allow(missing_docs, dead_code)]

use futures::StreamExt;
use opper::testing::{MockServer, Reply};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Sum {
    sum: i64,
}

/// Calculate the sum of two numbers
#[opper::function(
    model = "openai/gpt-4o-mini",
    example(input(x = 1, y = 3), output = Sum { sum: 4 }, comment = "Adds two numbers"),
    tags(project = "project_456", user = "company_123"),
)]
async fn add_numbers(x: i64, y: i64) -> opper::Result<Sum>;

/// Removes the JSON Schema annotations that do not change what a schema accepts (`title`,
/// `description`, `$schema`), so that schemas compare by meaning.
fn semantics(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| !matches!(key.as_str(), "title" | "description" | "$schema"))
                .map(|(key, value)| {
                    let value = if key == "properties" {
                        // property names are data, not annotations
                        match value {
                            Value::Object(props) => Value::Object(
                                props
                                    .iter()
                                    .map(|(k, v)| (k.clone(), semantics(v)))
                                    .collect(),
                            ),
                            other => other.clone(),
                        }
                    } else {
                        semantics(value)
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(semantics).collect()),
        other => other.clone(),
    }
}

/// The integer types schemars writes carry a `format` (`int64`); the seed leaves it out.
fn without_format(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| key.as_str() != "format")
                .map(|(key, value)| (key.clone(), without_format(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_format).collect()),
        other => other.clone(),
    }
}

fn body(server: &MockServer) -> Value {
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "one request expected: {requests:?}");
    requests[0].body.clone().expect("a JSON body")
}

async fn server() -> (MockServer, opper::Opper) {
    let server = MockServer::start().await;
    let client = opper::Opper::builder()
        .api_key("test-key")
        .base_url(server.url())
        .build()
        .expect("client");
    (server, client)
}

#[tokio::test]
async fn the_seed_task_sends_the_seed_request() {
    let (server, client) = server().await;
    server.reply("add_numbers", Reply::json(json!({"sum": 9})));

    let sum = add_numbers_with(&client, 4, 5).await.expect("call");
    assert_eq!(sum, Sum { sum: 9 });

    let requests = server.requests();
    assert_eq!(requests[0].path, "/v2/call");
    assert_eq!(requests[0].bearer(), Some("test-key"));
    let sent = body(&server);
    let seed = json!({
        "name": "add_numbers",
        "instructions": "Calculate the sum of two numbers",
        "input_schema": {
            "properties": {"x": {"title": "X", "type": "integer"}, "y": {"title": "Y", "type": "integer"}},
            "required": ["x", "y"],
            "title": "OpperInputExample",
            "type": "object",
        },
        "output_schema": {
            "properties": {"sum": {"title": "Sum", "type": "integer"}},
            "required": ["sum"],
            "title": "OpperOutputExample",
            "type": "object",
        },
        "input": {"x": 4, "y": 5},
        "model": "openai/gpt-4o-mini",
        "examples": [{"input": {"x": 1, "y": 3}, "output": {"sum": 4}, "comment": "Adds two numbers"}],
        "tags": {"project": "project_456", "user": "company_123"},
    });
    let keys: Vec<&String> = sent.as_object().expect("object").keys().collect();
    let seed_keys: Vec<&String> = seed.as_object().expect("object").keys().collect();
    assert_eq!(keys, seed_keys, "same fields: {sent:#}");
    for key in seed_keys {
        if key.ends_with("_schema") {
            assert_eq!(
                without_format(&semantics(&sent[key])),
                semantics(&seed[key]),
                "{key}: {:#}",
                sent[key]
            );
        } else {
            assert_eq!(sent[key], seed[key], "{key}");
        }
    }
    // The raw body keeps the official clients' key order.
    let raw = String::from_utf8(requests[0].raw_body.to_vec()).expect("utf-8");
    let positions: Vec<usize> = [
        "\"name\"",
        "\"instructions\"",
        "\"input_schema\"",
        "\"output_schema\"",
        "\"input\":",
    ]
    .iter()
    .map(|key| raw.find(key).expect(key))
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{raw}");
}

/// Summarize the text in one sentence.
#[opper::function(model = "openai/gpt-4o-mini")]
async fn summarize(
    /// The text to summarize
    text: String,
) -> opper::Result<String>;

#[tokio::test]
async fn text_mode_sends_no_output_schema_and_returns_the_message() {
    let (server, client) = server().await;
    server.reply("summarize", Reply::text("A short summary."));

    let summary = summarize_with(&client, "Long text".into())
        .await
        .expect("call");
    assert_eq!(summary, "A short summary.");

    let sent = body(&server);
    assert!(sent.get("output_schema").is_none(), "{sent:#}");
    assert_eq!(sent["instructions"], "Summarize the text in one sentence.");
    assert_eq!(sent["input"], json!({"text": "Long text"}));
    assert_eq!(
        sent["input_schema"]["properties"]["text"]["description"],
        "The text to summarize"
    );
    assert_eq!(sent["input_schema"]["required"], json!(["text"]));
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Sentiment {
    label: String,
    score: f64,
}

/// Classify the sentiment.
#[opper::function(
    name = "sentiment_v2",
    instructions = "Classify the sentiment of the text."
)]
async fn sentiment(text: String) -> opper::Result<opper::Response<Sentiment>>;

/// Say hello.
#[opper::function]
async fn hello(name: String) -> opper::Result<opper::Response<String>>;

#[tokio::test]
async fn response_carries_the_metadata() {
    let (server, client) = server().await;
    server.reply(
        "sentiment_v2",
        Reply::json(json!({"label": "positive", "score": 0.9}))
            .span_id("span-1")
            .cached(true)
            .usage(json!({"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}))
            .cost(json!({"generation": 0.001, "platform": 0.0005, "total": 0.0015})),
    );
    server.reply("hello", Reply::text("Hello, Ann!").span_id("span-2"));

    let response = sentiment_with(&client, "I love it".into())
        .await
        .expect("call");
    assert_eq!(response.output.label, "positive");
    assert!((response.output.score - 0.9).abs() < 1e-9);
    assert_eq!(response.span_id.as_deref(), Some("span-1"));
    assert!(response.cached);
    let usage = response.usage.expect("usage");
    assert_eq!(
        (usage.input_tokens, usage.output_tokens, usage.total_tokens),
        (10, 5, 15)
    );
    let cost = response.cost.expect("cost");
    assert!((cost.total - 0.0015).abs() < 1e-12);

    let greeting = hello_with(&client, "Ann".into()).await.expect("call");
    assert_eq!(greeting.output, "Hello, Ann!");
    assert_eq!(greeting.span_id.as_deref(), Some("span-2"));

    let requests = server.requests();
    let sentiment = requests[0].body.clone().expect("body");
    assert_eq!(sentiment["name"], "sentiment_v2");
    assert_eq!(
        sentiment["instructions"],
        "Classify the sentiment of the text."
    );
    assert!(sentiment.get("output_schema").is_some());
    assert!(sentiment.get("model").is_none());
    let hello = requests[1].body.clone().expect("body");
    assert_eq!(hello["instructions"], "Say hello.");
    assert!(hello.get("output_schema").is_none(), "{hello:#}");
}

use opper_tests::Team;

/// Extract every person mentioned in the text, with their role.
#[opper::function(name = "extract_team", model = "openai/gpt-4o-mini")]
async fn extract_team_live(text: String) -> opper::Result<opper::Stream<Team>>;

/// Write a haiku about the topic.
#[opper::function]
async fn haiku(topic: String) -> opper::Result<opper::Stream<String>>;

#[tokio::test]
async fn streams_hit_the_stream_endpoint() {
    let (server, client) = server().await;
    server.reply(
        "extract_team",
        Reply::json(json!({
            "people": [{"name": "Ann", "role": "CTO"}, {"name": "Bo", "role": "docs"}],
            "summary": "Two people."
        })),
    );
    server.reply("haiku", Reply::text("Old pond, a frog jumps"));

    let mut stream = extract_team_live_with(&client, "Ann is the CTO; Bo writes the docs.".into())
        .await
        .expect("stream");
    let mut paths = Vec::new();
    while let Some(update) = stream.next().await {
        paths.push(update.expect("update").json_path);
    }
    assert!(
        paths.iter().any(|path| path.contains("people[1].name")),
        "{paths:?}"
    );
    let team = stream.finish().await.expect("finish");
    assert_eq!(team.people.len(), 2);
    assert_eq!(team.people[0].name, "Ann");
    assert_eq!(team.summary, "Two people.");

    let stream = haiku_with(&client, "frogs".into()).await.expect("stream");
    assert_eq!(
        stream.finish().await.expect("finish"),
        "Old pond, a frog jumps"
    );

    let requests = server.requests();
    assert_eq!(requests[0].path, "/v2/call/stream");
    assert_eq!(requests[0].header("accept"), Some("text/event-stream"));
    let team_body = requests[0].body.clone().expect("body");
    assert_eq!(team_body["name"], "extract_team");
    assert_eq!(
        semantics(&team_body["output_schema"])["required"],
        json!(["people", "summary"])
    );
    assert_eq!(requests[1].path, "/v2/call/stream");
    assert!(
        requests[1]
            .body
            .clone()
            .expect("body")
            .get("output_schema")
            .is_none()
    );
}

/// Translate the text.
#[opper::function(
    model = [model("anthropic/claude-sonnet-4", temperature = 0.2, max_tokens = 500), "openai/gpt-4o-mini"],
    max_attempts = 3,
    cache_ttl = 0,
    configuration(input_validation = true, xml_mode = false, few_shot_count = 2),
)]
async fn translate(text: String, language: String) -> opper::Result<String>;

/// Rate the text.
#[opper::function(model(
    "openai/gpt-4o",
    temperature = 0.0,
    extra_headers("x-provider-key" = "sk-provider", x_team = "search")
))]
async fn rate(text: String) -> opper::Result<u8>;

#[tokio::test]
async fn models_and_configuration_serialize() {
    let (server, client) = server().await;
    server.reply("translate", Reply::text("Hej"));
    server.reply("rate", Reply::json(json!(7)));

    assert_eq!(
        translate_with(&client, "Hi".into(), "sv".into())
            .await
            .expect("call"),
        "Hej"
    );
    assert_eq!(rate_with(&client, "Fine".into()).await.expect("call"), 7);

    let requests = server.requests();
    let translate = requests[0].body.clone().expect("body");
    assert_eq!(
        translate["model"],
        json!([
            {"name": "anthropic/claude-sonnet-4", "options": {"temperature": 0.2, "max_tokens": 500}},
            "openai/gpt-4o-mini"
        ])
    );
    assert_eq!(
        translate["configuration"],
        json!({
            "invocation.structured_generation.max_attempts": 3,
            "invocation.cache.ttl": 0,
            "beta.invocation.input_validation.enabled": true,
            "beta.invocation.xml_mode.enabled": false,
            "invocation.few_shot.count": 2
        })
    );
    assert_eq!(translate["input"], json!({"text": "Hi", "language": "sv"}));
    let rate = requests[1].body.clone().expect("body");
    assert_eq!(
        rate["model"],
        json!({
            "name": "openai/gpt-4o",
            "options": {"temperature": 0.0},
            "extra_headers": {"x-provider-key": "sk-provider", "x_team": "search"}
        })
    );
    assert_eq!(semantics(&rate["output_schema"])["type"], "integer");
}

/// An article to classify.
#[derive(Debug, Serialize, JsonSchema)]
struct Article {
    /// The headline
    title: String,
    body: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
enum Topic {
    Sports,
    Politics,
    Science,
}

/// Classify the article's topic.
#[opper::function(
    example(
        input = Article { title: "Goal!".into(), body: "A late winner.".into() },
        output = Topic::Sports,
    ),
)]
async fn classify(#[input] article: Article) -> opper::Result<Topic>;

#[tokio::test]
async fn an_input_parameter_is_the_whole_input() {
    let (server, client) = server().await;
    server.reply("classify", Reply::json(json!("Science")));

    let article = Article {
        title: "Quarks".into(),
        body: "New results.".into(),
    };
    let topic = classify_with(&client, article).await.expect("call");
    assert!(matches!(topic, Topic::Science));

    let sent = body(&server);
    assert_eq!(
        sent["input"],
        json!({"title": "Quarks", "body": "New results."})
    );
    assert_eq!(sent["input_schema"]["title"], "Article");
    assert_eq!(
        sent["input_schema"]["properties"]["title"]["description"],
        "The headline"
    );
    assert_eq!(
        sent["examples"],
        json!([{"input": {"title": "Goal!", "body": "A late winner."}, "output": "Sports"}])
    );
}

static SCHEMA_BUILDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// An output type that counts how often its schema is built.
#[derive(Debug, Deserialize)]
struct Counted {
    sum: i64,
}

impl JsonSchema for Counted {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Counted".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        SCHEMA_BUILDS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        schemars::json_schema!({
            "type": "object",
            "properties": {"sum": {"type": "integer"}},
            "required": ["sum"]
        })
    }
}

/// Add two numbers.
#[opper::function]
async fn counted_sum(x: i64, y: i64) -> opper::Result<Counted>;

#[tokio::test]
async fn schemas_are_built_once() {
    let (server, client) = server().await;
    server.reply("counted_sum", Reply::json(json!({"sum": 3})));
    assert_eq!(counted_sum_with(&client, 1, 2).await.expect("call").sum, 3);
    let after_first = SCHEMA_BUILDS.load(std::sync::atomic::Ordering::SeqCst);
    assert!(after_first >= 1, "the schema was built for the first call");
    for _ in 0..3 {
        counted_sum_with(&client, 1, 2).await.expect("call");
    }
    assert_eq!(
        SCHEMA_BUILDS.load(std::sync::atomic::Ordering::SeqCst),
        after_first,
        "later calls reuse the schema"
    );
    let bodies: Vec<Value> = server
        .requests()
        .into_iter()
        .map(|r| r.body.expect("body"))
        .collect();
    assert_eq!(
        bodies[0]["output_schema"]["properties"]["sum"]["type"],
        "integer"
    );
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
}

#[tokio::test]
async fn an_error_status_is_an_error() {
    let (server, client) = server().await;
    server.reply("add_numbers", Reply::status(422));
    let error = add_numbers_with(&client, 1, 2).await.expect_err("422");
    assert_eq!(error.status(), Some(422));
}

/// The environment is process-wide (and setting it is `unsafe`), so the default client is tested
/// in child processes: this same test binary, run with `OPPER_FUNCTION_CHILD` set to the case.
const CHILD: &str = "OPPER_FUNCTION_CHILD";

fn run_child(case: &str, env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(std::env::current_exe().expect("test binary"));
    command
        .args([
            "function::child_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("OPPER_API_KEY")
        .env_remove("OPPER_HTTP_BEARER")
        .env_remove("OPPER_BASE_URL")
        .env(CHILD, case);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run the child test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test: {stdout}"
    );
    output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_client_comes_from_the_environment() {
    let server = MockServer::start().await;
    server.require_api_key("env-key");
    server.reply("add_numbers", Reply::json(json!({"sum": 9})));
    let url = server.url();

    let output = tokio::task::spawn_blocking(move || {
        run_child(
            "from-env",
            &[("OPPER_API_KEY", "env-key"), ("OPPER_BASE_URL", &url)],
        )
    })
    .await
    .expect("child");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].bearer(), Some("env-key"));
    assert_eq!(
        requests[0].body.clone().expect("body")["input"],
        json!({"x": 4, "y": 5})
    );

    let output = tokio::task::spawn_blocking(|| run_child("missing-key", &[]))
        .await
        .expect("child");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[tokio::test]
async fn child_process() {
    match std::env::var(CHILD).as_deref() {
        Ok("from-env") => {
            assert_eq!(add_numbers(4, 5).await.expect("call"), Sum { sum: 9 });
        }
        Ok("set-default") => {
            let url = std::env::var("MOCK_URL").expect("url");
            opper::Opper::builder()
                .api_key("k")
                .base_url(url)
                .build()
                .expect("client")
                .set_default();
            assert_eq!(rate("ok".into()).await.expect("call"), 3);
        }
        Ok("missing-key") => {
            let error = add_numbers(4, 5).await.expect_err("no key");
            assert!(matches!(error, opper::Error::MissingApiKey), "{error:?}");
            // Still an error, not a panic, on the next call.
            assert!(matches!(
                summarize("x".into()).await,
                Err(opper::Error::MissingApiKey)
            ));
        }
        _ => {} // run as a child only
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_default_is_used_by_the_default_functions() {
    // Runs in a child too: set_default is process-wide.
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let server = MockServer::start().await;
    server.reply("rate", Reply::json(json!(3)));
    let url = server.url();
    let output =
        tokio::task::spawn_blocking(move || run_child("set-default", &[("MOCK_URL", &url)]))
            .await
            .expect("child");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(server.requests_for("rate").len(), 1);
}

/// Add two numbers.
#[doc = concat!("Answer with ", "their sum.")]
#[opper::function]
async fn computed_docs(x: i64, y: i64) -> opper::Result<String>;

#[tokio::test]
async fn doc_attributes_built_by_macros_are_part_of_the_instructions() {
    let (server, client) = server().await;
    server.reply("computed_docs", Reply::text("3"));
    computed_docs_with(&client, 1, 2).await.expect("call");
    let sent = server.requests()[0].body.clone().expect("body");
    assert_eq!(
        sent["instructions"],
        "Add two numbers.\nAnswer with their sum."
    );
}

// Tasks declared through `macro_rules!`: `literal`, `expr` and `tt` fragments arrive wrapped in
// invisible groups, and must mean what they say.
macro_rules! literal_task {
    ($f:ident, $doc:literal, $name:literal, $model:literal, $fallback:literal, $temperature:literal,
     $tag:literal, $attempts:literal, $xml:literal, $x:literal, $y:literal, $comment:literal) => {
        #[doc = $doc]
        #[opper::function(
                    name = $name,
                    model = [$model, model($fallback, temperature = $temperature)],
                    tags(project = $tag),
                    max_attempts = $attempts,
                    configuration(xml_mode = $xml),
                    example(input(x = $x, y = $y), output = Sum { sum: 3 }, comment = $comment),
                )]
        async fn $f(x: i64, y: i64) -> opper::Result<Sum>;
    };
}
literal_task!(
    add_literal,
    " Add the numbers.",
    "add_by_literal",
    "openai/gpt-4o-mini",
    "anthropic/claude-sonnet-4",
    0.2,
    "macros",
    3,
    false,
    1,
    2,
    "One and two"
);

// rustfmt re-indents this macro's attribute on every run: keep it as written.
#[rustfmt::skip]
macro_rules! expr_task {
    ($f:ident, $name:expr, $instructions:expr, $model:expr, $tag:expr, $ttl:expr, $x:expr,
     $output:expr) => {
        #[opper::function(
            name = $name,
            instructions = $instructions,
            model = $model,
            tags(project = $tag),
            configuration(cache_ttl = $ttl),
            example(input(x = $x, y = $x), output = $output),
        )]
        async fn $f(x: i64, y: i64) -> opper::Result<Sum>;
    };
}
expr_task!(
    add_expr,
    "add_by_expr",
    "Add the numbers.",
    model("openai/gpt-4o", temperature = 0.5),
    concat!("mac", "ros"),
    60,
    2 + 2,
    Sum { sum: 8 }
);

macro_rules! tt_task {
    ($f:ident, $name:tt, $model:tt, $($args:tt)*) => {
        /// Add the numbers.
        #[opper::function(name = $name, model = $model, $($args)*)]
        async fn $f(x: i64, y: i64) -> opper::Result<String>;
    };
}
tt_task!(
    add_tt,
    "add_by_tt",
    ["openai/gpt-4o-mini"],
    tags(project = "macros"),
    few_shot_count = 1
);

#[tokio::test]
async fn tasks_declared_in_macro_rules_send_what_the_fragments_say() {
    let (server, client) = server().await;
    server.reply("add_by_literal", Reply::json(json!({"sum": 3})));
    server.reply("add_by_expr", Reply::json(json!({"sum": 3})));
    server.reply("add_by_tt", Reply::text("3"));

    assert_eq!(
        add_literal_with(&client, 1, 2).await.expect("call"),
        Sum { sum: 3 }
    );
    assert_eq!(
        add_expr_with(&client, 1, 2).await.expect("call"),
        Sum { sum: 3 }
    );
    assert_eq!(add_tt_with(&client, 1, 2).await.expect("call"), "3");

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let literal = requests[0].body.clone().expect("body");
    assert_eq!(literal["name"], "add_by_literal");
    assert_eq!(literal["instructions"], "Add the numbers.");
    assert_eq!(
        literal["model"],
        json!([
            "openai/gpt-4o-mini",
            {"name": "anthropic/claude-sonnet-4", "options": {"temperature": 0.2}}
        ])
    );
    assert_eq!(literal["tags"], json!({"project": "macros"}));
    assert_eq!(
        literal["configuration"],
        json!({
            "invocation.structured_generation.max_attempts": 3,
            "beta.invocation.xml_mode.enabled": false
        })
    );
    assert_eq!(
        literal["examples"],
        json!([{"input": {"x": 1, "y": 2}, "output": {"sum": 3}, "comment": "One and two"}])
    );
    assert_eq!(literal["input"], json!({"x": 1, "y": 2}));

    let expr = requests[1].body.clone().expect("body");
    assert_eq!(expr["name"], "add_by_expr");
    assert_eq!(expr["instructions"], "Add the numbers.");
    assert_eq!(
        expr["model"],
        json!({"name": "openai/gpt-4o", "options": {"temperature": 0.5}})
    );
    assert_eq!(expr["tags"], json!({"project": "macros"}));
    assert_eq!(expr["configuration"], json!({"invocation.cache.ttl": 60}));
    assert_eq!(
        expr["examples"],
        json!([{"input": {"x": 4, "y": 4}, "output": {"sum": 8}}])
    );

    let tt = requests[2].body.clone().expect("body");
    assert_eq!(tt["name"], "add_by_tt");
    assert_eq!(tt["instructions"], "Add the numbers.");
    assert_eq!(tt["model"], json!(["openai/gpt-4o-mini"]));
    assert_eq!(tt["tags"], json!({"project": "macros"}));
    assert_eq!(tt["configuration"], json!({"invocation.few_shot.count": 1}));
    assert!(tt.get("output_schema").is_none(), "text mode: {tt:#}");
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
struct Place {
    city: String,
}

/// Plan a trip.
#[opper::function(example(
    input(destination = "Rome", days = Some(3), note = "none", places = vec![Place { city: "Rome".into() }], budget = 1.5),
    output = "Go.",
))]
async fn plan(
    /// # Where
    ///
    /// The city to visit,
    /// spelled out.
    destination: &str,
    /// How many days
    days: Option<u32>,
    note: &str,
    places: Vec<Place>,
    /// Euros
    budget: f64,
) -> opper::Result<String>;

// The struct `#[opper::function]` once derived for `plan`'s input: its schema and its JSON are
// what the parameters, with no struct, send (a doc comment here would describe the schema).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "PlanInput")]
struct PlanInput<'a> {
    /// # Where
    ///
    /// The city to visit,
    /// spelled out.
    destination: &'a str,
    /// How many days
    days: Option<u32>,
    note: &'a str,
    places: Vec<Place>,
    /// Euros
    budget: f64,
}

#[tokio::test]
async fn parameters_send_the_schema_and_json_of_their_derived_struct() {
    let (server, client) = server().await;
    server.reply("plan", Reply::text("Go."));
    let places = vec![Place {
        city: "Oslo".into(),
    }];
    plan_with(&client, "Oslo", None, "n", places.clone(), 2.0)
        .await
        .expect("call");
    let sent = body(&server);
    let derived = PlanInput {
        destination: "Oslo",
        days: None,
        note: "n",
        places,
        budget: 2.0,
    };
    assert_eq!(
        serde_json::to_string(&sent["input_schema"]).expect("json"),
        serde_json::to_string(&opper::__private::schema_for::<PlanInput<'_>>()).expect("json"),
    );
    assert_eq!(sent["input"], serde_json::to_value(&derived).expect("json"));
    let example = PlanInput {
        destination: "Rome",
        days: Some(3),
        note: "none",
        places: vec![Place {
            city: "Rome".into(),
        }],
        budget: 1.5,
    };
    assert_eq!(
        sent["examples"][0]["input"],
        serde_json::to_value(&example).expect("json")
    );
}

#[tokio::test]
async fn a_parameter_that_is_not_a_finite_number_is_an_input_error() {
    let (server, client) = server().await;
    server.reply("plan", Reply::text("Go."));
    let error = plan_with(&client, "Oslo", None, "n", Vec::new(), f64::NAN)
        .await
        .expect_err("NaN is refused");
    assert!(matches!(error, opper::Error::Input(_)), "{error:?}");
}

#[tokio::test]
async fn a_recorded_requests_input_reads_as_a_typed_value() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct Asked {
        x: i64,
        y: i64,
    }
    let server = MockServer::start().await;
    server.reply("add_numbers", Reply::json(json!({"sum": 9})));
    let opper = server.client();
    add_numbers_with(&opper, 4, 5).await.unwrap();
    let request = &server.requests_for("add_numbers")[0];
    assert_eq!(request.input::<Asked>().unwrap(), Asked { x: 4, y: 5 });
    assert_eq!(request.input_json(), Some(&json!({"x": 4, "y": 5})));
    // The same on v3, whose body carries the input under the same name.
    let v3 = server.client_builder().api(opper::Api::V3).build().unwrap();
    v3.call("add_v3")
        .input(&json!({"x": 6, "y": 7}))
        .send::<String>()
        .await
        .unwrap();
    let request_v3 = &server.requests_for("add_v3")[0];
    assert!(request_v3.path.starts_with("/v3/"), "{}", request_v3.path);
    assert_eq!(request_v3.input::<Asked>().unwrap(), Asked { x: 6, y: 7 });
    // An input of another shape is a deserialization error naming what is missing.
    let wrong = request.input::<Sum>().unwrap_err();
    assert!(wrong.to_string().contains("sum"), "{wrong}");
}
