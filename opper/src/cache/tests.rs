use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;
use crate::protocol::v2::chunk::StreamingChunk;

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "opper-cache-unit-{label}-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const BODY: &str = r#"{"name":"add_numbers","instructions":"Add","input":{"x":4,"y":5},"model":"m","parent_span_id":"p-1","tags":{"run":"1"}}"#;
const RESPONSE: &str = r#"{"span_id":"s-1","json_payload":{"sum":9},"usage":{"input_tokens":3,"output_tokens":1,"total_tokens":4},"cached":false}"#;

fn chunks() -> Vec<StreamingChunk> {
    let chunk = |value: Value| serde_json::from_value::<StreamingChunk>(value).unwrap();
    vec![
        chunk(json!({"span_id": "s-2"})),
        chunk(json!({"delta": "Hel", "json_path": "response.text", "chunk_type": "json"})),
        chunk(json!({"delta": "lo", "json_path": "response.text", "chunk_type": "json"})),
        chunk(json!({"delta": 42, "json_path": "response.n", "chunk_type": "json"})),
    ]
}

/// What a recording of `events` (each its name, empty when none, and its data) holds.
fn list_of<'a>(events: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut list = String::new();
    for (event, data) in events {
        Recorded::of(event, data).push_to(&mut list);
    }
    list
}

/// What a recording of the v2 stream `chunks` holds: each chunk's JSON, as a server sends it.
fn recorded(chunks: &[StreamingChunk]) -> String {
    let texts: Vec<String> = chunks
        .iter()
        .map(|chunk| serde_json::to_string(chunk).unwrap())
        .collect();
    list_of(texts.iter().map(|text| ("", text.as_str())))
}

/// The events of a stored stream, each as its name and its data.
fn events(answer: &StreamAnswer) -> Vec<(String, String)> {
    (0..)
        .map_while(|i| answer.event(i))
        .map(|(event, data)| (event.to_owned(), data.to_owned()))
        .collect()
}

/// What a v2 event's data decodes into, as a live stream decodes it: its frame and the span
/// id beside it (`None`: it carries nothing).
fn decoded(data: &str) -> Option<String> {
    match Api::V2.wire().frame("", data.to_owned(), false) {
        Ok(decoded) => decoded.map(|d| format!("{:?} {:?}", d.frame, d.span_id)),
        Err(error) => panic!("not a chunk: {error:?}"),
    }
}

/// What the v2 chunks decode into, sent live.
fn live(chunks: &[StreamingChunk]) -> Vec<Option<String>> {
    let data = |chunk| serde_json::to_string(chunk).unwrap();
    chunks.iter().map(|chunk| decoded(&data(chunk))).collect()
}

/// What a stored v2 stream replays, through the decoder a live stream uses.
fn replayed(answer: &StreamAnswer) -> Vec<Option<String>> {
    events(answer)
        .into_iter()
        .map(|(_, data)| decoded(&data))
        .collect()
}

fn miss<A: Answer + std::fmt::Debug>(cache: &Cache, body: &str) -> Store<A> {
    match cache
        .lookup_now::<A>(Api::V2, "add_numbers", body.as_bytes())
        .unwrap()
    {
        Lookup::Miss(Some(store)) => store,
        other => panic!("expected a storable miss, got {other:?}"),
    }
}

fn hit<A: Answer + std::fmt::Debug>(cache: &Cache, body: &str) -> A {
    match cache
        .lookup_now::<A>(Api::V2, "add_numbers", body.as_bytes())
        .unwrap()
    {
        Lookup::Hit(hit) => hit,
        other => panic!("expected a hit, got {other:?}"),
    }
}

