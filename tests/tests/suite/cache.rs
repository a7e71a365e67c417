//! The response cache over loopback: a hit makes no request and decodes like a live answer, a
//! stream replays update by update, only successes are stored, entries are whole and readable,
//! and no secret is ever written.

use std::time::Duration;

use futures::StreamExt;
use opper::Api;
use opper::testing::{MockServer, Reply};
use opper::{Cache, Error, Opper, RetryPolicy};
use opper_tests::v3::{
    DONE, add_numbers, answer, complete, content, meta, read, stream, sum_stream,
};
use opper_tests::{KEY, RawServer, Script, Sum, Team, TempDir, builder, team_json, team_stream};
use serde_json::{Value, json};

const TASK: &str = "extract_team";
const TEXT: &str = "Ann is the CTO; Bo writes the docs.";

fn team() -> Value {
    json!({
        "people": [{"name": "Ann", "role": "CTO"}, {"name": "Bo", "role": "writes the docs"}],
        "summary": "Ann leads; Bo documents."
    })
}

/// A server that requires [`KEY`] and answers [`TASK`] with [`team`], usage and cost.
async fn server() -> MockServer {
    let server = MockServer::start().await;
    server.require_api_key(KEY).reply(
        TASK,
        Reply::json(team())
            .span_id("9e0f6a53-5b2f-4a51-a8c4-2f1b8c7d0e11")
            .usage(json!({"input_tokens": 12, "output_tokens": 30, "total_tokens": 42}))
            .cost(json!({"generation": 0.001, "platform": 0.0001, "total": 0.0011})),
    );
    server
}

/// A v2 client of `server` with `cache`, no retries, and a header whose value is a secret too.
fn client(server: &MockServer, cache: Cache) -> Opper {
    client_on(server, Api::V2, cache)
}

/// [`client`] on `api`.
fn client_on(server: &MockServer, api: Api, cache: Cache) -> Opper {
    server
        .client_builder()
        .api(api)
        .retry(RetryPolicy::none())
        .header("x-team-secret", "header-secret-42")
        .cache(cache)
        .build()
        .expect("a client")
}

fn call<'a>(opper: &'a Opper, text: &str) -> opper::CallBuilder<'a> {
    opper
        .call(TASK)
        .instructions("Extract every person mentioned in the text, with their role.")
        .output_type::<Team>()
        .model("openai/gpt-4o-mini")
        .input(&json!({ "text": text }))
}

async fn send(opper: &Opper, text: &str) -> opper::Result<opper::Response<Team>> {
    call(opper, text).send::<Team>().await
}

/// A response this crate's cache answered, as the live one read: `cache_hit` is the one
/// difference (asserted).
fn as_live(mut response: opper::Response<Team>) -> String {
    assert!(response.cache_hit, "not a cache hit: {response:?}");
    response.cache_hit = false;
    format!("{response:?}")
}

/// Every update of a typed stream (as `Debug`, which shows every field) and the final value.
async fn updates(opper: &Opper, text: &str) -> opper::Result<(Vec<String>, String)> {
    let mut stream = call(opper, text).stream::<Team>().await?;
    let mut seen = vec![format!("opened with span {:?}", stream.span_id())];
    while let Some(update) = stream.next().await {
        seen.push(format!("{:?}", update?));
    }
    let span = stream.span_id().map(str::to_owned);
    let team = stream.finish().await?;
    Ok((seen, format!("{team:?} span {span:?}")))
}

/// The entries (`*.json`) of `dir`, asserting that nothing else (no temporary file) is there.
fn entries(dir: &TempDir) -> Vec<String> {
    let files = dir.files();
    for file in &files {
        assert!(
            file.ends_with(".json") && !file.starts_with('.'),
            "{files:?}"
        );
    }
    files
}

opper_tests::each_version!(
    a_hit_makes_no_request_and_gives_the_same_response,
    a_stream_replays_update_by_update,
    a_stream_dropped_or_broken_before_its_end_is_not_stored,
    errors_are_not_stored,
);

