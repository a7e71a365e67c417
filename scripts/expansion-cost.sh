#!/usr/bin/env bash
# Expansion cost of #[opper::function]: generates two crates under target/expansion-cost, one
# with 100 annotated functions and one with the same 100 tasks written by hand against the
# client (an input struct each, the same schemas), and times `cargo check` of each crate alone
# (dependencies checked first, so only the crate itself is measured).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/target/expansion-cost"
n="${N:-100}"
rm -rf "$out" && mkdir -p "$out"

make_crate() { # name, body-generator
  local dir="$out/$1"
  mkdir -p "$dir/src"
  cat > "$dir/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
opper = { path = "$root/opper" }
serde = { version = "1", features = ["derive"] }
schemars = "1"
TOML
  {
    echo '#![allow(dead_code)]'
    echo 'use schemars::JsonSchema;'
    echo 'use serde::{Deserialize, Serialize};'
    echo '#[derive(Debug, Serialize, Deserialize, JsonSchema)]'
    echo 'pub struct Out { pub answer: String, pub score: i64 }'
    "$2"
  } > "$dir/src/lib.rs"
}

annotated() {
  for i in $(seq 1 "$n"); do
    cat <<RS
/// Task number $i: answer the question.
#[opper::function(model = "openai/gpt-4o-mini")]
pub async fn task_$i(
    /// The question
    question: String,
    /// How many tries
    tries: i64,
) -> opper::Result<Out>;
RS
  done
}

by_hand() {
  for i in $(seq 1 "$n"); do
    cat <<RS
/// The input of task $i.
#[derive(Serialize, JsonSchema)]
pub struct Input$i {
    /// The question
    pub question: String,
    /// How many tries
    pub tries: i64,
}

/// Task number $i: answer the question.
pub async fn task_$i(client: &opper::Opper, question: String, tries: i64) -> opper::Result<Out> {
    static TASK: std::sync::LazyLock<opper::Task> = std::sync::LazyLock::new(|| {
        opper::Task::new("task_$i")
            .instructions("Task number $i: answer the question.")
            .input_type::<Input$i>()
            .output_type::<Out>()
            .model("openai/gpt-4o-mini")
    });
    let reply = client.task(&TASK).input(&Input$i { question, tries }).send::<Out>().await?;
    Ok(reply.output)
}
RS
  done
}

make_crate annotated annotated
make_crate by_hand by_hand
export CARGO_TARGET_DIR="$out/target"
for crate in annotated by_hand; do
  (cd "$out/$crate" && cargo check -q 2>/dev/null || true)   # dependencies, and a warm-up
  touch "$out/$crate/src/lib.rs"
done
for crate in annotated by_hand; do
  touch "$out/$crate/src/lib.rs"
  start=$(date +%s.%N)
  (cd "$out/$crate" && cargo check -q)
  end=$(date +%s.%N)
  echo "$crate: $(echo "$end - $start" | bc) s for $n functions"
  echo "$end - $start" | bc > "$out/$crate.seconds"
done
echo "ratio annotated / by hand: $(echo "scale=2; $(cat "$out/annotated.seconds") / $(cat "$out/by_hand.seconds")" | bc)"
