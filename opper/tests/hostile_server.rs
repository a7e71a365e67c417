//! Hostile requests to the built-in server: each is answered (or dropped) with work and memory
//! bounded by the server's limits, and the next normal request is answered.
//!
//! Allocations are counted process-wide, so the tests take turns (`SERIAL`).

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use opper::testing::{Generator, MockServer};
use serde_json::{Value, json};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

static SERIAL: Mutex<()> = Mutex::const_new(());

const MIB: usize = 1 << 20;
/// Generous: what "answered at all" means, not how fast.
const PATIENCE: Duration = Duration::from_secs(20);

/// Bytes allocated since `region` started (reallocations' growth included).
fn allocated(region: &Region<'_, std::alloc::System>) -> usize {
    let change = region.change();
    change.bytes_allocated + change.bytes_reallocated.max(0) as usize
}

/// The HTTP client of the tests; made before counting, as building one allocates a lot.
fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn post(
    client: &reqwest::Client,
    server: &MockServer,
    path: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let response = tokio::time::timeout(
        PATIENCE,
        client
            .post(format!("{}{path}", server.url()))
            .header("content-type", "application/json")
            .body(body)
            .send(),
    )
    .await
    .expect("the server answers")
    .unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body)
}

/// A request with an `output_schema`, as the client sends it.
fn task(name: &str, schema: Value) -> String {
    json!({"name": name, "input": {"x": 1}, "output_schema": schema}).to_string()
}

/// A normal request is answered with its generated value.
async fn still_serves(client: &reqwest::Client, server: &MockServer) {
    let schema =
        json!({"type": "object", "properties": {"sum": {"type": "integer"}}, "required": ["sum"]});
    let (status, body) = post(client, server, "/v2/call", task("normal", schema)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["json_payload"]["sum"].is_i64(), "{body}");
}

/// Sends `head` (and `body`) on a fresh connection and reads until the server closes it.
async fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

fn status_of(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

// `minItems: 200000000` once made the server try to allocate 9.6 GB and abort.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_array_too_long_to_generate_is_a_422_that_names_the_cap() {
    let _turn = SERIAL.lock().await;
    let server = MockServer::start().await;
    let client = client();
    let schema = json!({"type": "array", "minItems": 200_000_000u64, "items": {"type": "string"}});
    let region = Region::new(GLOBAL);
    let (status, body) = post(&client, &server, "/v2/call", task("s", schema.clone())).await;
    let bytes = allocated(&region);
    eprintln!("minItems 200000000: {status}, {bytes} bytes allocated");
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["detail"]["loc"], json!(["body", "output_schema"]));
    let msg = body["detail"]["msg"].as_str().unwrap();
    assert!(
        msg.contains("minItems 200000000") && msg.contains("10000 items"),
        "{msg}"
    );
    assert!(bytes < MIB, "{bytes} bytes allocated");
    // The same on the streaming endpoint, and through the generator itself: cut short.
    let (status, _) = post(
        &client,
        &server,
        "/v2/call/stream",
        task("s", schema.clone()),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(Generator::new().generate(&schema), json!([]));
    still_serves(&client, &server).await;
}