async fn a_hit_makes_no_request_and_gives_the_same_response(api: Api) {
    let dir = TempDir::new("cache-hit");
    let server = server().await;
    let opper = client_on(&server, api, Cache::dir(dir.path()));
    let live = send(&opper, TEXT).await.unwrap();
    assert_eq!(server.request_count(), 1);
    assert_eq!(entries(&dir).len(), 1);
    // Tags and the parent span label a call: they are not part of its key.
    let cached = call(&opper, TEXT)
        .tag("run", "second")
        .parent_span_id("123e4567-e89b-12d3-a456-426614174000")
        .send::<Team>()
        .await
        .unwrap();
    assert_eq!(server.request_count(), 1, "the hit made a request");
    assert_eq!(cached.usage.unwrap().total_tokens, 42);
    assert_eq!(cached.span_id, live.span_id);
    assert_eq!(format!("{live:?}"), as_live(cached));
    // Another client on the same directory, even of another server, hits too.
    let other = server_less_client_on(api, &dir, false);
    let again = send(&other, TEXT).await.unwrap();
    assert_eq!(as_live(again), format!("{live:?}"));
}

#[tokio::test]
async fn cache_hit_says_this_crates_cache_answered_and_cached_stays_the_services_flag() {
    let dir = TempDir::new("cache-hit-flag");
    let server = server().await;
    let opper = client(&server, Cache::dir(dir.path()));
    let replay = client(&server, Cache::dir(dir.path()).replay_only());

    // The call: the service says `cached: false` every time; only the hits are this crate's.
    let live = send(&opper, TEXT).await.unwrap();
    assert_eq!((live.cached, live.cache_hit), (false, false));
    let hit = send(&opper, TEXT).await.unwrap();
    assert_eq!((hit.cached, hit.cache_hit), (false, true));
    let replayed = send(&replay, TEXT).await.unwrap();
    assert_eq!((replayed.cached, replayed.cache_hit), (false, true));
    assert_eq!(server.request_count(), 1);

    // The service's own flag is kept as it said it, live and from the cache.
    server.reply("poem", Reply::text("Roses are red.").cached(true));
    let live = opper.call("poem").send::<String>().await.unwrap();
    assert_eq!((live.cached, live.cache_hit), (true, false));
    let hit = replay.call("poem").send::<String>().await.unwrap();
    assert_eq!((hit.cached, hit.cache_hit), (true, true));

    // A stream says it once open, typed or raw, read-write or replay-only.
    let mut stream = call(&opper, TEXT).stream::<Team>().await.unwrap();
    assert!(!stream.cache_hit(), "a live stream");
    while stream.next().await.is_some() {}
    assert!(!stream.cache_hit());
    stream.finish().await.unwrap();
    assert_eq!(server.request_count(), 3);
    for client in [&opper, &replay] {
        let mut stream = call(client, TEXT).stream::<Team>().await.unwrap();
        assert!(stream.cache_hit());
        while let Some(update) = stream.next().await {
            update.unwrap();
        }
        assert!(stream.cache_hit(), "still, once replayed");
        stream.finish().await.unwrap();
        let raw = call(client, TEXT).stream_raw().await.unwrap();
        assert!(raw.cache_hit());
    }
    assert_eq!(server.request_count(), 3, "the hits made no request");
}

/// A v2 client of a server that is not there, with a cache in `dir`.
fn server_less_client(dir: &TempDir, replay_only: bool) -> Opper {
    server_less_client_on(Api::V2, dir, replay_only)
}

/// [`server_less_client`] on `api`.
fn server_less_client_on(api: Api, dir: &TempDir, replay_only: bool) -> Opper {
    let cache = Cache::dir(dir.path());
    Opper::builder()
        .api(api)
        .api_key(KEY)
        .base_url("http://127.0.0.1:9")
        .retry(RetryPolicy::none())
        .cache(if replay_only {
            cache.replay_only()
        } else {
            cache
        })
        .build()
        .expect("a client")
}

#[tokio::test]
async fn another_input_or_task_definition_is_a_miss() {
    let dir = TempDir::new("cache-miss");
    let server = server().await;
    let opper = client(&server, Cache::dir(dir.path()));
    send(&opper, TEXT).await.unwrap();
    send(&opper, "Cy tests.").await.unwrap();
    assert_eq!(server.request_count(), 2);
    call(&opper, TEXT)
        .model("openai/gpt-4o")
        .send::<Team>()
        .await
        .unwrap();
    assert_eq!(server.request_count(), 3);
    // The stream endpoint has entries of its own.
    updates(&opper, TEXT).await.unwrap();
    assert_eq!(server.request_count(), 4);
    assert_eq!(entries(&dir).len(), 4);
    send(&opper, "Cy tests.").await.unwrap();
    assert_eq!(server.request_count(), 4);
}

