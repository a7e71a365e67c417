//! The cache against hostile cassettes and callers: a replay-only cache never makes a request,
//! re-asks included; an entry that is a link, a FIFO, a device or a huge file is a miss, read
//! without following, blocking or reading it whole; a model's extra header values never reach
//! an entry or a `Debug`.
//!
//! Each test asserts the error and a bound: requests made, bytes allocated while it ran
//! (counted by this binary's allocator; the tests take turns, so each count is its own), or
//! that the call ends at all (under a generous timeout, never a tight timing assertion).

use std::alloc::System;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use opper::testing::{MockServer, Reply};
use opper::{Cache, Error, Model, Opper, RetryPolicy};
use opper_tests::{KEY, Team, TempDir};
use serde_json::{Value, json};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

static SERIAL: Mutex<()> = Mutex::new(());

const MIB: usize = 1024 * 1024;
/// Longer than any of these calls should take; only a hang reaches it.
const HANG: Duration = Duration::from_secs(60);
/// What one call through the cache may allocate here, a miss and its request included: far
/// below the entries planted (64 MiB and more).
const CALL_BYTES: usize = 16 * MIB;

const TASK: &str = "extract_team";
const TEXT: &str = "Ann is the CTO; Bo writes the docs.";

/// Runs `test` on a fresh multi-thread runtime, in turn with the other tests of this binary;
/// returns its output and the bytes allocated while it ran.
fn in_turn<F: Future>(test: F) -> (F::Output, usize) {
    let _turn = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let region = Region::new(GLOBAL);
    let output = runtime.block_on(test);
    let allocated = region.change().bytes_allocated;
    drop(runtime);
    (output, allocated)
}

async fn bounded<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(HANG, future)
        .await
        .expect("the call should end on its own")
}

/// A team of one: what the validators here reject.
fn one() -> Value {
    json!({"people": [{"name": "Ann", "role": "CTO"}], "summary": "Ann."})
}

fn two() -> Value {
    json!({
        "people": [{"name": "Ann", "role": "CTO"}, {"name": "Bo", "role": "docs"}],
        "summary": "Ann and Bo."
    })
}

/// A server that requires [`KEY`] and answers [`TASK`] with `output`.
async fn server(output: Value) -> MockServer {
    let server = MockServer::start().await;
    server.require_api_key(KEY).reply(TASK, Reply::json(output));
    server
}

/// A client of `server` with [`KEY`], no retries, and `cache`.
fn client(server: &MockServer, cache: Cache) -> Opper {
    server
        .client_builder()
        .retry(RetryPolicy::none())
        .cache(cache)
        .build()
        .expect("a client")
}

fn call<'a>(opper: &'a Opper) -> opper::CallBuilder<'a> {
    opper
        .call(TASK)
        .instructions("Extract every person mentioned in the text, with their role.")
        .output_type::<Team>()
        .model("openai/gpt-4o-mini")
        .input(&json!({ "text": TEXT }))
}

async fn send(opper: &Opper) -> opper::Result<opper::Response<Team>> {
    bounded(call(opper).send::<Team>()).await
}

async fn stream(opper: &Opper) -> opper::Result<Team> {
    bounded(async { call(opper).stream::<Team>().await?.finish().await }).await
}

/// Accepts only teams of two.
fn two_people(team: &Team) -> Result<(), String> {
    match team.people.len() {
        2 => Ok(()),
        n => Err(format!("expected 2 people, got {n}")),
    }
}

/// The one file in `dir`.
fn only_entry(dir: &Path) -> PathBuf {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    names.remove(0)
}

// A replay-only cache never goes live on a re-ask.

