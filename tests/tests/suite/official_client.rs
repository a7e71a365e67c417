//! The official clients against the built-in server: the v2 Python client (`opperai` 1.7.2, from
//! PyPI), the v2 TypeScript one (`opperai` 3.x, from npm) and the v3 Python client (`opperai`
//! 2.1.1, from PyPI) must not tell it from the real service. Each is installed into a folder of
//! its own in the target directory when it is missing (both Python versions are the package
//! `opperai`). The v3 client's `opper.trace()` runs there too, with calls inside. When its
//! runtime or its registry cannot be reached, a test skips, saying so;
//! under CI (the `CI` environment variable set, as CI services do, and not `false` or `0`) it
//! fails instead, so that CI never passes without having run them.

use std::path::PathBuf;
use std::process::Command;

use opper::testing::{MockServer, Reply};
use serde_json::{Value, json};

/// Whether the tests run under CI: `CI` set, and not empty, `false` or `0`.
fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !matches!(ci.trim(), "" | "0" | "false" | "FALSE"))
}

/// A client that could not be installed: the test skips, saying why, or fails under CI.
fn unavailable(why: &str) {
    assert!(
        !under_ci(),
        "{why}; CI is set, so the interop test fails instead of skipping"
    );
    eprintln!("SKIPPED: {why}");
}

/// A Python with `opperai` at `version` (and `extra` packages), from the system or installed
/// with pip into `target/<folder>`: the interpreter and the folder to put on `PYTHONPATH`.
fn python_with_opperai(
    version: &str,
    extra: &[&str],
    folder: &str,
) -> Option<(String, Option<PathBuf>)> {
    let python = ["python3", "python"].into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })?;
    let has = |path: Option<&PathBuf>| {
        let mut command = Command::new(python);
        let imports: String = extra
            .iter()
            .map(|name| format!("; import {name}"))
            .collect();
        command.arg("-c").arg(format!(
            "import importlib.metadata as m, opperai{imports}; \
             assert m.version('opperai') == '{version}'"
        ));
        if let Some(path) = path {
            command.env("PYTHONPATH", path);
        }
        command.output().is_ok_and(|o| o.status.success())
    };
    if has(None) {
        return Some((python.to_owned(), None));
    }
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target")
        .join(folder);
    if has(Some(&target)) {
        return Some((python.to_owned(), Some(target)));
    }
    let installed = Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(&target)
        .arg(format!("opperai=={version}"))
        .args(extra)
        .status()
        .is_ok_and(|s| s.success());
    (installed && has(Some(&target))).then(|| (python.to_owned(), Some(target)))
}