async fn a_stream_replays_update_by_update(api: Api) {
    let dir = TempDir::new("cache-stream");
    let server = server().await;
    let opper = client_on(&server, api, Cache::dir(dir.path()));
    let (live, live_end) = updates(&opper, TEXT).await.unwrap();
    assert!(live.len() > 5, "{live:?}");
    assert_eq!(server.request_count(), 1);
    let (replayed, replayed_end) = updates(&opper, TEXT).await.unwrap();
    assert_eq!(server.request_count(), 1, "the replay made a request");
    assert_eq!(replayed, live);
    assert_eq!(replayed_end, live_end);

    // Text mode and raw chunks replay the same way.
    server.reply("poem", Reply::text("Roses are red, violets are blue."));
    let text = |opper: Opper| async move {
        let mut stream = opper.call("poem").stream::<String>().await.unwrap();
        let mut deltas = Vec::new();
        while let Some(update) = stream.next().await {
            deltas.push(update.unwrap().delta);
        }
        (deltas, stream.finish().await.unwrap())
    };
    let live = text(opper.clone()).await;
    let raw = |opper: Opper| async move {
        let mut chunks = opper.call("poem").stream_raw().await.unwrap();
        let mut all = Vec::new();
        while let Some(chunk) = chunks.next().await {
            all.push(chunk.unwrap());
        }
        all
    };
    let live_raw = raw(opper.clone()).await;
    assert_eq!(
        server.request_count(),
        2,
        "a raw and a typed stream share an entry"
    );
    assert_eq!(text(opper.clone()).await, live);
    assert_eq!(raw(opper.clone()).await, live_raw);
    assert_eq!(server.request_count(), 2);
    assert_eq!(live.1, "Roses are red, violets are blue.");
}

/// Only successes are stored: an error status, an error chunk, an output that does not fit the
/// type (on v3, a stream whose `complete` does not fit ends cleanly: it is judged before it is
/// stored), a wrong key.
async fn errors_are_not_stored(api: Api) {
    let dir = TempDir::new("cache-errors");
    let server = server().await;
    let opper = client_on(&server, api, Cache::dir(dir.path()));
    server.fault(Reply::status(500));
    assert_eq!(send(&opper, TEXT).await.unwrap_err().status(), Some(500));
    server.fault(Reply::status(400));
    assert!(matches!(
        send(&opper, TEXT).await,
        Err(Error::BadRequest(_))
    ));
    // A stream that opens, then sends an error chunk.
    server.fault(Reply::json(team()).error_after(3, "ServerError", "boom"));
    assert!(matches!(
        updates(&opper, TEXT).await,
        Err(Error::StreamChunk { .. })
    ));
    // An output that does not fit the type is an error too, for a call and for a stream.
    server.enqueue(TASK, Reply::json(json!({"people": "nobody"})).times(2));
    assert!(matches!(
        send(&opper, TEXT).await,
        Err(Error::Output { .. })
    ));
    assert!(updates(&opper, TEXT).await.is_err());
    // A wrong key.
    let unauthorized = Opper::builder()
        .api_key("wrong-key")
        .api(api)
        .base_url(server.url())
        .cache(Cache::dir(dir.path()))
        .build()
        .unwrap();
    assert!(matches!(
        send(&unauthorized, TEXT).await,
        Err(Error::Unauthorized(_))
    ));
    assert_eq!(entries(&dir), Vec::<String>::new());
    assert_eq!(server.request_count(), 6);
    // The next success is sent and stored.
    send(&opper, TEXT).await.unwrap();
    assert_eq!(server.request_count(), 7);
    assert_eq!(entries(&dir).len(), 1);
}

async fn a_stream_dropped_or_broken_before_its_end_is_not_stored(api: Api) {
    let dir = TempDir::new("cache-dropped");
    let server = server().await;
    let opper = client_on(&server, api, Cache::dir(dir.path()));
    let mut stream = call(&opper, TEXT).stream::<Team>().await.unwrap();
    stream.next().await.unwrap().unwrap();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    assert_eq!(entries(&dir), Vec::<String>::new());
    server.fault(Reply::json(team()).drop_after(4));
    assert!(matches!(
        updates(&opper, TEXT).await,
        Err(Error::Incomplete { .. })
    ));
    assert_eq!(entries(&dir), Vec::<String>::new());
    let mut raw = call(&opper, TEXT).stream_raw().await.unwrap();
    raw.next().await.unwrap().unwrap();
    drop(raw);
    assert_eq!(entries(&dir), Vec::<String>::new());
    assert_eq!(server.request_count(), 3);
    // Read to its end, it is stored, and replayed after.
    let (live, _) = updates(&opper, TEXT).await.unwrap();
    assert_eq!(entries(&dir).len(), 1);
    let (replayed, _) = updates(&opper, TEXT).await.unwrap();
    assert_eq!(replayed, live);
    assert_eq!(server.request_count(), 4);
}

