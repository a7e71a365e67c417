//! What most tests start from: the API key, clients of a test server with short retry waits,
//! the README's `Team`, readers of a stream that must fail, and a temporary directory.

use std::time::Duration;

/// The API key the tests use; every secret-hygiene test looks for it.
pub const KEY: &str = "test-key-0123456789";

/// A client builder for `url` with [`KEY`] and short retry waits (20 ms, then 30 ms).
pub fn builder(url: &str) -> opper::OpperBuilder {
    opper::Opper::builder()
        .api_key(KEY)
        .base_url(url)
        .retry(opper::RetryPolicy::default().initial_delay(Duration::from_millis(20)))
}

/// [`builder`], built.
pub fn client(url: &str) -> opper::Opper {
    client_on(url, opper::Api::V2)
}

/// [`client`] on `api`.
pub fn client_on(url: &str, api: opper::Api) -> opper::Opper {
    builder(url).api(api).build().expect("a client")
}

/// A client of the built-in server with two retries, 10 ms apart at first.
pub fn retrying(server: &opper::testing::MockServer) -> opper::Opper {
    retrying_on(server, opper::Api::V2)
}

/// [`retrying`] on `api`.
pub fn retrying_on(server: &opper::testing::MockServer, api: opper::Api) -> opper::Opper {
    builder(&server.url())
        .api(api)
        .retry(
            opper::RetryPolicy::default()
                .max_retries(2)
                .initial_delay(Duration::from_millis(10)),
        )
        .build()
        .expect("a client")
}

/// Opens a text stream of `task` and reads it to the end, expecting an error.
pub async fn text_stream_error(opper: &opper::Opper, task: &str) -> opper::Error {
    match opper.call(task).stream::<String>().await {
        Ok(stream) => stream.finish().await.expect_err("the stream should fail"),
        Err(error) => panic!("the stream did not open: {error}"),
    }
}

/// The output type of the README's `extract_team` task.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema, opper::Partial)]
pub struct Team {
    /// Everyone the text mentions.
    pub people: Vec<Person>,
    /// One sentence about the team.
    pub summary: String,
}

/// A person in a [`Team`].
#[derive(Debug, serde::Deserialize, schemars::JsonSchema, opper::Partial)]
pub struct Person {
    /// Full name as written in the text
    pub name: String,
    /// What they do.
    pub role: String,
}

/// [`Team`]'s answer as JSON: Ann, the CTO.
pub fn team_json() -> serde_json::Value {
    serde_json::json!({"people": [{"name": "Ann", "role": "CTO"}], "summary": "Ann leads."})
}

/// A typed stream of `extract_team` with [`Team`]'s output schema.
pub async fn team_stream(opper: &opper::Opper) -> opper::Stream<Team> {
    opper
        .call("extract_team")
        .output_type::<Team>()
        .input(&serde_json::json!({"text": "Ann is the CTO."}))
        .stream::<Team>()
        .await
        .expect("a stream")
}

/// The output of an `add` task.
#[derive(
    Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema, opper::Partial,
)]
pub struct Sum {
    /// The sum.
    pub sum: i64,
}

/// The type, message and partial of an [`opper::Error::StreamChunk`] (v2's error chunk, v3's
/// error frame, which has no type); panics on any other error.
pub fn stream_chunk(error: &opper::Error) -> (Option<&str>, Option<&str>, &serde_json::Value) {
    match error {
        opper::Error::StreamChunk {
            error_type,
            error_message,
            partial,
        } => (error_type.as_deref(), error_message.as_deref(), partial),
        other => panic!("not a stream chunk error: {other:?}"),
    }
}

/// Opens a typed stream of `task` with `T`'s output schema.
pub async fn typed_stream<T>(opper: &opper::Opper, task: impl Into<String>) -> opper::Stream<T>
where
    T: opper::Partial
        + serde::de::DeserializeOwned
        + schemars::JsonSchema
        + std::fmt::Debug
        + 'static,
{
    opper
        .call(task)
        .output_type::<T>()
        .stream::<T>()
        .await
        .expect("a stream")
}

/// Opens a typed stream of `task` (with `T`'s output schema) and reads it to the end,
/// expecting an error.
pub async fn typed_stream_error<T>(opper: &opper::Opper, task: &str) -> opper::Error
where
    T: opper::Partial
        + serde::de::DeserializeOwned
        + schemars::JsonSchema
        + std::fmt::Debug
        + 'static,
{
    match opper.call(task).output_type::<T>().stream::<T>().await {
        Ok(stream) => stream.finish().await.expect_err("the stream should fail"),
        Err(error) => panic!("the stream did not open: {error}"),
    }
}

/// A directory of its own under the system's temporary directory, removed (with what is in it)
/// when dropped: for cache tests and benches.
#[derive(Debug)]
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    /// A fresh, not yet created directory whose name starts with `opper-<label>-`.
    pub fn new(label: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        Self(std::env::temp_dir().join(format!(
            "opper-{label}-{}-{n}-{nanos:08x}",
            std::process::id()
        )))
    }

    /// Its path.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// The names of the files in it, sorted (none when it does not exist).
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok())
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An error and every source below it, joined by `: `: what `anyhow`'s `{:#}` shows. Each
/// `Display` says its own layer only, so a test looking for a cause's words reads the chain.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Tests that run once per API version: for each `name` given, `v2::name` and `v3::name`,
/// which await `name(Api::V2)` and `name(Api::V3)` of the module that invokes it (an
/// `async fn(opper::Api)`). A failure names its version in the test's path.
#[macro_export]
macro_rules! each_version {
    ($($name:ident),+ $(,)?) => {
        mod v2 {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(::opper::Api::V2).await
                }
            )+
        }
        mod v3 {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(::opper::Api::V3).await
                }
            )+
        }
    };
}
