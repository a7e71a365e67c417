//! The examples' package. Each example stands alone: it uses only `opper` (with its `testing`
//! feature) and public crates, so it builds and runs when copied into a new project.

/// The backend of examples written before [`opper::testing::Backend`] existed: the real API
/// when `OPPER_API_KEY` is set, else the built-in server. New examples call
/// `opper::testing::Backend::from_env().await` themselves.
pub async fn backend() -> opper::testing::Backend {
    opper::testing::Backend::from_env().await
}