#[tokio::test]
async fn a_damaged_entry_is_a_miss_and_is_replaced() {
    let dir = TempDir::new("cache-damaged");
    let server = server().await;
    let opper = client(&server, Cache::dir(dir.path()));
    let live = send(&opper, TEXT).await.unwrap();
    let [name] = <[String; 1]>::try_from(entries(&dir)).unwrap();
    let path = dir.path().join(&name);
    let text = std::fs::read_to_string(&path).unwrap();
    for damaged in [
        String::new(),
        text[..text.len() / 2].to_owned(),
        "\u{0}\u{1} not json".to_owned(),
        text.replace("\"opper_cache\": 1", "\"opper_cache\": 99"),
        text.replace("Ann is the CTO", "Ann is the CEO"),
    ] {
        std::fs::write(&path, &damaged).unwrap();
        let before = server.request_count();
        let again = send(&opper, TEXT).await.unwrap();
        assert_eq!(server.request_count(), before + 1, "{damaged:?}");
        assert_eq!(format!("{again:?}"), format!("{live:?}"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
    // Replay-only, a damaged entry is a miss too.
    std::fs::write(&path, "{").unwrap();
    let replay = server_less_client(&dir, true);
    assert!(matches!(
        send(&replay, TEXT).await,
        Err(Error::CacheMiss { .. })
    ));
}

#[tokio::test]
async fn a_replay_only_miss_makes_no_request() {
    let dir = TempDir::new("cache-replay-miss");
    let server = server().await;
    let opper = client(&server, Cache::dir(dir.path()).replay_only());
    let error = send(&opper, TEXT).await.unwrap_err();
    let Error::CacheMiss { task, path } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(task, TASK);
    assert!(path.starts_with(dir.path()), "{path:?}");
    assert!(error.to_string().contains(TASK), "{error}");
    assert!(matches!(
        updates(&opper, TEXT).await,
        Err(Error::CacheMiss { .. })
    ));
    assert_eq!(server.request_count(), 0);
    assert_eq!(entries(&dir), Vec::<String>::new());

    // Once recorded, the same replay-only client is answered, with the server gone.
    let recorder = client(&server, Cache::dir(dir.path()));
    let live = send(&recorder, TEXT).await.unwrap();
    let (live_updates, _) = updates(&recorder, TEXT).await.unwrap();
    server.shutdown().await;
    assert_eq!(
        as_live(send(&opper, TEXT).await.unwrap()),
        format!("{live:?}")
    );
    assert_eq!(updates(&opper, TEXT).await.unwrap().0, live_updates);
    // Without a key: a replay-only client never sends one.
    let keyless = Opper::builder()
        .base_url("http://127.0.0.1:9")
        .cache(Cache::dir(dir.path()).replay_only())
        .build()
        .unwrap();
    assert_eq!(
        as_live(send(&keyless, TEXT).await.unwrap()),
        format!("{live:?}")
    );
}

#[test]
fn concurrent_writers_of_one_key_leave_one_whole_entry() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = TempDir::new("cache-concurrent");
        let server = server().await;
        // Each answer takes a moment, so that the calls all miss before any of them stores.
        server.reply(TASK, Reply::json(team()).delay(Duration::from_millis(20)));
        let opper = client(&server, Cache::dir(dir.path()));
        let calls: Vec<_> = (0..32)
            .map(|_| {
                let opper = opper.clone();
                tokio::spawn(async move {
                    let call = send(&opper, TEXT).await.map(|r| format!("{:?}", r.output));
                    let stream = updates(&opper, TEXT).await.map(|(_, end)| end);
                    (call, stream)
                })
            })
            .collect();
        let mut outputs = Vec::new();
        for call in calls {
            let (call, stream) = call.await.unwrap();
            outputs.push(call.unwrap());
            stream.unwrap();
        }
        assert!(outputs.iter().all(|output| output == &outputs[0]));
        assert!(server.request_count() > 2, "the calls did not overlap");
        assert_eq!(entries(&dir).len(), 2, "{:?}", dir.files());
        for name in entries(&dir) {
            let entry: Value =
                serde_json::from_slice(&std::fs::read(dir.path().join(name)).unwrap()).unwrap();
            assert_eq!(entry["opper_cache"], 1);
        }
        let replay = server_less_client(&dir, true);
        send(&replay, TEXT).await.unwrap();
        updates(&replay, TEXT).await.unwrap();
    });
}