// Two `minLength: 10000000` requests once spun both workers in a quadratic loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strings_too_long_are_a_422_and_long_ones_cost_linear_work() {
    let _turn = SERIAL.lock().await;
    let server = MockServer::start().await;
    let client = client();
    let huge = task("s", json!({"type": "string", "minLength": 10_000_000}));
    let region = Region::new(GLOBAL);
    let (a, b) = tokio::join!(
        post(&client, &server, "/v2/call", huge.clone()),
        post(&client, &server, "/v2/call", huge)
    );
    let bytes = allocated(&region);
    eprintln!(
        "2 x minLength 10000000: {} {}, {bytes} bytes allocated",
        a.0, b.0
    );
    for (status, body) in [a, b] {
        assert_eq!(status, 422, "{body}");
        let msg = body["detail"]["msg"].as_str().unwrap();
        assert!(msg.contains("100000 characters"), "{msg}");
    }
    assert!(bytes < MIB, "{bytes} bytes allocated");

    // At the cap the string is made, in time and memory linear in its length.
    let region = Region::new(GLOBAL);
    let (status, body) = post(
        &client,
        &server,
        "/v2/call",
        task("s", json!({"type": "string", "minLength": 100_000})),
    )
    .await;
    let bytes = allocated(&region);
    eprintln!("minLength 100000: {status}, {bytes} bytes allocated");
    assert_eq!(status, 200);
    let text = body["json_payload"].as_str().unwrap();
    assert!((100_000..100_020).contains(&text.len()), "{}", text.len());
    assert!(bytes < 4 * MIB, "{bytes} bytes allocated");
    still_serves(&client, &server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_schema_work_and_nesting_are_bounded() {
    let _turn = SERIAL.lock().await;
    let server = MockServer::start().await;
    let client = client();
    // 10,000 x 10,000 strings of 100 characters: 10 GB if made.
    let wide = json!({"type": "array", "minItems": 10_000, "items": {
        "type": "array", "minItems": 10_000, "items": {"type": "string", "minLength": 100}}});
    let region = Region::new(GLOBAL);
    let (status, body) = post(&client, &server, "/v2/call", task("wide", wide)).await;
    let bytes = allocated(&region);
    eprintln!("10000 x 10000 strings: {status}, {bytes} bytes allocated");
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"]["msg"]
            .as_str()
            .unwrap()
            .contains("1048576 bytes of output")
    );
    assert!(bytes < 8 * MIB, "{bytes} bytes allocated");

    // 10,000 picks from an enum of 100,000 values: a billion steps if each scanned it.
    let options: Vec<String> = (0..100_000).map(|i| format!("v{i}")).collect();
    let scan = json!({"type": "array", "minItems": 10_000, "items": {"enum": options}});
    let (status, body) = post(&client, &server, "/v2/call", task("scan", scan)).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"]["msg"]
            .as_str()
            .unwrap()
            .contains("steps of schema work")
    );

    // `$ref` cycles that never go a level deeper end at the nesting limit, on a worker's stack.
    for cycle in [
        json!({"allOf": [{"$ref": "#"}]}),
        json!({"anyOf": [{"$ref": "#"}], "minLength": 1}),
        json!({"$ref": "#", "description": "me"}),
    ] {
        let (status, body) = post(&client, &server, "/v2/call", task("cycle", cycle.clone())).await;
        assert_eq!(status, 200, "{cycle}: {body}");
        assert_eq!(body["json_payload"], Value::Null, "{cycle}");
    }
    still_serves(&client, &server).await;
}