#[test]
fn a_rejected_replay_is_an_error_and_never_a_request() {
    in_turn(async {
        let dir = TempDir::new("hostile-cache-replay-reask");
        let server = server(one()).await;
        // Recorded without a validator: the cassette holds a team of one.
        let recorder = client(&server, Cache::dir(dir.path()));
        send(&recorder).await.unwrap();
        stream(&recorder).await.unwrap();
        assert_eq!(server.request_count(), 2);
        // The server is still there and would answer (with the key): nothing may reach it.
        server.reply(TASK, Reply::json(two()));
        let replay = client(&server, Cache::dir(dir.path()).replay_only());

        let error = bounded(call(&replay).validate(two_people).send())
            .await
            .unwrap_err();
        let Error::ReplayRejected { task, rejection } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(task, TASK);
        assert_eq!(rejection.reason, "expected 2 people, got 1");
        assert_eq!(error.partial().unwrap()["people"][0]["name"], "Ann");
        let shown = error.to_string();
        assert!(
            shown.contains("replay-only") && shown.contains("expected 2 people"),
            "{shown}"
        );

        let mut typed = bounded(call(&replay).validate(two_people).stream())
            .await
            .unwrap();
        let mut last = None;
        while let Some(update) = bounded(typed.next()).await {
            match update {
                Ok(update) => assert_eq!(update.attempt, 1),
                Err(error) => last = Some(error),
            }
        }
        let error = last.expect("the stream should end with the rejection");
        assert!(
            matches!(&error, Error::ReplayRejected { task, .. } if task == TASK),
            "{error:?}"
        );
        assert_eq!(
            server.request_count(),
            2,
            "the replay-only client sent a re-ask"
        );

        // Without re-asks, a rejection is the usual one.
        let error = bounded(call(&replay).validate(two_people).reasks(0).send())
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::Rejected { attempts } if attempts.len() == 1),
            "{error:?}"
        );
        assert_eq!(server.request_count(), 2);
    });
}

// Entries that are not regular files, or too large.

/// Records one call entry in `dir` and gives its path.
async fn recorded_entry(dir: &TempDir) -> PathBuf {
    let server = server(two()).await;
    send(&client(&server, Cache::dir(dir.path())))
        .await
        .unwrap();
    only_entry(dir.path())
}

/// A client of no server (nothing listens on port 9): a miss there is a transport error.
fn replay_client(dir: &TempDir) -> Opper {
    Opper::builder()
        .base_url("http://127.0.0.1:9")
        .retry(RetryPolicy::none())
        .cache(Cache::dir(dir.path()).replay_only())
        .build()
        .unwrap()
}

#[cfg(unix)]
#[test]
fn an_entry_that_is_a_link_is_not_followed() {
    let ((), allocated) = in_turn(async {
        let dir = TempDir::new("hostile-cache-link");
        let outside = TempDir::new("hostile-cache-link-target");
        let path = recorded_entry(&dir).await;
        // A valid entry, moved out and linked back: not followed, so a miss.
        std::fs::create_dir_all(outside.path()).unwrap();
        let target = outside.path().join("entry.json");
        std::fs::rename(&path, &target).unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let error = send(&replay_client(&dir)).await.unwrap_err();
        assert!(matches!(error, Error::CacheMiss { .. }), "{error:?}");
        // A read-write cache sends the request and replaces the link with an entry.
        let server = server(two()).await;
        send(&client(&server, Cache::dir(dir.path())))
            .await
            .unwrap();
        assert_eq!(server.request_count(), 1);
        assert!(!path.symlink_metadata().unwrap().is_symlink());
        assert!(target.exists(), "the link's target is untouched");

        // A link to a device that never ends.
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let error = send(&replay_client(&dir)).await.unwrap_err();
        assert!(matches!(error, Error::CacheMiss { .. }), "{error:?}");
    });
    assert!(allocated < CALL_BYTES, "{allocated} bytes allocated");
}

#[cfg(unix)]
#[test]
fn an_entry_that_is_a_fifo_or_a_device_is_a_miss_at_once() {
    in_turn(async {
        let dir = TempDir::new("hostile-cache-fifo");
        let path = recorded_entry(&dir).await;
        std::fs::remove_file(&path).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        // Nobody writes to the FIFO: opening it to read would block for ever.
        let error = send(&replay_client(&dir)).await.unwrap_err();
        assert!(matches!(error, Error::CacheMiss { .. }), "{error:?}");
        let error = stream(&replay_client(&dir)).await.unwrap_err();
        assert!(matches!(error, Error::CacheMiss { .. }), "{error:?}");
        let server = server(two()).await;
        send(&client(&server, Cache::dir(dir.path())))
            .await
            .unwrap();
        assert_eq!(server.request_count(), 1, "a miss in read-write mode");
        // A directory in its place is a miss too.
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        let error = send(&replay_client(&dir)).await.unwrap_err();
        assert!(matches!(error, Error::CacheMiss { .. }), "{error:?}");
    });
}