#[tokio::test]
async fn no_secret_is_written() {
    let dir = TempDir::new("cache-secrets");
    let server = server().await;
    let opper = client(&server, Cache::dir(dir.path()));
    send(&opper, TEXT).await.unwrap();
    updates(&opper, TEXT).await.unwrap();
    let names = entries(&dir);
    assert_eq!(names.len(), 2);
    for name in names {
        let text = std::fs::read_to_string(dir.path().join(&name)).unwrap();
        for secret in [
            KEY,
            "header-secret-42",
            "Bearer",
            "uthorization",
            "x-team-secret",
        ] {
            assert!(
                !text
                    .to_ascii_lowercase()
                    .contains(&secret.to_ascii_lowercase()),
                "{secret} in {name}:\n{text}"
            );
        }
        // What is there: the request as sent and the answer.
        let entry: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(entry["request"]["input"]["text"], TEXT);
        assert!(entry.get("response").or(entry.get("chunks")).is_some());
    }
}

/// Runs the test `name` of this module alone in a child process, with `env` set
/// (`OPPER_HTTP_BEARER` removed, an empty value as unset); panics with its output unless it
/// passes. For tests that set the environment, or that trace: tracing decides once per
/// call site, process-wide, whether it is enabled, which other tests running beside a
/// subscriber could decide first.
fn run_alone(name: &str, env: &[(&str, &str)]) {
    opper_tests::run_alone_with(&format!("cache::{name}"), env, &["OPPER_HTTP_BEARER"]);
}

/// Whether this process is the one [`run_alone`] started for the test `name`.
fn is_alone(name: &str) -> bool {
    opper_tests::is_alone(&format!("cache::{name}"))
}

#[test]
fn spans_record_hits_and_misses_and_damaged_entries_are_logged() {
    let name = "spans_record_hits_and_misses_and_damaged_entries_are_logged";
    if !is_alone(name) {
        return run_alone(name, &[]);
    }
    let (captured, _guard) = opper_tests::capture_logs();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = TempDir::new("cache-tracing");
    runtime.block_on(async {
        let server = server().await;
        let opper = client(&server, Cache::dir(dir.path()));
        send(&opper, TEXT).await.unwrap();
        send(&opper, TEXT).await.unwrap();
        updates(&opper, TEXT).await.unwrap();
        updates(&opper, TEXT).await.unwrap();
        let [call, _] = <[String; 2]>::try_from(entries(&dir)).unwrap();
        std::fs::write(dir.path().join(call), "{").unwrap();
        send(&opper, TEXT).await.unwrap();
    });
    let logs = captured.text();
    let closed = |name: &str| -> Vec<&str> {
        logs.lines()
            .filter(|line| line.contains(name) && line.contains("close"))
            .collect()
    };
    let field = |line: &str, value: &str| {
        line.contains(&format!("cache=\"{value}\"")) || line.contains(&format!("cache={value}"))
    };
    let calls = closed("opper.call{");
    assert_eq!(calls.len(), 3, "{logs}");
    assert!(
        field(calls[0], "miss") && field(calls[1], "hit") && field(calls[2], "miss"),
        "{logs}"
    );
    assert!(calls[1].contains("outcome="), "{logs}");
    let streams = closed("opper.stream{");
    assert_eq!(streams.len(), 2, "{logs}");
    assert!(
        field(streams[0], "miss") && field(streams[1], "hit"),
        "{logs}"
    );
    let damaged = logs
        .lines()
        .find(|line| line.contains("ignoring a damaged opper cache entry"))
        .unwrap_or_else(|| panic!("no warning in {logs}"));
    assert!(damaged.contains("WARN"), "{damaged}");
    assert!(!logs.contains(KEY), "the key leaked into the logs");
}

/// The task of the environment test, on the default client.
///
/// Extract every person mentioned in the text, with their role.
#[opper::function(name = "extract_team", model = "openai/gpt-4o-mini")]
async fn extract_team(text: String) -> opper::Result<Team>;

/// What a child process checks, by its `OPPER_CACHE_MODE`: the default client (built from the
/// environment on first use) records with no mode, replays with `replay` (no key set), and
/// `from_env` fails as it should with `off` (no key) or an unknown mode.
fn child() {
    let mode = std::env::var("OPPER_CACHE_MODE").unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        match mode.as_str() {
            "" | "replay" => {
                let team = extract_team(TEXT.to_owned())
                    .await
                    .expect("the default client answers");
                assert_eq!(team.people.len(), 2);
                let opper = Opper::from_env().expect("from_env");
                assert!(format!("{opper:?}").contains("opper-cache-env"));
            }
            "off" => assert!(matches!(Opper::from_env(), Err(Error::MissingApiKey))),
            _ => {
                let error = Opper::from_env().unwrap_err();
                assert!(matches!(error, Error::Config { .. }), "{error:?}");
                // Its layer's words once, the variable named.
                let shown = error.to_string();
                assert_eq!(
                    shown.matches("invalid Opper client configuration").count(),
                    1
                );
                assert!(shown.contains("OPPER_CACHE_MODE"), "{shown}");
            }
        }
    });
}

