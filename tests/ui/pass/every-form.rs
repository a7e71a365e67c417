//! Every return form, the `#[input]` form, and every attribute key.
use futures::StreamExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Person {
    /// Full name as written in the text
    name: String,
    role: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Team {
    people: Vec<Person>,
    summary: String,
}

/// Extract every person mentioned in the text, with their role.
#[opper::function(
    name = "extract_team",
    model = "openai/gpt-4o-mini",
    tags(project = "demo", version = env!("CARGO_PKG_VERSION")),
    example(
        input(text = "Ann is the CTO."),
        output = Team {
            people: vec![Person { name: "Ann".into(), role: "CTO".into() }],
            summary: "One person.".into(),
        },
        comment = "One person, one role",
    ),
    example(input(text = String::from("Nobody here.")), output = Team { people: vec![], summary: String::new() }),
)]
async fn extract_team(
    /// Free text that mentions people
    text: String,
) -> opper::Result<Team>;

/// The same task, streamed.
#[opper::function(name = "extract_team", model = "openai/gpt-4o-mini")]
pub async fn extract_team_live(text: String) -> opper::Result<opper::Stream<Team>>;

/// Summarize.
#[opper::function(
    instructions = "Summarize the text in one sentence.",
    model = ["anthropic/claude-sonnet-4", model("openai/gpt-4o-mini", temperature = 0.2, max_tokens = 200)],
    configuration(max_attempts = 3, cache_ttl = 60, input_validation = true),
    xml_mode = false,
    few_shot_count = 0,
    example(input(text = "a b c", max_words = 2u32), output = "a b", comment = "Short"),
)]
pub(crate) async fn summarize(text: String, max_words: u32) -> opper::Result<String>;

/// Summarize, streamed text.
#[opper::function(model("openai/gpt-4o-mini", temperature = 0.7))]
async fn summarize_live(text: String) -> opper::Result<opper::Stream<String>>;

/// With metadata.
#[opper::function]
async fn team_with_metadata(text: String) -> opper::Result<opper::Response<Team>>;

/// Text with metadata.
#[opper::function]
async fn text_with_metadata(text: String) -> Result<opper::Response<String>, opper::Error>;

/// A struct is the whole input.
#[derive(Debug, Serialize, JsonSchema)]
struct Article {
    title: String,
    body: String,
}

/// Classify.
#[opper::function(example(input = Article { title: "t".into(), body: "b".into() }, output = 3))]
async fn classify(#[input] article: Article) -> opper::Result<u8>;

/// No parameters at all, a raw identifier, and parameters named like the generated locals.
#[opper::function]
async fn r#type() -> opper::Result<String>;

#[opper::function]
async fn shadowing(client: String, input: u8, task: Vec<String>) -> opper::Result<serde_json::Value>;

/// Serde and schemars attributes on a parameter reach the input's field.
#[opper::function]
async fn renamed(#[serde(rename = "fullText")] text: String) -> opper::Result<String>;

/// An error type converted from `opper::Error`.
#[derive(Debug)]
struct AppError;
impl From<opper::Error> for AppError {
    fn from(_: opper::Error) -> Self {
        AppError
    }
}

/// Converts errors.
#[opper::function]
async fn converted(text: String) -> Result<String, AppError>;

async fn calls(client: &opper::Opper) -> opper::Result<()> {
    let team: Team = extract_team("Ann is the CTO.".into()).await?;
    let _ = team;
    let mut stream = extract_team_live_with(client, "Ann".into()).await?;
    while let Some(update) = stream.next().await {
        let _ = update?.json_path;
    }
    let _: Team = stream.finish().await?;
    let _: String = summarize("text".into(), 5).await?;
    let _: String = summarize_live("text".into()).await?.finish().await?;
    let _: opper::Response<Team> = team_with_metadata_with(client, "x".into()).await?;
    let _: opper::Response<String> = text_with_metadata("x".into()).await?;
    let _: u8 = classify(Article { title: "t".into(), body: "b".into() }).await?;
    let _: String = r#type().await?;
    let _: String = type_with(client).await?;
    let _ = shadowing("c".into(), 1, vec![]).await?;
    let _ = renamed_with(client, "x".into()).await?;
    assert!(converted("x".into()).await.is_err() || true);
    Ok(())
}

fn main() {
    let _ = calls;
}