// A 1 GB body was once read whole (4.2 GB peak) and echoed whole by the 422.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413_without_being_read() {
    let _turn = SERIAL.lock().await;
    let server = MockServer::start().await;
    let client = client();
    // Declared 1 GiB: answered from the headers, nothing read.
    let region = Region::new(GLOBAL);
    let response = raw(
        server.addr(),
        "POST /v2/call HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n",
        b"",
    )
    .await;
    let bytes = allocated(&region);
    eprintln!(
        "content-length 1 GiB: {}, {bytes} bytes allocated",
        status_of(&response)
    );
    assert_eq!(status_of(&response), 413, "{response}");
    assert!(response.contains("PayloadTooLargeError"), "{response}");
    assert!(bytes < MIB, "{bytes} bytes allocated");

    // Chunked, so only counting tells: stopped at the (configured) limit.
    server.max_body_bytes(1000);
    let mut body = String::new();
    for _ in 0..3 {
        body.push_str(&format!("258\r\n{}\r\n", "x".repeat(0x258)));
    }
    body.push_str("0\r\n\r\n");
    let response = raw(
        server.addr(),
        "POST /v2/call HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n",
        body.as_bytes(),
    )
    .await;
    assert_eq!(status_of(&response), 413, "{response}");
    let (status, _) = post(&client, &server, "/v2/call", "x".repeat(1001)).await;
    assert_eq!(status, 413);
    let (status, _) = post(&client, &server, "/v2/call", "x".repeat(1000)).await;
    assert_eq!(status, 422, "at the limit the body is read");
    assert_eq!(server.request_count(), 4, "each is recorded");
    assert!(server.requests()[0].raw_body.is_empty(), "without its body");

    // A chunked body of up to 64 MiB against a 64 KiB limit: the server stops reading at it
    // (the client's writes then fail: the connection is closed under it).
    server.max_body_bytes(64 << 10);
    let region = Region::new(GLOBAL);
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"POST /v2/call HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    let piece = format!("10000\r\n{}\r\n", "y".repeat(0x10000));
    let mut sent = 0;
    let writes = tokio::time::timeout(PATIENCE, async {
        while sent < 64 * MIB {
            if stream.write_all(piece.as_bytes()).await.is_err() {
                break;
            }
            sent += 0x10000;
        }
    });
    writes.await.expect("the server stops the upload");
    let bytes = allocated(&region);
    eprintln!("chunked upload against 64 KiB: stopped after {sent} bytes sent, {bytes} allocated");
    assert!(sent < 64 * MIB, "the server read all {sent} bytes");
    assert!(bytes < 4 * MIB, "{bytes} bytes allocated");
    server.max_body_bytes(4 * MIB);
    still_serves(&client, &server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_422_quotes_at_most_a_kibibyte_of_the_body() {
    let _turn = SERIAL.lock().await;
    let server = MockServer::start().await;
    let client = client();
    let not_json = "é".repeat(1_500_000); // 3 MB, cut inside a character
    let (status, body) = post(&client, &server, "/v2/call", not_json).await;
    assert_eq!(status, 422);
    let quoted = body["detail"]["input"].as_str().unwrap();
    assert!(quoted.ends_with("... (3000000 bytes in all)"), "{quoted}");
    assert!(
        quoted.len() < 1100 && !quoted.contains('\u{fffd}'),
        "{quoted}"
    );

    let nameless = json!({"input": "z".repeat(3 * MIB)}).to_string();
    let (status, body) = post(&client, &server, "/v2/call", nameless.clone()).await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"]["msg"], "Field required");
    let quoted = body["detail"]["input"].as_str().unwrap();
    assert!(quoted.starts_with("{\"input\":\"zzz"), "{quoted}");
    assert!(
        quoted.ends_with(&format!("({} bytes in all)", nameless.len())),
        "{quoted}"
    );
    assert!(body.to_string().len() < 2048, "{}", body.to_string().len());

    // A small bad body is still quoted whole, as the service does.
    let (status, body) = post(&client, &server, "/v2/call", r#"{"name": 5}"#).await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"]["input"], 5);
    still_serves(&client, &server).await;
}

// Every recorded request was once kept forever (1.77 GB resident after three bodies).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_requests_are_a_bounded_ring() {
    let _turn = SERIAL.lock().await;
    let server = MockServer::start().await;
    let client = client();
    server.record_last(3);
    for i in 0..5 {
        post(
            &client,
            &server,
            "/v2/call",
            json!({"name": format!("t{i}")}).to_string(),
        )
        .await;
    }
    let kept: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.task().unwrap().to_owned())
        .collect();
    assert_eq!(kept, ["t2", "t3", "t4"]);
    assert_eq!(server.request_count(), 5, "every request is counted");

    server.record_last(0);
    post(
        &client,
        &server,
        "/v2/call",
        json!({"name": "off"}).to_string(),
    )
    .await;
    assert!(server.requests().is_empty());
    assert_eq!(server.request_count(), 6);
    server.clear_requests();
    assert_eq!(server.request_count(), 0);

    // Big bodies: at most 32 MiB of them are kept, the oldest forgotten first.
    server.record_last(1_000);
    let big = json!({"name": "big", "input": "b".repeat(4 * MIB - 100)}).to_string();
    for _ in 0..10 {
        let (status, _) = post(&client, &server, "/v2/call", big.clone()).await;
        assert_eq!(status, 200);
    }
    let kept = server.requests();
    let kept_bytes: usize = kept.iter().map(|r| r.raw_body.len()).sum();
    eprintln!(
        "10 bodies of 4 MiB: {} kept, {kept_bytes} bytes",
        kept.len()
    );
    assert_eq!(kept.len(), 8);
    assert!(kept_bytes <= 32 * MIB, "{kept_bytes}");
    assert_eq!(server.request_count(), 10);
    still_serves(&client, &server).await;
}

// A body dribbled a byte a second once never timed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_arrive_in_time_is_dropped() {
    let _turn = SERIAL.lock().await;
    let server = MockServer::start().await;
    let client = client();
    server.body_timeout(Duration::from_millis(200));
    let response = raw(
        server.addr(),
        "POST /v2/call HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n",
        b"{",
    )
    .await;
    assert_eq!(status_of(&response), 408, "{response}");
    assert!(response.contains("RequestTimeoutError"), "{response}");
    still_serves(&client, &server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_shuts_down_with_hostile_connections_open() {
    let _turn = SERIAL.lock().await;
    let server = MockServer::start().await;
    let client = client();
    // Longer than PATIENCE: what closes the connections below is the shutdown.
    server.body_timeout(Duration::from_secs(600));
    // One connection dribbling a body, one that sent half its headers.
    let mut dribbling = TcpStream::connect(server.addr()).await.unwrap();
    dribbling
        .write_all(b"POST /v2/call HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{")
        .await
        .unwrap();
    let mut half = TcpStream::connect(server.addr()).await.unwrap();
    half.write_all(b"POST /v2/call HTTP/1.1\r\nhost")
        .await
        .unwrap();
    still_serves(&client, &server).await;
    tokio::time::timeout(PATIENCE, server.shutdown())
        .await
        .expect("shutdown does not wait for them");
    let mut rest = Vec::new();
    for stream in [&mut dribbling, &mut half] {
        let closed = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "the connection is closed by the shutdown");
    }
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}