#[test]
fn the_environment_turns_the_cache_on_and_to_replay() {
    if is_alone("the_environment_turns_the_cache_on_and_to_replay") {
        return child();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = TempDir::new("cache-env");
        let server = server().await;
        let run = |mode: &'static str, key: Option<&'static str>, url: String| {
            let dir = dir.path().to_owned();
            tokio::task::spawn_blocking(move || {
                let env = [
                    ("OPPER_CACHE_DIR", dir.to_str().unwrap()),
                    ("OPPER_CACHE_MODE", mode),
                    ("OPPER_BASE_URL", &url),
                    ("OPPER_API_KEY", key.unwrap_or("")),
                ];
                run_alone("the_environment_turns_the_cache_on_and_to_replay", &env);
            })
        };
        run("", Some(KEY), server.url()).await.unwrap();
        assert_eq!(
            server.request_count(),
            1,
            "the child did not call the server"
        );
        assert_eq!(entries(&dir).len(), 1);
        let url = server.url();
        server.shutdown().await;
        run("replay", None, url.clone()).await.unwrap();
        run("off", None, url.clone()).await.unwrap();
        run("record-everything", None, url).await.unwrap();
        assert_eq!(entries(&dir).len(), 1);
    });
}

/// A validator that accepts only teams of two.
fn two_people(team: &Team) -> Result<(), String> {
    match team.people.len() {
        2 => Ok(()),
        n => Err(format!("expected 2 people, got {n}")),
    }
}

/// With a validator, only the accepted output is stored, and under the request as the caller
/// made it: a replay of that request is served the accepted answer, with no request and no
/// re-ask, though a re-ask produced it.
#[tokio::test]
async fn a_validated_call_stores_only_its_accepted_output_under_the_first_request() {
    let dir = TempDir::new("cache-validated");
    let server = server().await;
    let one = json!({"people": [{"name": "Ann", "role": "CTO"}], "summary": "Ann."});
    server.enqueue(TASK, Reply::json(one));
    let opper = client(&server, Cache::dir(dir.path()));
    let live = call(&opper, TEXT)
        .validate(two_people)
        .send()
        .await
        .unwrap();
    assert_eq!(live.reasks, 1);
    assert_eq!(server.request_count(), 2);
    assert_eq!(entries(&dir).len(), 1, "only the accepted answer is stored");
    let replay = server_less_client(&dir, true);
    let replayed = call(&replay, TEXT)
        .validate(two_people)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.output.people.len(), 2);
    assert_eq!(replayed.reasks, 0, "the replay is accepted at once");
    let entry = std::fs::read_to_string(dir.path().join(&entries(&dir)[0])).unwrap();
    assert!(!entry.contains("previous answer was rejected"), "{entry}");
}

/// A validated stream stores only its accepted answer, under the request the caller made: a
/// replay of it is served the accepted chunks at once.
#[tokio::test]
async fn a_validated_stream_stores_only_its_accepted_answer_under_the_first_request() {
    let dir = TempDir::new("cache-validated-stream");
    let server = server().await;
    let one = json!({"people": [{"name": "Ann", "role": "CTO"}], "summary": "Ann."});
    server.enqueue(TASK, Reply::json(one));
    let opper = client(&server, Cache::dir(dir.path()));
    let stream = call(&opper, TEXT)
        .validate(two_people)
        .stream()
        .await
        .unwrap();
    assert_eq!(stream.finish().await.unwrap().people.len(), 2);
    assert_eq!(server.request_count(), 2);
    assert_eq!(entries(&dir).len(), 1, "only the accepted answer is stored");
    let replay = server_less_client(&dir, true);
    let mut stream = call(&replay, TEXT)
        .validate(two_people)
        .stream()
        .await
        .unwrap();
    let mut attempts = Vec::new();
    while let Some(update) = stream.next().await {
        attempts.push(update.unwrap().attempt);
    }
    assert!(
        !attempts.is_empty() && attempts.iter().all(|&a| a == 1),
        "{attempts:?}"
    );
    assert_eq!(stream.finish().await.unwrap().people.len(), 2);
    let entry = std::fs::read_to_string(dir.path().join(&entries(&dir)[0])).unwrap();
    assert!(!entry.contains("previous answer was rejected"), "{entry}");
}

