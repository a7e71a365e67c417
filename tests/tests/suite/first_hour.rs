//! A new user's first hour: a fresh crate with only the dependencies the README's install
//! section adds, the quickstart copied in as its `src/main.rs`, built and run with no API key.
//! It must build (no helper of this workspace's examples) and run offline on the built-in
//! server. A second test checks the other side of `opper::testing::Backend`: with a key, the
//! API the environment names.
//!
//! The crate lives in `target/first-hour/` and builds into the target directory this test was
//! built in, so only what its own feature set changes is compiled again. `opper` is a path dependency on this
//! workspace (it is not taken from a registry); the others resolve to the versions in this
//! workspace's `Cargo.lock` (copied in), offline when cargo has them, else from the registry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The target directory this test was built in (`CARGO_TARGET_DIR` or the workspace's
/// `target/`) and its profile directory (`debug`, `release`): this binary is
/// `<target>/<profile>/deps/suite-<hash>`.
fn target_and_profile() -> (PathBuf, String) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("<target>/<profile>/deps");
    let profile = profile_dir
        .file_name()
        .and_then(|name| name.to_str())
        .expect("a profile directory")
        .to_owned();
    let target = profile_dir
        .parent()
        .expect("the target directory")
        .to_path_buf();
    (target, profile)
}

/// How long a build may take on a slow, cold machine before the test gives up.
const BUILD_LIMIT: Duration = Duration::from_secs(30 * 60);

/// One dependency of the install line: the version requirement (`*` when the line gives
/// none: the copied lock file then decides) and the features it turns on.
#[derive(Debug, Default, PartialEq)]
struct Dependency {
    version: Option<String>,
    features: Vec<String>,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// The `cargo add` lines of the first `sh` block under `heading` in `text`.
fn install_lines(text: &str, heading: &str) -> Vec<String> {
    let section = text
        .split_once(heading)
        .unwrap_or_else(|| panic!("no {heading:?} section"))
        .1;
    let block = section
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a sh block in the install section")
        .0;
    block
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("cargo add "))
        .map(str::to_owned)
        .collect()
}

/// What `cargo add` adds for `line` (without `--dev`, `--path` or other options: the install
/// section uses crate names, `name@version` and `-F`/`--features` only).
fn parse_cargo_add(line: &str) -> BTreeMap<String, Dependency> {
    let mut crates = BTreeMap::new();
    let mut features = Vec::new();
    let mut words = line.split_whitespace().skip(2);
    while let Some(word) = words.next() {
        match word {
            "-F" | "--features" => {
                let list = words.next().expect("a feature list after -F");
                features.extend(list.split(',').map(str::to_owned));
            }
            option if option.starts_with('-') => {
                panic!("an option the test does not know: {option}")
            }
            spec => {
                let (name, version) = match spec.split_once('@') {
                    Some((name, version)) => (name, Some(version.to_owned())),
                    None => (spec, None),
                };
                crates.insert(
                    name.to_owned(),
                    Dependency {
                        version,
                        features: Vec::new(),
                    },
                );
            }
        }
    }
    for feature in features.into_iter().filter(|feature| !feature.is_empty()) {
        let (name, feature) = match feature.split_once('/') {
            Some((name, feature)) => (name.to_owned(), feature.to_owned()),
            None => {
                assert_eq!(crates.len(), 1, "a feature without its crate in {line:?}");
                (crates.keys().next().cloned().unwrap_or_default(), feature)
            }
        };
        let dependency = crates
            .get_mut(&name)
            .unwrap_or_else(|| panic!("a feature of {name}, which {line:?} does not add"));
        dependency.features.push(feature);
    }
    crates
}

fn manifest(dependencies: &BTreeMap<String, Dependency>, workspace: &Path) -> String {
    let mut manifest = String::from(
        "[package]\nname = \"opper-first-hour\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         # A workspace of its own: it lives under the opper workspace's target/.\n[workspace]\n\n\
         [dependencies]\n",
    );
    for (name, dependency) in dependencies {
        let features = format!("{:?}", dependency.features);
        let source = match name.as_str() {
            "opper" => format!("path = {:?}", workspace.join("opper").display().to_string()),
            _ => format!(
                "version = {:?}",
                dependency.version.as_deref().unwrap_or("*")
            ),
        };
        manifest.push_str(&format!("{name} = {{ {source}, features = {features} }}\n"));
    }
    manifest
}

/// Runs `command` to its end, killing it past `limit`.
fn run(command: &mut Command, limit: Duration) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{command:?} did not start: {error}"));
    let id = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done.send(());
        output
    });
    if finished.recv_timeout(limit).is_err() {
        // Past the limit: stop the build (only the child this test started).
        let _ = Command::new("kill").arg(id.to_string()).status();
        panic!("{command:?} did not finish within {limit:?}");
    }
    waiter
        .join()
        .expect("the waiting thread")
        .expect("the command's output")
}

/// A command with nothing of this environment that would take it online or change the run:
/// no API key, no cache, no API version.
fn offline_env(command: &mut Command) -> &mut Command {
    for name in [
        "OPPER_API_KEY",
        "OPPER_HTTP_BEARER",
        "OPPER_BASE_URL",
        "OPPER_CACHE_DIR",
        "OPPER_CACHE_MODE",
        "OPPER_API_VERSION",
    ] {
        command.env_remove(name);
    }
    command
}