/// Whether `body` misses (storably) in `cache` on the endpoint of `A`.
fn misses<A: Answer>(cache: &Cache, body: &str) -> bool {
    matches!(
        cache.lookup_now::<A>(Api::V2, "add_numbers", body.as_bytes()),
        Ok(Lookup::Miss(Some(_)))
    )
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_call_entry_round_trips() {
    let dir = TempDir::new("call");
    let cache = Cache::dir(&dir.0);
    miss::<CallAnswer>(&cache, BODY).call_now(RESPONSE.as_bytes());
    let CallAnswer(response) = hit(&cache, BODY);
    assert_eq!(
        serde_json::from_str::<Value>(response.get()).unwrap(),
        serde_json::from_str::<Value>(RESPONSE).unwrap()
    );
    // Another parent span and other tags hit the same entry; another input does not.
    let relabelled = BODY
        .replace("p-1", "p-2")
        .replace(r#"{"run":"1"}"#, r#"{"run":"2","who":"ci"}"#);
    hit::<CallAnswer>(&cache, &relabelled);
    assert!(misses::<CallAnswer>(
        &cache,
        &BODY.replace("\"x\":4", "\"x\":3")
    ));
    assert!(misses::<StreamAnswer>(&cache, BODY));
    assert_eq!(files(&dir.0).len(), 1, "{:?}", files(&dir.0));
}

#[test]
fn a_stream_entry_round_trips_chunk_by_chunk() {
    let dir = TempDir::new("stream");
    let cache = Cache::dir(&dir.0);
    miss::<StreamAnswer>(&cache, BODY).stream_now(&recorded(&chunks()));
    let answer = hit(&cache, BODY);
    assert_eq!(replayed(&answer).first(), live(&chunks()).first());
    assert_eq!(replayed(&answer), live(&chunks()));
    assert!(misses::<CallAnswer>(&cache, BODY));
    // One chunk a line, so a review reads the stream in order.
    let [name] = <[String; 1]>::try_from(files(&dir.0)).unwrap();
    let text = fs::read_to_string(dir.0.join(name)).unwrap();
    let tail = &text[text.find("  \"chunks\": [\n").unwrap()..];
    assert_eq!(
        tail,
        concat!(
            "  \"chunks\": [\n",
            "    {\"span_id\":\"s-2\"},\n",
            "    {\"delta\":\"Hel\",\"json_path\":\"response.text\",\"chunk_type\":\"json\"},\n",
            "    {\"delta\":\"lo\",\"json_path\":\"response.text\",\"chunk_type\":\"json\"},\n",
            "    {\"delta\":42,\"json_path\":\"response.n\",\"chunk_type\":\"json\"}\n",
            "  ]\n",
            "}\n"
        )
    );
}

#[test]
fn the_entry_is_readable_json_with_the_request_as_sent() {
    let dir = TempDir::new("readable");
    let cache = Cache::dir(&dir.0);
    let store = miss::<CallAnswer>(&cache, BODY);
    let path = store.path().to_owned();
    store.call_now(RESPONSE.as_bytes());
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("add_numbers.call."), "{name}");
    assert!(name.ends_with(".json") && name.len() == "add_numbers.call..json".len() + 64);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("{\n  \"opper_cache\": 1,\n  \"endpoint\": \"/v2/call\",\n  \"request\": {\n    \"name\": \"add_numbers\",\n"), "{text}");
    assert!(text.ends_with("}\n"));
    let entry: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        entry["request"],
        serde_json::from_str::<Value>(BODY).unwrap()
    );
    assert_eq!(entry["response"]["json_payload"], json!({"sum": 9}));
    assert_eq!(
        files(&dir.0),
        vec![name.to_owned()],
        "no temporary file is left"
    );
}