// v3: its endpoint in the key, its frames in the entry (raw scripted servers).

#[tokio::test]
async fn a_cached_call_is_keyed_by_its_v3_endpoint_and_answers_without_a_request() {
    let dir = TempDir::new("v3-cache");
    let server = RawServer::start().await;
    server.push(answer(json!({"sum": 9})));
    let opper = builder(&server.url())
        .api(Api::V3)
        .cache(Cache::dir(dir.path()))
        .build()
        .unwrap();
    let live = add_numbers(&opper).send::<Sum>().await.unwrap();
    let mut cached = add_numbers(&opper).send::<Sum>().await.unwrap();
    assert_eq!(server.received().len(), 1, "the second call is a hit");
    assert!(cached.cache_hit && !live.cache_hit);
    cached.cache_hit = false;
    assert_eq!(cached, live);
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);
    let entry: Value =
        serde_json::from_slice(&std::fs::read(entries[0].as_ref().unwrap().path()).unwrap())
            .unwrap();
    assert_eq!(entry["endpoint"], "/v3/functions/add_numbers/call");
    assert_eq!(entry["response"]["data"], json!({"sum": 9}));

    // The same request on v2 is another endpoint: a miss, not the v3 answer.
    let v2 = builder(&server.url())
        .cache(Cache::dir(dir.path()).replay_only())
        .build()
        .unwrap();
    let error = add_numbers(&v2).send::<Sum>().await.unwrap_err();
    assert!(matches!(error, Error::CacheMiss { .. }), "{error:?}");
}

#[tokio::test]
async fn a_v3_stream_replays_from_a_cassette_update_by_update() {
    let dir = TempDir::new("v3-cassette");
    let server = RawServer::start().await;
    let text = r#"{"people": [{"name": "Ann", "role": "CTO"}], "summary": "Ann leads."}"#;
    server.push(stream(text, &team_json()));
    let recorder = builder(&server.url())
        .api(Api::V3)
        .cache(Cache::dir(dir.path()))
        .build()
        .unwrap();
    let (live, team) = read(team_stream(&recorder).await).await;
    team.unwrap();

    let replay = Opper::builder()
        .api(Api::V3)
        .cache(Cache::dir(dir.path()).replay_only())
        .build()
        .unwrap();
    let (replayed, team) = read(team_stream(&replay).await).await;
    assert_eq!(team.unwrap().summary, "Ann leads.");
    assert_eq!(replayed, live);
    assert_eq!(server.received().len(), 1);
    let entry = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let entry: Value = serde_json::from_slice(&std::fs::read(entry.path()).unwrap()).unwrap();
    assert_eq!(entry["endpoint"], "/v3/functions/extract_team/stream");
    let frames = entry["chunks"].as_array().unwrap();
    assert_eq!(frames[0], json!({"type": "content", "delta": "{"}));
    assert_eq!(frames.last().unwrap()["event"], "complete");
}