#[test]
fn the_install_line_parses_as_cargo_add_does() {
    let added = parse_cargo_add("cargo add a b@1 -F a/x,b/y,a/z");
    assert_eq!(added["a"].features, ["x", "z"]);
    assert_eq!(added["b"].version.as_deref(), Some("1"));
    let single = parse_cargo_add("cargo add tokio --features macros,rt-multi-thread");
    assert_eq!(single["tokio"].features, ["macros", "rt-multi-thread"]);
}

#[test]
fn the_readme_and_the_crate_docs_give_the_same_install_line() {
    let root = workspace();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let crate_docs = std::fs::read_to_string(root.join("opper/docs/crate.md")).unwrap();
    let lines = install_lines(&readme, "\n## Install\n");
    assert!(!lines.is_empty());
    assert_eq!(lines, install_lines(&crate_docs, "\n# Install\n"));
    let added: BTreeMap<_, _> = lines
        .iter()
        .flat_map(|line| parse_cargo_add(line))
        .collect();
    // What the issue a new user hit asks for, said where they look first.
    assert_eq!(added["schemars"].version.as_deref(), Some("1"));
    assert!(added["serde"].features.contains(&"derive".to_owned()));
    for feature in ["macros", "rt-multi-thread"] {
        assert!(
            added["tokio"].features.contains(&feature.to_owned()),
            "{feature}"
        );
    }
    assert!(added["opper"].features.contains(&"testing".to_owned()));
    assert!(added.contains_key("futures") && added.contains_key("serde_json"));
}

#[test]
fn the_quickstart_copied_into_a_new_crate_runs_offline() {
    let root = workspace();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let dependencies: BTreeMap<_, _> = install_lines(&readme, "\n## Install\n")
        .iter()
        .flat_map(|line| parse_cargo_add(line))
        .collect();

    let (target, profile) = target_and_profile();
    let dir = target.join("first-hour/quickstart");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), manifest(&dependencies, &root)).unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::copy(
        root.join("examples/examples/quickstart.rs"),
        dir.join("src/main.rs"),
    )
    .unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let build = |offline: bool| {
        let mut command = Command::new(&cargo);
        command
            .current_dir(&dir)
            .args(["build", "--quiet", "--bin", "opper-first-hour"])
            .env("CARGO_TARGET_DIR", &target);
        if profile == "release" {
            command.arg("--release");
        }
        if offline {
            command.arg("--offline");
        }
        run(offline_env(&mut command), BUILD_LIMIT)
    };
    let started = Instant::now();
    let mut built = build(true);
    if !built.status.success() {
        // Not every crate was in cargo's cache: the registry has them.
        eprintln!(
            "offline build failed, trying online:\n{}",
            String::from_utf8_lossy(&built.stderr)
        );
        built = build(false);
    }
    assert!(
        built.status.success(),
        "the new crate did not build:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    eprintln!("built in {:?}", started.elapsed());

    let binary = target
        .join(&profile)
        .join(format!("opper-first-hour{}", std::env::consts::EXE_SUFFIX));
    let ran = run(
        offline_env(&mut Command::new(binary)).current_dir(&dir),
        Duration::from_secs(120),
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&ran.stderr),
    );
    assert!(
        ran.status.success(),
        "the quickstart failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("running offline on the built-in server"),
        "{stderr}"
    );
    assert!(stdout.contains("streamed: 2 people"), "{stdout}");
}

/// Set in the child process of [`with_a_key_the_backend_is_the_real_api_from_the_environment`].
const CHILD: &str = "OPPER_TESTS_BACKEND_CHILD";

/// Replies to the child's calls, which go to the API named by the environment.
const ANSWER: &str = "from the API the environment names";

/// Ask for anything.
#[opper::function]
async fn ping(text: String) -> opper::Result<String>;

#[test]
fn with_a_key_the_backend_is_the_real_api_from_the_environment() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    if std::env::var_os(CHILD).is_some() {
        // The child: a key is set, so the backend is the API `OPPER_BASE_URL` names.
        return runtime.block_on(async {
            let backend = opper::testing::Backend::from_env().await;
            assert!(backend.server().is_none() && !backend.is_offline());
            assert_eq!(ping("default".into()).await.unwrap(), ANSWER);
            let opper = backend.client().unwrap();
            assert_eq!(ping_with(&opper, "explicit".into()).await.unwrap(), ANSWER);
        });
    }
    runtime.block_on(async {
        // Stands in for the real API: the child cannot tell.
        let server = opper::testing::MockServer::start().await;
        server
            .require_api_key("live-key")
            .reply("ping", opper::testing::Reply::text(ANSWER));
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--exact",
                "first_hour::with_a_key_the_backend_is_the_real_api_from_the_environment",
                "--nocapture",
            ])
            .env(CHILD, "1");
        offline_env(&mut command)
            .env("OPPER_API_KEY", "live-key")
            .env("OPPER_BASE_URL", server.url());
        let child = tokio::task::spawn_blocking(move || run(&mut command, BUILD_LIMIT));
        let output = child.await.unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stdout.contains("test result: ok. 1 passed"),
            "the child failed:\n{stdout}\n{stderr}"
        );
        assert!(!stderr.contains("running offline"), "{stderr}");
        let inputs: Vec<String> = server
            .requests_for("ping")
            .iter()
            .map(|request| request.input_json().unwrap()["text"].to_string())
            .collect();
        assert_eq!(inputs, ["\"default\"", "\"explicit\""]);
    });
}
