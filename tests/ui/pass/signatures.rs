//! Borrowed parameters, tasks in `impl` blocks and `&self` methods, also declared through
//! `macro_rules!`.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema, opper::Partial)]
struct Summary {
    text: String,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Article {
    title: String,
}

/// Borrowed parameters of every kind, with examples.
#[opper::function(example(
    input(text = "a b", words = ["a", "b"], article = Article { title: "t".into() }, limit = 2u32),
    output = Summary { text: "a".into() },
))]
async fn summarize(
    text: &str,
    words: &[&str],
    article: &Article,
    limit: u32,
) -> opper::Result<Summary>;

/// A borrowed `#[input]`.
#[opper::function(example(input = Article { title: "t".into() }, output = "News"))]
async fn topic(#[input] article: &Article) -> opper::Result<String>;

/// Streamed, borrowing: the stream outlives the borrow.
#[opper::function]
async fn summarize_live(text: &str) -> opper::Result<opper::Stream<Summary>>;

struct Extractor {
    opper: opper::Opper,
}

impl AsRef<opper::Opper> for Extractor {
    fn as_ref(&self) -> &opper::Opper {
        &self.opper
    }
}

impl Extractor {
    /// An associated function, with the default client.
    #[opper::function(model = "openai/gpt-4o-mini")]
    pub async fn extract(text: &str) -> opper::Result<Summary>;

    /// A method: the client is `self`'s.
    #[opper::function(example(input(text = "x"), output = Summary { text: "x".into() }))]
    async fn summarize(&self, text: &str) -> opper::Result<Summary>;

    /// A method returning `Self`-typed data and taking `Self`-typed parameters is fine too.
    #[opper::function]
    async fn describe(&self, #[input] other: &Article) -> opper::Result<opper::Response<String>>;

    /// A streamed method.
    #[opper::function]
    async fn summarize_live(&self, text: &str) -> opper::Result<opper::Stream<String>>;
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct Node {
    label: String,
}

impl Node {
    /// `Self` in parameter and output types.
    #[opper::function]
    async fn merge(left: &Self, right: Self, others: Vec<Self>) -> opper::Result<Self>;
}

// The same forms through `macro_rules!`.
macro_rules! service {
    ($service:ident, $method:ident, $assoc:ident, $param:ident: $ty:ty, $name:literal) => {
        struct $service(opper::Opper);

        impl AsRef<opper::Opper> for $service {
            fn as_ref(&self) -> &opper::Opper {
                &self.0
            }
        }

        impl $service {
            /// A method.
            #[opper::function(name = $name)]
            async fn $method(&self, $param: $ty) -> opper::Result<Summary>;

            /// An associated function.
            #[opper::function(name = $name)]
            async fn $assoc($param: $ty) -> opper::Result<Summary>;
        }
    };
}
service!(Macro, summarize, extract, text: &str, "macro_summarize");

async fn calls(client: &opper::Opper) -> opper::Result<()> {
    let text = String::from("a b");
    let words = vec!["a", "b"];
    let article = Article { title: "t".into() };
    let _: Summary = summarize(&text, &words, &article, 2).await?;
    let _: Summary = summarize_with(client, "a b", &["a"], &article, 2).await?;
    let _: String = topic(&article).await?;
    let stream = {
        let local = String::from("dropped before the stream is read");
        summarize_live(&local).await?
    };
    let _: Summary = stream.finish().await?;

    let extractor = Extractor { opper: client.clone() };
    let _: Summary = Extractor::extract("x").await?;
    let _: Summary = Extractor::extract_with(client, "x").await?;
    let _: Summary = extractor.summarize("x").await?;
    let _: opper::Response<String> = extractor.describe(&article).await?;
    let live = {
        let local = String::from("x");
        extractor.summarize_live(&local).await?
    };
    drop(extractor);
    let _: String = live.finish().await?;

    let node = Node { label: "a".into() };
    let _: Node = Node::merge(&node, node.clone(), vec![]).await?;
    let _: Node = Node::merge_with(client, &node, node.clone(), vec![]).await?;

    let service = Macro(client.clone());
    let _: Summary = service.summarize("x").await?;
    let _: Summary = Macro::extract("x").await?;
    let _: Summary = Macro::extract_with(client, "x").await?;
    Ok(())
}

fn main() {
    let _ = calls;
}