#[test]
fn damaged_truncated_and_foreign_entries_are_misses() {
    let dir = TempDir::new("damaged");
    let cache = Cache::dir(&dir.0);
    let store = miss::<CallAnswer>(&cache, BODY);
    let path = store.path().to_owned();
    store.call_now(RESPONSE.as_bytes());
    let good = fs::read_to_string(&path).unwrap();
    let other_request = {
        let other = Cache::dir(dir.0.join("other"));
        let store = miss::<CallAnswer>(&other, &BODY.replace("\"x\":4", "\"x\":3"));
        let path = store.path().to_owned();
        store.call_now(RESPONSE.as_bytes());
        fs::read_to_string(path).unwrap()
    };
    let damaged: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("truncated", good.as_bytes()[..good.len() / 2].to_vec()),
        ("not JSON", b"\x00\xffgarbage".to_vec()),
        ("not an entry", b"[1, 2, 3]".to_vec()),
        (
            "another format",
            good.replace("\"opper_cache\": 1", "\"opper_cache\": 2")
                .into_bytes(),
        ),
        (
            "another endpoint",
            good.replace("\"/v2/call\"", "\"/v2/call/stream\"")
                .into_bytes(),
        ),
        ("another request", other_request.into_bytes()),
        (
            "a response that is not an object",
            serde_json::to_vec(&json!({
                "opper_cache": 1, "endpoint": "/v2/call",
                "request": serde_json::from_str::<Value>(BODY).unwrap(), "response": [1]
            }))
            .unwrap(),
        ),
        (
            "chunks instead of a response",
            serde_json::to_vec(&json!({
                "opper_cache": 1, "endpoint": "/v2/call",
                "request": serde_json::from_str::<Value>(BODY).unwrap(), "chunks": []
            }))
            .unwrap(),
        ),
    ];
    for (what, bytes) in damaged {
        fs::write(&path, bytes).unwrap();
        assert!(misses::<CallAnswer>(&cache, BODY), "{what}");
        assert!(
            matches!(
                cache.clone().replay_only().lookup_now::<CallAnswer>(Api::V2, "add_numbers", BODY.as_bytes()),
                Err(Error::CacheMiss { ref path, .. }) if path == &path_of(&cache)
            ),
            "{what}"
        );
    }
    // A directory where the file should be is unreadable, hence a miss too.
    fs::remove_file(&path).unwrap();
    fs::create_dir(&path).unwrap();
    assert!(misses::<CallAnswer>(&cache, BODY));
}

/// Where `cache` keeps the answer to `BODY` on `/v2/call`.
fn path_of(cache: &Cache) -> PathBuf {
    miss::<CallAnswer>(cache, BODY).path().to_owned()
}

#[test]
fn damaged_stream_entries_are_misses() {
    let dir = TempDir::new("damaged-stream");
    let cache = Cache::dir(&dir.0);
    let store = miss::<StreamAnswer>(&cache, BODY);
    let path = store.path().to_owned();
    store.stream_now(&recorded(&chunks()));
    let request = serde_json::from_str::<Value>(BODY).unwrap();
    for (what, chunks) in [
        ("no chunks", json!([])),
        (
            "an error chunk",
            json!([{"chunk_type": "error", "error_message": "boom"}]),
        ),
        ("a chunk that is not one", json!([{"delta": "a"}, 7])),
    ] {
        let entry = json!({
            "opper_cache": 1, "endpoint": "/v2/call/stream", "request": request, "chunks": chunks
        });
        fs::write(&path, serde_json::to_vec(&entry).unwrap()).unwrap();
        assert!(misses::<StreamAnswer>(&cache, BODY), "{what}");
    }
}