/// A raw v3 stream is recorded as its events arrived (only those that carry a frame: not a
/// keep-alive, an unknown type, a line that is not JSON or `[DONE]`), a data line split in two
/// kept on one line, and replays chunk by chunk to the same output.
#[tokio::test]
async fn a_raw_v3_stream_is_recorded_as_its_events_arrived_and_replays_the_same() {
    let dir = TempDir::new("v3-raw-cassette");
    let server = RawServer::start().await;
    let start = r#"{"type":"tool_call_start","tool_call_index":0,"tool_call_name":"f"}"#;
    server.push(
        Script::default()
            .sse_head()
            .write(": keep-alive\n\n")
            .write("data: {\"type\":\"reasoning\",\"delta\":\"thinking\"}\n\n")
            .write("data: {\"type\": \"content\",\ndata:  \"delta\": \"{\\\"sum\\\": \"}\n\n")
            .write("data: not json\n\n")
            .write(format!("data: {start}\n\n"))
            .write(content("9}"))
            .write(complete(&json!({"sum": 9})))
            .write(DONE),
    );
    let raw = |opper: Opper| async move {
        let mut chunks = opper.call("add").stream_raw().await.unwrap();
        let mut all = Vec::new();
        while let Some(chunk) = chunks.next().await {
            all.push(chunk.unwrap());
        }
        (all, chunks.output().cloned(), chunks.cache_hit())
    };
    let recorder = builder(&server.url())
        .api(Api::V3)
        .cache(Cache::dir(dir.path()))
        .build()
        .unwrap();
    let (live, output, hit) = raw(recorder).await;
    assert!(!hit);
    assert_eq!(live.len(), 3, "{live:?}");
    assert_eq!(output, Some(json!({"sum": 9})));
    let replay = Opper::builder()
        .api(Api::V3)
        .cache(Cache::dir(dir.path()).replay_only())
        .build()
        .unwrap();
    assert_eq!(raw(replay).await, (live, output, true));
    let entry = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let text = std::fs::read_to_string(entry.path()).unwrap();
    let frames = &text[text.find("  \"chunks\"").unwrap()..];
    let complete = json!({"event": "complete", "data": {"data": {"sum": 9}, "meta": meta()}});
    assert_eq!(
        frames,
        format!(
            "  \"chunks\": [\n    {}\n  ]\n}}\n",
            [
                // The line end between its two lines is a space.
                r#"{"type": "content",  "delta": "{\"sum\": "}"#.to_owned(),
                start.to_owned(),
                json!({"type": "content", "delta": "9}"}).to_string(),
                complete.to_string(),
            ]
            .join(",\n    ")
        )
    );
}
#[tokio::test]
async fn a_cut_v3_stream_is_not_stored() {
    let dir = TempDir::new("v3-cut");
    let server = RawServer::start().await;
    server.push(Script::default().sse_head().write(content("{\"sum\": 9}")));
    let opper = builder(&server.url())
        .api(Api::V3)
        .cache(Cache::dir(dir.path()))
        .build()
        .unwrap();
    let stream = sum_stream(&opper).await;
    assert!(read(stream).await.1.is_err());
    assert!(!dir.path().exists() || std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

/// Entries written by an earlier release, committed as they were written (`cassettes/format-1`:
/// a v2 stream's `"chunks"`, a v3 stream's `"frames"`): they still replay, update by update, to
/// the same output. What a user's committed cassettes hold must keep replaying.
#[tokio::test]
async fn committed_entries_of_format_1_still_replay() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/cassettes/format-1");
    let person = r#"PartialPerson { name: Some("Ann"), role: Some("CTO") }"#;
    let update = |path: &str, delta: &str, summary: &str, completed: &str| {
        let summary = match summary {
            "" => "None".to_owned(),
            summary => format!("Some({summary:?})"),
        };
        let people = match path {
            "response.people[0].name" => {
                r#"PartialPerson { name: Some("Ann"), role: None }"#.to_owned()
            }
            _ => person.to_owned(),
        };
        format!(
            "Update {{ json_path: {path:?}, delta: String({delta:?}), partial: PartialTeam {{ people: Some([{people}]), summary: {summary} }}, completed: [{completed}], attempt: 1 }}"
        )
    };
    let (name, role) = ("response.people[0].name", "response.people[0].role");
    let moved_on = r#""response.people[0].role", "response.people[0]", "response.people""#;
    let span = "9e0f6a53-5b2f-4a51-a8c4-2f1b8c7d0e11";
    let v2 = vec![
        format!("opened with span Some({span:?})"),
        update(name, "Ann", "", ""),
        update(role, "CTO", "", r#""response.people[0].name""#),
        update("response.summary", "Ann", "Ann", moved_on),
        update("response.summary", " leads.", "Ann leads.", ""),
    ];
    let v3 = vec![
        "opened with span None".to_owned(),
        update(name, "Ann", "", ""),
        update(role, "CTO", "", r#""response.people[0].name""#),
        update("response.summary", "A", "A", moved_on),
        update("response.summary", "nn ", "Ann ", ""),
        update("response.summary", "l", "Ann l", ""),
        update("response.summary", "eads.", "Ann leads.", ""),
    ];
    let team = r#"Team { people: [Person { name: "Ann", role: "CTO" }], summary: "Ann leads." }"#;
    for (api, expected, span) in [
        (opper::Api::V2, v2, format!("Some({span:?})")),
        (opper::Api::V3, v3, "None".to_owned()),
    ] {
        let replay = Opper::builder()
            .api_key(KEY)
            .api(api)
            .base_url("http://127.0.0.1:9")
            .retry(RetryPolicy::none())
            .cache(Cache::dir(dir).replay_only())
            .build()
            .expect("a client");
        let (seen, end) = updates(&replay, "Ann is the CTO.").await.unwrap();
        assert_eq!(seen, expected, "{api:?}");
        assert_eq!(end, format!("{team} span {span}"), "{api:?}");
    }
}
