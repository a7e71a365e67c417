//! The examples' package. Each example stands alone: it uses only `opper` (with its `testing`
//! feature) and public crates, so it builds and runs when copied into a new project.