/// The TypeScript client, installed with npm into `target/npmdeps` when missing.
fn node_with_opperai() -> Option<PathBuf> {
    let ok = |command: &mut Command| command.output().is_ok_and(|o| o.status.success());
    if !ok(Command::new("node").arg("--version")) {
        return None;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/npmdeps");
    if !dir.join("node_modules/opperai/package.json").exists() {
        std::fs::create_dir_all(&dir).ok()?;
        let installed = ok(Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg("opperai@3"));
        if !installed {
            return None;
        }
    }
    Some(dir)
}

/// A server scripted for the clients' script, and a check of what the script printed.
async fn scripted_server() -> MockServer {
    let server = MockServer::start().await;
    server.require_api_key("official-key");
    server.reply(
        "add_numbers",
        Reply::json(json!({"sum": 9})).span_id("span-add"),
    );
    server.reply("chat", Reply::text("Hello from the mock"));
    server.reply("people", Reply::json(json!({"names": ["Ann Lee", "Bo"]})));
    server.reply(
        "missing",
        Reply::api_error(404, "NotFoundError", "no such function"),
    );
    server
}

async fn run_script(mut command: Command) -> Vec<Value> {
    let output = tokio::task::spawn_blocking(move || command.output().expect("the script runs"))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn check(server: &MockServer, results: &[Value]) {
    let get = |kind: &str| results.iter().find(|r| r["kind"] == kind).unwrap()["value"].clone();

    let call = get("call");
    assert_eq!(call["span_id"], "span-add");
    assert_eq!(call["json_payload"], json!({"sum": 9}));
    assert!(call["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert_eq!(get("text")["message"], "Hello from the mock");

    let stream = get("stream");
    let chunks = stream.as_array().unwrap();
    assert!(chunks[0]["span_id"].is_string(), "{stream}");
    let mut names = [String::new(), String::new()];
    for chunk in &chunks[1..] {
        assert_eq!(chunk["chunk_type"], "json");
        let index = match chunk["json_path"].as_str().unwrap() {
            "response.names[0]" => 0,
            "response.names[1]" => 1,
            other => panic!("unexpected path {other}"),
        };
        names[index].push_str(chunk["delta"].as_str().unwrap());
    }
    assert_eq!(names, ["Ann Lee", "Bo"]);

    let error = get("error");
    assert_eq!(error["class"], "NotFoundError", "{error}");
    let unauthorized = get("unauthorized");
    assert_eq!(unauthorized["class"], "UnauthorizedError", "{unauthorized}");

    // The official client's request, as the server recorded it: the seed example's body.
    let recorded = server.requests_for("add_numbers").remove(0);
    assert_eq!(recorded.bearer(), Some("official-key"));
    assert_eq!(recorded.path, "/v2/call");
    let body = recorded.body.unwrap();
    assert_eq!(body["input"], json!({"x": 4, "y": 5}));
    assert_eq!(body["examples"][0]["comment"], "Adds two numbers");
    assert_eq!(
        body["parent_span_id"],
        "123e4567-e89b-12d3-a456-426614174000"
    );
    assert_eq!(
        body["tags"],
        json!({"project": "project_456", "user": "company_123"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_works_against_the_built_in_server() {
    let Some((python, path)) = python_with_opperai("1.7.2", &[], "pydeps") else {
        unavailable("python3 with opperai 1.7.2 is not available and could not be installed");
        return;
    };
    let server = scripted_server().await;
    let mut command = Command::new(python);
    command
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/official_client.py"))
        .arg(server.url());
    if let Some(path) = path {
        command.env("PYTHONPATH", path);
    }
    let results = run_script(command).await;
    check(&server, &results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_typescript_client_works_against_the_built_in_server() {
    let Some(dir) = node_with_opperai() else {
        unavailable("node with npm opperai 3.x is not available and could not be installed");
        return;
    };
    let server = scripted_server().await;
    // Node resolves `opperai` from the script's folder upwards: run a copy inside `dir`.
    let script = dir.join("official_client.mjs");
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/official_client.mjs"),
        &script,
    )
    .unwrap();
    let mut command = Command::new("node");
    command.arg(script).arg(server.url());
    let results = run_script(command).await;
    check(&server, &results);
}

/// A server scripted for the v3 client's script.
async fn scripted_v3_server() -> MockServer {
    let server = MockServer::start().await;
    server.require_api_key("official-key");
    server.reply(
        "add_numbers",
        Reply::json(json!({"sum": 9})).meta(json!({"trace_uuid": "trace-add"})),
    );
    server.reply("my/chat", Reply::text("Hello from the mock"));
    server.reply("people", Reply::json(json!({"names": ["Ann Lee", "Bo"]})));
    server.reply(
        "missing",
        Reply::api_error(404, "NotFoundError", "no such function"),
    );
    server
}

fn check_v3(server: &MockServer, results: &[Value]) {
    let get = |kind: &str| results.iter().find(|r| r["kind"] == kind).unwrap()["value"].clone();

    // A Pydantic output schema: the client hands back an `Out` instance.
    let call = get("call");
    assert_eq!(call["type"], "Out", "{call}");
    assert_eq!(call["sum"], 9);
    assert_eq!(call["meta"]["function_name"], "add_numbers");
    assert_eq!(call["meta"]["trace_uuid"], "trace-add");
    assert!(call["meta"]["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert_eq!(get("text")["data"], "Hello from the mock");

    // The stream: content chunks whose text is the output's JSON, `done`, then `complete`.
    let stream = get("stream");
    let chunks = stream.as_array().unwrap();
    let (complete, rest) = chunks.split_last().unwrap();
    let (done, contents) = rest.split_last().unwrap();
    assert_eq!(complete["type"], "complete", "{stream}");
    assert_eq!(complete["data"], json!({"names": ["Ann Lee", "Bo"]}));
    assert_eq!(complete["meta"]["function_name"], "people");
    assert_eq!(done["type"], "done", "{stream}");
    assert!(done["output_tokens"].as_u64().unwrap() > 0);
    assert!(contents.len() > 3, "{stream}");
    assert!(contents.iter().all(|c| c["type"] == "content"), "{stream}");
    let text: String = contents
        .iter()
        .map(|c| c["delta"].as_str().unwrap())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        complete["data"]
    );
    assert_eq!(get("typed_stream"), json!(["Ann Lee", "Bo"]));

    let error = get("error");
    assert_eq!(error["class"], "NotFoundError", "{error}");
    assert_eq!(error["code"], "not_found");
    let unauthorized = get("unauthorized");
    assert_eq!(
        unauthorized["class"], "AuthenticationError",
        "{unauthorized}"
    );
    assert_eq!(unauthorized["code"], "unauthorized");

    // What the client sent for the docs' `add_numbers` task: V3.md's request.
    let recorded = server.requests_for("add_numbers").remove(0);
    assert_eq!(recorded.path, "/v3/functions/add_numbers/call");
    assert_eq!(recorded.bearer(), Some("official-key"));
    assert_eq!(recorded.header("content-type"), Some("application/json"));
    assert_eq!(recorded.header("accept"), Some("application/json"));
    let body = recorded.body.unwrap();
    let integer = |title: &str| json!({"title": title, "type": "integer"});
    assert_eq!(
        body,
        json!({
            "input": {"x": 4, "y": 5},
            "input_schema": {
                "properties": {"x": integer("X"), "y": integer("Y")},
                "required": ["x", "y"], "title": "In", "type": "object",
            },
            "output_schema": {
                "properties": {"sum": integer("Sum")},
                "required": ["sum"], "title": "Out", "type": "object",
            },
            "instructions": "Calculate the sum of two numbers",
            "model": "openai/gpt-4o-mini",
            "parent_span_id": "123e4567-e89b-12d3-a456-426614174000",
        })
    );
    let stream = server.requests_for("people").remove(0);
    assert_eq!(stream.path, "/v3/functions/people/stream");
    assert_eq!(stream.header("accept"), Some("text/event-stream"));
    // The name is one percent-encoded path segment.
    let chat = server.requests_for("my/chat").remove(0);
    assert_eq!(chat.path, "/v3/functions/my%2Fchat/call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_v3_python_client_works_against_the_built_in_server() {
    let Some((python, path)) = python_with_opperai("2.1.1", &["pydantic"], "pydeps-v3") else {
        unavailable(
            "python3 with opperai 2.1.1 and pydantic is not available and could not be installed",
        );
        return;
    };
    let server = scripted_v3_server().await;
    let mut command = Command::new(python);
    command
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/official_client_v3.py"))
        .arg(server.url());
    if let Some(path) = path {
        command.env("PYTHONPATH", path);
    }
    let results = run_script(command).await;
    check_v3(&server, &results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_v3_python_clients_traces_work_against_the_built_in_server() {
    let Some((python, path)) = python_with_opperai("2.1.1", &["pydantic"], "pydeps-v3") else {
        unavailable(
            "python3 with opperai 2.1.1 and pydantic is not available and could not be installed",
        );
        return;
    };
    let server = MockServer::start().await;
    server.require_api_key("official-key");
    let mut command = Command::new(python);
    command
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/official_client_trace.py"))
        .arg(server.url());
    if let Some(path) = path {
        command.env("PYTHONPATH", path);
    }
    let results = run_script(command).await;
    let get = |kind: &str| results.iter().find(|r| r["kind"] == kind).unwrap()["value"].clone();

    // The tree the server kept: `inner` under `outer`, in one trace, and `failing` alone.
    let spans = server.spans();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let (outer, failing) = (&spans[0], &spans[1]);
    assert_eq!(outer.name, "outer");
    assert_eq!(
        get("outer"),
        json!({"id": outer.id, "trace_id": outer.trace_id})
    );
    let inner = &outer.children[0];
    assert_eq!(
        get("inner"),
        json!({"id": inner.id, "trace_id": outer.trace_id})
    );
    assert_eq!(inner.parent_id.as_deref(), Some(outer.id.as_str()));
    assert_eq!(outer.input, Some(json!("outer input")));
    assert_eq!(outer.meta, Some(json!({"m": 1})));
    assert_eq!(outer.tags, Some(json!({"env": "test"})));
    assert_eq!(failing.name, "failing");
    assert_eq!(
        failing.error.as_deref(),
        Some("no trip: the city is closed")
    );
    assert_eq!(get("raised"), "no trip: the city is closed");
    for span in [outer, inner, failing] {
        assert!(span.end_time.is_some(), "{}", span.name);
        assert!(span.start_time.is_some(), "{}", span.name);
    }
    // The bodies: the start's keys and the end's, as this crate sends them.
    assert_eq!(
        inner.received[0],
        json!({
            "name": "inner",
            "trace_id": outer.trace_id,
            "parent_id": outer.id,
            "input": "inner input",
            "start_time": inner.start_time,
        })
    );
    assert_eq!(outer.received[1], json!({"end_time": outer.end_time}));
    assert_eq!(
        failing.received[1],
        json!({"error": "no trip: the city is closed", "end_time": failing.end_time})
    );

    // The calls carried the current span in the body; after the nested trace, 2.1.1 sent
    // `fn-c` without one (this crate sends the enclosing span there).
    let parent = |task: &str| {
        let request = server.requests_for(task).remove(0);
        assert_eq!(request.path, format!("/v3/functions/{task}/call"));
        request.body.unwrap().get("parent_span_id").cloned()
    };
    assert_eq!(parent("fn-a"), Some(json!(outer.id)));
    assert_eq!(parent("fn-b"), Some(json!(inner.id)));
    assert_eq!(parent("fn-c"), None);
}

/// The official Python agent (`opperai` 2.1.1 `Agent`): two tools and a structured output,
/// then a text answer from the server's own model; and this crate's agent, given the same
/// turns, sends the same requests (the same keys in the same order, the same history).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_agent_works_against_the_built_in_server() {
    use opper::testing::Turn;

    let Some((python, path)) = python_with_opperai("2.1.1", &["pydantic"], "pydeps-v3") else {
        unavailable(
            "python3 with opperai 2.1.1 and pydantic is not available and could not be installed",
        );
        return;
    };
    // The official agent sends `X-Opper-Name` only when it traces: the traced `planner` takes
    // the server's queue of its name, as this crate's agent does.
    let turns = |server: &MockServer, queue: &str| {
        server.enqueue(
            queue,
            Turn::new()
                .call_with_id("call_weather_1", "get_weather", r#"{"city":"Paris"}"#)
                .call_with_id("call_add_2", "add", r#"{"a":2,"b":3}"#)
                .into_reply(),
        );
        server.enqueue(
            queue,
            Turn::answer(r#"{"summary": "Sunny; 5"}"#).into_reply(),
        );
    };
    let server = MockServer::start().await;
    server.require_api_key("official-key");
    turns(&server, "planner");
    let mut command = Command::new(python);
    command
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/official_agent.py"))
        .arg(server.url());
    if let Some(path) = path {
        command.env("PYTHONPATH", path);
    }
    let results = run_script(command).await;
    let get = |kind: &str| results.iter().find(|r| r["kind"] == kind).unwrap()["value"].clone();
    let structured = get("structured");
    assert_eq!(structured["type"], "Report");
    assert_eq!(structured["summary"], "Sunny; 5");
    assert_eq!(structured["iterations"], 2);
    assert_eq!(
        structured["tool_calls"][1],
        json!({"name": "add", "call_id": "call_add_2", "error": null})
    );
    assert!(
        get("text")["output"]
            .as_str()
            .unwrap()
            .starts_with("This is a mock answer")
    );
    let official: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v3/compat/openresponses")
        .collect();
    assert_eq!(official.len(), 3);
    let official_spans = server.spans();

    // This crate's agent, on the same turns.
    /// Current weather in a city.
    #[opper::tool]
    fn get_weather(city: String) -> Value {
        json!({"city": city, "temperature_c": 21, "conditions": "sunny"})
    }
    /// Add two integers.
    #[opper::tool]
    fn add(a: i64, b: i64) -> i64 {
        a + b
    }
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Report {
        summary: String,
    }
    let ours = MockServer::start().await;
    turns(&ours, "planner");
    let run = opper::Agent::new("planner")
        .instructions("Plan the day.")
        .model("openai/gpt-4o-mini")
        .tool(get_weather_tool())
        .tool(add_tool())
        .run::<Report>(&ours.client(), "Weather in Paris, and 2+3?")
        .await
        .unwrap();
    assert_eq!(run.output.summary, "Sunny; 5");
    // The same spans (AGENT.md §2): the bodies of the run's span and of each tool's, their ids
    // and times aside.
    let our_spans = ours.spans();
    assert_eq!(official_spans.len(), 1, "{official_spans:#?}");
    assert_eq!(span_bodies(&official_spans[0]), span_bodies(&our_spans[0]));
    // Each turn names the run's span as its parent.
    for (spans, server) in [(&official_spans, &server), (&our_spans, &ours)] {
        let agent_turns: Vec<_> = server
            .requests()
            .into_iter()
            .filter(|r| r.header("x-opper-name") == Some("planner"))
            .collect();
        assert_eq!(agent_turns.len(), 2);
        for turn in agent_turns {
            assert_eq!(
                turn.header("x-opper-parent-span-id"),
                Some(spans[0].id.as_str())
            );
        }
    }
    let ours: Vec<_> = ours
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v3/compat/openresponses")
        .collect();
    assert_eq!(ours.len(), 2);
    let keys = |request: &opper::testing::RecordedRequest| -> Vec<String> {
        let body: serde_json::Map<String, Value> =
            serde_json::from_slice(&request.raw_body).unwrap();
        body.keys().cloned().collect()
    };
    for (theirs, ours) in official.iter().zip(&ours) {
        let (a, b) = (theirs.body.as_ref().unwrap(), ours.body.as_ref().unwrap());
        assert_eq!(keys(theirs), keys(ours));
        for key in [
            "input",
            "instructions",
            "model",
            "max_output_tokens",
            "stream",
        ] {
            assert_eq!(a[key], b[key], "{key}");
        }
        assert_eq!(a["text"]["format"]["name"], b["text"]["format"]["name"]);
        let tools = |body: &Value| -> Vec<(Value, Value, Value)> {
            body["tools"]
                .as_array()
                .unwrap()
                .iter()
                .map(|tool| {
                    let mut parameters = tool["parameters"].clone();
                    // schemars writes `"format": "int64"` for an i64; Python's `int` has none.
                    for property in parameters["properties"]
                        .as_object_mut()
                        .unwrap()
                        .values_mut()
                    {
                        property.as_object_mut().unwrap().remove("format");
                    }
                    (tool["type"].clone(), tool["name"].clone(), parameters)
                })
                .collect()
        };
        assert_eq!(tools(a), tools(b));
        assert_eq!(a["tools"][0]["description"], b["tools"][0]["description"]);
        assert_eq!(theirs.header("accept"), ours.header("accept"));
    }
}

/// The bodies a span and the spans below it received (its `POST`, then each `PATCH`), each
/// with its times, its trace and its parent written as placeholders (the parent by its name),
/// the children in order of name (tools running together create theirs in any order).
fn span_bodies(span: &opper::testing::RecordedSpan) -> Vec<(String, Vec<Value>)> {
    fn walk(
        span: &opper::testing::RecordedSpan,
        parent: Option<&str>,
        out: &mut Vec<(String, Vec<Value>)>,
    ) {
        let bodies = span
            .received
            .iter()
            .map(|body| {
                let mut body = body.clone();
                let object = body.as_object_mut().unwrap();
                for key in ["start_time", "end_time"] {
                    if let Some(time) = object.get_mut(key) {
                        assert!(time.as_str().unwrap().ends_with("+00:00"), "{time}");
                        *time = json!("<time>");
                    }
                }
                if let Some(trace) = object.get_mut("trace_id") {
                    *trace = json!("<trace>");
                }
                if let Some(id) = object.get_mut("parent_id") {
                    assert_eq!(Some(id.as_str().unwrap()), parent);
                    *id = json!("<parent>");
                }
                body
            })
            .collect();
        out.push((span.name.clone(), bodies));
        let mut children: Vec<_> = span.children.iter().collect();
        children.sort_by(|a, b| a.name.cmp(&b.name));
        for child in children {
            walk(child, Some(&span.id), out);
        }
    }
    let mut out = Vec::new();
    walk(span, None, &mut out);
    out
}