/// A stored chunk is checked when the entry is read and built only when it is replayed: the
/// check accepts exactly what [`StreamingChunk`] reads (an entry with any other chunk is a
/// miss), and finds error chunks however their keys are written.
#[test]
fn stored_chunks_are_checked_as_streaming_chunk_reads_them() {
    let dir = TempDir::new("checked-chunks");
    let cache = Cache::dir(&dir.0);
    let store = miss::<StreamAnswer>(&cache, BODY);
    let path = store.path().to_owned();
    store.stream_now(&recorded(&chunks()));
    let request = serde_json::from_str::<Value>(BODY).unwrap();
    for chunk in [
        // Read.
        r#"{"delta":"a\"b\u00e9\n","json_path":"response.t","chunk_type":"json"}"#,
        r#"{"delta":{"deep":[1,-2,3.5e10,null,true,{"k":"v"}]},"chunk_type":"text"}"#,
        r#"{"delta":null,"span_id":null,"unknown":[1,{"x":2}],"chunk_type":"novel"}"#,
        r#"{"delta":18446744073709551615,"json_path":"response.n"}"#,
        r#"{"delta":-9223372036854775808}"#,
        r#"{"span_id":"s","error_type":null,"error_message":null}"#,
        r#"{}"#,
        // Not read: a field of another type, a number out of range, a repeated field.
        r#"{"delta":1e400}"#,
        r#"{"delta":[1e999]}"#,
        r#"{"json_path":5}"#,
        r#"{"span_id":["s"]}"#,
        r#"{"chunk_type":3}"#,
        r#"{"error_message":{"m":1}}"#,
        r#"{"delta":"a","delta":"b"}"#,
        r#"{"delta":{"k":1,"k":2}}"#,
        r#"[1]"#,
        // Error chunks, however spelled.
        r#"{"chunk_type":"error","error_message":"boom"}"#,
        r#"{"error\u005ftype":"E"}"#,
        r#"{"error_message":""}"#,
        r#"{"chunk_type":"\u0065rror"}"#,
    ] {
        let entry = format!(
            r#"{{"opper_cache":1,"endpoint":"/v2/call/stream","request":{request},"chunks":[{{"span_id":"s-1"}},{chunk}]}}"#
        );
        fs::write(&path, entry).unwrap();
        let expected = serde_json::from_str::<StreamingChunk>(chunk)
            .ok()
            .filter(|chunk| !chunk.is_error());
        let found = cache
            .lookup_now::<StreamAnswer>(Api::V2, "add_numbers", BODY.as_bytes())
            .unwrap();
        match (found, expected) {
            (Lookup::Hit(stored), Some(_)) => {
                assert_eq!(replayed(&stored).get(1), Some(&decoded(chunk)), "{chunk}");
            }
            (Lookup::Miss(Some(_)), None) => {}
            (found, expected) => panic!("{chunk}: {found:?}, expected {expected:?}"),
        }
    }
}