#[test]
fn an_entry_of_a_gigabyte_is_not_read() {
    let ((), allocated) = in_turn(async {
        let dir = TempDir::new("hostile-cache-huge");
        let path = recorded_entry(&dir).await;
        // Sparse: a gigabyte on paper, nothing on disk.
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_len(1 << 30).unwrap();
        drop(file);
        let error = send(&replay_client(&dir)).await.unwrap_err();
        assert!(matches!(error, Error::CacheMiss { .. }), "{error:?}");
        // Just over the documented 64 MiB is a miss as well.
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(64 * MIB as u64 + 1)
            .unwrap();
        let error = send(&replay_client(&dir)).await.unwrap_err();
        assert!(matches!(error, Error::CacheMiss { .. }), "{error:?}");
    });
    assert!(allocated < CALL_BYTES, "{allocated} bytes allocated");
}

// Where entries are read: a small one on the calling task, a large one on a blocking thread.

#[test]
fn a_small_entry_is_read_on_the_calling_task_and_a_large_one_on_a_blocking_thread() {
    let dir = TempDir::new("hostile-cache-where");
    // The entry holds the request: this input makes it larger than the 64 KiB read inline.
    let large = json!({ "text": "word ".repeat(20_000) });
    in_turn(async {
        let server = server(two()).await;
        let opper = client(&server, Cache::dir(dir.path()));
        send(&opper).await.unwrap();
        call(&opper).input(&large).send::<Team>().await.unwrap();
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // The only blocking thread is busy until released.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let busy = tokio::task::spawn_blocking(move || held.recv());
        let opper = replay_client(&dir);
        let small = send(&opper)
            .await
            .expect("answered with no blocking thread free");
        assert_eq!(small.output.people.len(), 2);
        let waiting = tokio::spawn(async move {
            let opper = replay_client(&dir);
            call(&opper).input(&large).send::<Team>().await
        });
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert!(
            !waiting.is_finished(),
            "a large entry was read without a blocking thread"
        );
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        let replayed = bounded(waiting).await.unwrap().unwrap();
        assert_eq!(replayed.output.people.len(), 2);
    });
}

// A model's extra header values.

const SECRET: &str = "sk-provider-secret-77";

fn with_header<'a>(opper: &'a Opper, value: &str) -> opper::CallBuilder<'a> {
    call(opper).model(
        Model::new("openai/gpt-4o-mini")
            .option("temperature", 0.2)
            .extra_header("x-provider-key", value),
    )
}

#[test]
fn extra_header_values_never_reach_an_entry_or_a_debug() {
    in_turn(async {
        let dir = TempDir::new("hostile-cache-headers");
        let server = server(two()).await;
        let opper = client(&server, Cache::dir(dir.path()));
        let builder = with_header(&opper, SECRET);
        let shown = format!("{builder:?} {builder:#?}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("x-provider-key"), "{shown}");
        bounded(builder.send::<Team>()).await.unwrap();
        bounded(async {
            with_header(&opper, SECRET)
                .stream::<Team>()
                .await?
                .finish()
                .await
        })
        .await
        .unwrap();
        assert_eq!(server.request_count(), 2);
        // The header was sent as given.
        assert_eq!(
            server.requests()[0].body.as_ref().unwrap()["model"]["extra_headers"]["x-provider-key"],
            SECRET
        );
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 2);
        for name in names {
            let text = std::fs::read_to_string(name.unwrap().path()).unwrap();
            assert!(!text.contains(SECRET), "{text}");
            let entry: Value = serde_json::from_str(&text).unwrap();
            let marker = entry["request"]["model"]["extra_headers"]["x-provider-key"]
                .as_str()
                .unwrap();
            assert!(marker.starts_with("<redacted sha256:"), "{marker}");
        }
        // The same value hits; another value misses.
        bounded(with_header(&opper, SECRET).send::<Team>())
            .await
            .unwrap();
        assert_eq!(server.request_count(), 2);
        bounded(with_header(&opper, "sk-other").send::<Team>())
            .await
            .unwrap();
        assert_eq!(server.request_count(), 3);
        // Replayed without a request, though the cassette does not hold the value.
        let replay = replay_client(&dir);
        let replayed = bounded(with_header(&replay, SECRET).send::<Team>())
            .await
            .unwrap();
        assert_eq!(replayed.output.people.len(), 2);
        assert!(matches!(
            bounded(with_header(&replay, "sk-third").send::<Team>()).await,
            Err(Error::CacheMiss { .. })
        ));
    });
}