/// A stream entry read again is not checked again while its text is the same; a text edited in
/// place, or a file put in its place (as the cache writes: renamed over it), is, even of the
/// same size and at once.
#[test]
fn a_checked_stream_entry_is_checked_again_once_edited_or_replaced() {
    let dir = TempDir::new("seen");
    let cache = Cache::dir(&dir.0);
    let store = miss::<StreamAnswer>(&cache, BODY);
    let path = store.path().to_owned();
    store.stream_now(&recorded(&chunks()));
    for _ in 0..2 {
        assert_eq!(replayed(&hit(&cache, BODY)), live(&chunks()));
    }
    let text = fs::read_to_string(&path).unwrap();
    let damaged = text.replacen(r#""span_id":"s-2""#, r#""span_id":12345"#, 1);
    assert_eq!(damaged.len(), text.len());
    fs::write(&path, &damaged).unwrap();
    assert!(misses::<StreamAnswer>(&cache, BODY));
    fs::write(&path, &text).unwrap();
    assert_eq!(replayed(&hit(&cache, BODY)), live(&chunks()));
    let temp = dir.0.join("replacement.tmp");
    fs::write(&temp, &damaged).unwrap();
    fs::rename(&temp, &path).unwrap();
    assert!(misses::<StreamAnswer>(&cache, BODY));
}

/// A call entry read again is not parsed again while its text is the same; edited in place
/// (here its request, to another of the same size), it is checked again at once.
#[test]
fn a_checked_call_entry_is_checked_again_once_edited() {
    let dir = TempDir::new("seen-call");
    let cache = Cache::dir(&dir.0);
    let store = miss::<CallAnswer>(&cache, BODY);
    let path = store.path().to_owned();
    store.call_now(RESPONSE.as_bytes());
    for _ in 0..2 {
        let CallAnswer(raw) = hit(&cache, BODY);
        assert_eq!(
            serde_json::from_str::<Value>(raw.get()).unwrap(),
            serde_json::from_str::<Value>(RESPONSE).unwrap()
        );
    }
    let text = fs::read_to_string(&path).unwrap();
    let edited = text.replacen(r#""x": 4"#, r#""x": 3"#, 1);
    assert_ne!(edited, text);
    fs::write(&path, &edited).unwrap();
    assert!(misses::<CallAnswer>(&cache, BODY));
}

#[test]
fn failures_are_not_stored() {
    let dir = TempDir::new("failures");
    let cache = Cache::dir(&dir.0);
    miss::<CallAnswer>(&cache, BODY).call_now(b"not json");
    miss::<CallAnswer>(&cache, BODY).call_now(b"[1]");
    miss::<StreamAnswer>(&cache, BODY).stream_now(&recorded(&[]));
    let mut with_error = chunks();
    with_error.push(serde_json::from_value(json!({"chunk_type": "error"})).unwrap());
    miss::<StreamAnswer>(&cache, BODY).stream_now(&recorded(&with_error));
    assert!(!dir.0.exists() || files(&dir.0).is_empty());
}

#[test]
fn a_replay_only_miss_names_the_task_and_the_entry() {
    let dir = TempDir::new("replay");
    let cache = Cache::dir(&dir.0).replay_only();
    let error = match cache.lookup_now::<CallAnswer>(Api::V2, "add_numbers", BODY.as_bytes()) {
        Err(error) => error,
        Ok(other) => panic!("expected a miss, got {other:?}"),
    };
    let Error::CacheMiss { task, path } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(task, "add_numbers");
    assert_eq!(path, &path_of(&Cache::dir(&dir.0)));
    let message = error.to_string();
    assert!(message.contains("add_numbers") && message.contains(&*path.to_string_lossy()));
}

#[test]
fn a_body_too_deep_to_key_bypasses_the_cache() {
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let body = format!(r#"{{"name":"t","input":{deep}}}"#);
    let dir = TempDir::new("deep");
    let cache = Cache::dir(&dir.0);
    assert!(matches!(
        cache.lookup_now::<CallAnswer>(Api::V2, "t", body.as_bytes()),
        Ok(Lookup::Miss(None))
    ));
    assert!(matches!(
        cache
            .replay_only()
            .lookup_now::<StreamAnswer>(Api::V2, "t", body.as_bytes()),
        Err(Error::CacheMiss { .. })
    ));
}

#[test]
fn file_names_are_safe_for_any_task_name() {
    let key = Key::of(&Route::of(Api::V2, Endpoint::Call, "t"), &json!({}));
    assert_eq!(
        file_name("../etc/pass wd", Endpoint::Stream, key),
        format!("___etc_pass_wd.stream.{key}.json")
    );
    let long = file_name(&"é".repeat(100), Endpoint::Call, key);
    assert_eq!(long, format!("{}.call.{key}.json", "_".repeat(64)));
}

#[test]
fn the_environment_picks_the_mode() {
    let from = Cache::from_env_values;
    assert_eq!(from(None, None).unwrap(), None);
    assert_eq!(from(Some("  "), Some("")).unwrap(), None);
    assert_eq!(from(Some("c"), None).unwrap(), Some(Cache::dir("c")));
    assert_eq!(
        from(Some("c"), Some("read-write")).unwrap(),
        Some(Cache::dir("c"))
    );
    assert_eq!(
        from(Some("c"), Some("replay")).unwrap(),
        Some(Cache::dir("c").replay_only())
    );
    assert_eq!(from(Some("c"), Some("off")).unwrap(), None);
    assert_eq!(from(None, Some("off")).unwrap(), None);
    assert!(matches!(
        from(None, Some("replay")),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        from(Some("c"), Some("record")),
        Err(Error::Config { .. })
    ));
}

/// Looks `BODY` up on v3's stream endpoint.
fn v3_lookup(cache: &Cache) -> Result<Lookup<StreamAnswer>> {
    cache.lookup_now::<StreamAnswer>(Api::V3, "add_numbers", BODY.as_bytes())
}

/// A v3 stream's entry holds each event as it arrived: a `content` event's data, the
/// `complete` event named; read back, each is handed out as it was recorded.
#[test]
fn a_v3_stream_entry_holds_its_events_as_they_arrived() {
    let dir = TempDir::new("v3-stream");
    let cache = Cache::dir(&dir.0);
    let content = r#"{"type":"content","delta":"{\"a\""}"#;
    let complete = r#"{"data": {"a": 1}, "meta": {"cost": 1.50}}"#;
    let Ok(Lookup::Miss(Some(store))) = v3_lookup(&cache) else {
        panic!("a miss")
    };
    let path = store.path().to_owned();
    store.stream_now(&list_of([("", content), ("complete", complete)]));
    let Ok(Lookup::Hit(answer)) = v3_lookup(&cache) else {
        panic!("a hit")
    };
    assert_eq!(
        events(&answer),
        [
            (String::new(), content.to_owned()),
            ("complete".to_owned(), complete.to_owned())
        ]
    );
    let text = fs::read_to_string(&path).unwrap();
    let tail = &text[text.find("  \"chunks\": [\n").unwrap()..];
    assert_eq!(
        tail,
        concat!(
            "  \"chunks\": [\n",
            "    {\"type\":\"content\",\"delta\":\"{\\\"a\\\"\"},\n",
            "    {\"event\":\"complete\",\"data\":{\"data\": {\"a\": 1}, \"meta\": {\"cost\": 1.50}}}\n",
            "  ]\n",
            "}\n"
        )
    );
    // The v2 endpoint is another entry.
    assert!(misses::<StreamAnswer>(&cache, BODY));
}

/// An entry whose events would not replay as a clean stream is a miss: a v3 `error` frame (named
/// or not), a v2 error chunk, both lists, or none.
#[test]
fn entries_with_an_error_event_or_no_single_list_are_misses() {
    let dir = TempDir::new("error-events");
    let cache = Cache::dir(&dir.0);
    let Ok(Lookup::Miss(Some(store))) = v3_lookup(&cache) else {
        panic!("a miss")
    };
    let path = store.path().to_owned();
    fs::create_dir_all(&dir.0).unwrap();
    let request = serde_json::from_str::<Value>(BODY).unwrap();
    let entry = |frames: &str| {
        format!(
            r#"{{"opper_cache": 1, "endpoint": "/v3/functions/add_numbers/stream", "request": {request}, "frames": [{frames}]}}"#
        )
    };
    let content = r#"{"type": "content", "delta": "x"}"#;
    let complete = r#"{"event": "complete", "data": {"data": 1}}"#;
    let v3_misses = [
        entry(&format!(
            r#"{content}, {{"type": "error", "error": "boom"}}, {complete}"#
        )),
        entry(&format!(
            r#"{content}, {{"type": "content", "type": "error"}}, {complete}"#
        )),
        entry(&format!(
            r#"{content}, {{"event": "other", "data": {{"type": "error"}}}}"#
        )),
        entry(""),
    ];
    for entry in v3_misses {
        fs::write(&path, &entry).unwrap();
        assert!(
            matches!(v3_lookup(&cache), Ok(Lookup::Miss(Some(_)))),
            "{entry}"
        );
    }
    // A `type` of `error` in the final answer's data is not an error event.
    let answer = r#"{"event": "complete", "data": {"type": "error", "data": 1}}"#;
    fs::write(&path, entry(&format!("{content}, {answer}"))).unwrap();
    assert!(matches!(v3_lookup(&cache), Ok(Lookup::Hit(_))));
    // A list as `chunks` and one as `frames` (the name v3 entries were written with before).
    let store = miss::<StreamAnswer>(&cache, BODY);
    let path = store.path().to_owned();
    store.stream_now(&recorded(&chunks()));
    let mut both = serde_json::from_str::<Value>(&fs::read_to_string(&path).unwrap()).unwrap();
    both["frames"] = json!([{"span_id": "s"}]);
    fs::write(&path, serde_json::to_vec(&both).unwrap()).unwrap();
    assert!(misses::<StreamAnswer>(&cache, BODY));
}

/// What a recording keeps of an event: its data on one line, and its name when it is not SSE's
/// default, or when the data would read as a named event itself; read back, the same event.
#[test]
fn a_recorded_event_reads_back_as_it_arrived() {
    let cases = [
        // (name, data as sent), (name, data as read back), the item.
        (
            ("", " {\"a\":\n 1}\r\n"),
            ("", "{\"a\":  1}"),
            "{\"a\":  1}",
        ),
        (("message", "[1]"), ("", "[1]"), "[1]"),
        (
            ("", r#"{"data":2,"event":"x"}"#),
            ("message", r#"{"data":2,"event":"x"}"#),
            r#"{"event":"message","data":{"data":2,"event":"x"}}"#,
        ),
        (
            ("", r#"{"ev\u0065nt":"x","data":2}"#),
            ("message", r#"{"ev\u0065nt":"x","data":2}"#),
            r#"{"event":"message","data":{"ev\u0065nt":"x","data":2}}"#,
        ),
        (
            ("", r#"{"event":"x","data":2,"more":3}"#),
            ("", r#"{"event":"x","data":2,"more":3}"#),
            r#"{"event":"x","data":2,"more":3}"#,
        ),
        (
            ("", r#"{"event":5,"data":2}"#),
            ("", r#"{"event":5,"data":2}"#),
            r#"{"event":5,"data":2}"#,
        ),
        (
            ("", r#"{"event":"x","event":"y","data":2}"#),
            ("", r#"{"event":"x","event":"y","data":2}"#),
            r#"{"event":"x","event":"y","data":2}"#,
        ),
        (
            ("", "[\"event\",\"data\"]"),
            ("", "[\"event\",\"data\"]"),
            "[\"event\",\"data\"]",
        ),
        (
            ("a\"\u{1}", "{}"),
            ("a\"\u{1}", "{}"),
            r#"{"event":"a\"\u0001","data":{}}"#,
        ),
    ];
    for ((event, data), (name, read), item) in cases {
        let recorded = Recorded::of(event, data);
        let list = list_of([(event, data)]);
        assert_eq!(list, item, "{event:?} {data:?}");
        assert_eq!(recorded.len_after(""), item.len());
        assert_eq!(recorded.len_after("x"), item.len() + ",\n    ".len());
        let text = format!("[{list}]");
        let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(&text).unwrap();
        let spans = frames::check(Api::V3, &text, &items).unwrap();
        let answer = StreamAnswer::new(text.clone(), spans);
        assert_eq!(
            events(&answer),
            [(name.to_owned(), read.to_owned())],
            "{event:?} {data:?}"
        );
    }
}

/// A recording that would not read back (an event that is not JSON: here a final answer with
/// a number JSON does not have) is not stored.
#[test]
fn a_recording_that_would_not_replay_is_not_stored() {
    let dir = TempDir::new("not-json");
    let cache = Cache::dir(&dir.0);
    let Ok(Lookup::Miss(Some(store))) = v3_lookup(&cache) else {
        panic!("a miss")
    };
    let content = r#"{"type":"content","delta":"1"}"#;
    store.stream_now(&list_of([
        ("", content),
        ("complete", r#"{"data":1,"meta":{"cost":NaN}}"#),
    ]));
    assert!(!dir.0.exists() || files(&dir.0).is_empty());
}
